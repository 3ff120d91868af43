package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Mutant: stack.go `opts: pulumi.Providers(provider), invoke: pulumi.Provider(provider)}` -> `opts: pulumi.Providers(), invoke: pulumi.Provider(provider)}`
func TestEveryAWSResourceUsesTheTaggingProvider(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		p := d.one(t, "pulumi:providers:aws", "aws").Inputs
		tags, _ := p["defaultTags"].(map[string]any)
		if want := map[string]any{"project": "licences", "stage": d.config.Stage}; fmt.Sprint(tags["tags"]) != fmt.Sprint(want) {
			t.Errorf("default tags %v, want %v", tags, want)
		}
		if p["region"] != d.config.Region {
			t.Errorf("provider region %v, want %s", p["region"], d.config.Region)
		}
		n := 0
		for _, r := range d.resources {
			switch {
			case strings.HasPrefix(r.Type, "aws:"):
				n++
				if !strings.Contains(r.Provider, "::pulumi:providers:aws::aws::") {
					t.Errorf("%s %s uses provider %q, not the tagging provider", r.Type, r.Name, r.Provider)
				}
			case strings.HasPrefix(r.Type, "awsx:"):
				// A component of another package (awsx) makes its AWS
				// resources with the providers its parent component
				// declares: the engine merges the parent's providers map
				// into a remote component's (pulumi/pulumi#24125).
				n++
				parent := d.byURN(t, r.Parent)
				if !strings.Contains(parent.Providers["aws"], "::pulumi:providers:aws::aws::") {
					t.Errorf("%s %s's parent %s hands its children providers %v, not the tagging provider", r.Type, r.Name, parent.Name, parent.Providers)
				}
			}
		}
		if n < 30 {
			t.Errorf("only %d AWS resources checked", n)
		}
		if len(d.calls) == 0 {
			t.Error("no provider function was called: the account lookups are missing")
		}
		for _, c := range d.calls {
			if !strings.Contains(c.Provider, "::pulumi:providers:aws::aws::") {
				t.Errorf("%s called with provider %q", c.Token, c.Provider)
			}
		}
	})
}

func TestStackOutputs(t *testing.T) {
	common := func(stage string, subnets int) map[string]any {
		var ids []any
		for i := range subnets {
			ids = append(ids, fmt.Sprintf("subnet-%d", i))
		}
		return map[string]any{
			"apiUrl":                  "https://api0123456.execute-api.eu-west-2.amazonaws.com/" + stage,
			"vpcId":                   "vpc-1",
			"subnetIds":               ids,
			"functionSecurityGroupId": "sg-network-function",
			"apiFunctionName":         "licences-" + stage + "-api",
			"eraseFunctionName":       "licences-" + stage + "-erase",
			"migrationFunctionName":   "licences-" + stage + "-migrate",
			"apiClientPolicyArn":      "arn:aws:iam::123456789012:policy/licences-" + stage + "-api-client-eu-west-2",
			"apiEraserPolicyArn":      "arn:aws:iam::123456789012:policy/licences-" + stage + "-eraser-client-eu-west-2",
			"alarmTopicArn":           "arn:aws:sns:eu-west-2:123456789012:licences-" + stage + "-alarms",
			"dashboardUrl":            "https://eu-west-2.console.aws.amazon.com/cloudwatch/home?region=eu-west-2#dashboards:name=licences-" + stage,
		}
	}
	with := func(m map[string]any, more map[string]any) map[string]any {
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	endpoint := func(stem, name, service string) map[string]any {
		return map[string]any{
			stem + "Id":              "vpce-" + name,
			stem + "DnsNames":        []any{"vpce-" + name + "." + service + ".eu-west-2.vpce.amazonaws.com"},
			stem + "SecurityGroupId": "sg-" + name,
		}
	}
	for stage, want := range map[string]map[string]any{
		"qldb": with(with(common("qldb", 2), endpoint("qldbEndpoint", "qldb-endpoint", "qldb.session")),
			map[string]any{"ledgerName": "licences-qldb"}),
		"dev": with(with(common("dev", 2), endpoint("secretsEndpoint", "secrets-endpoint", "secretsmanager")),
			map[string]any{"databaseEndpoint": "licences-dev.cluster-c1.eu-west-2.rds.amazonaws.com", "databaseSecurityGroupId": "sg-database",
				"digestBucketName": digestBucketName("dev"), "digestFunctionName": "licences-dev-digest",
				"databaseEngineVersion": auroraEngineVersion}),
		"prod": with(with(with(common("prod", 3), endpoint("secretsEndpoint", "secrets-endpoint", "secretsmanager")), endpoint("xrayEndpoint", "xray-endpoint", "xray")),
			map[string]any{"databaseEndpoint": "licences-prod.cluster-c1.eu-west-2.rds.amazonaws.com", "databaseSecurityGroupId": "sg-database",
				"digestBucketName": digestBucketName("prod"), "digestFunctionName": "licences-prod-digest",
				"databaseEngineVersion": auroraEngineVersion}),
	} {
		d := mustDeploy(t, stage, nil)
		if fmt.Sprint(d.outputs) != fmt.Sprint(want) {
			t.Errorf("%s outputs:\n %v\nwant:\n %v", stage, d.outputs, want)
		}
	}
}

func TestStagesDifferAsPromised(t *testing.T) {
	dev, prod := mustDeploy(t, "dev", nil), mustDeploy(t, "prod", nil)
	if dev.config.AZCount != 2 || prod.config.AZCount != 3 {
		t.Errorf("zones: dev %d, prod %d; want 2 and 3", dev.config.AZCount, prod.config.AZCount)
	}
	if dev.config.DeletionProtection || !prod.config.DeletionProtection {
		t.Errorf("deletion protection: dev %v, prod %v; want off and on", dev.config.DeletionProtection, prod.config.DeletionProtection)
	}
	if slices.Contains(dev.names("aws:kms/key:Key"), "key") || !slices.Equal(prod.names("aws:kms/key:Key"), []string{"key"}) {
		t.Error("stage key: want none in dev, one in prod, for everything")
	}
	// Each Aurora stage: Secrets Manager's interface endpoint and S3's
	// gateway endpoint (the digests); prod adds X-Ray's.
	if len(dev.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")) != 2 || len(prod.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")) != 3 {
		t.Error("endpoints: want Secrets Manager only in dev, Secrets Manager and X-Ray in prod")
	}
	if prod.config.MemoryMB <= dev.config.MemoryMB || prod.config.LogRetentionDays <= dev.config.LogRetentionDays {
		t.Errorf("prod memory %d and retention %d should exceed dev's %d and %d",
			prod.config.MemoryMB, prod.config.LogRetentionDays, dev.config.MemoryMB, dev.config.LogRetentionDays)
	}
	if prod.config.ThrottleRateLimit <= dev.config.ThrottleRateLimit || prod.config.ThrottleBurstLimit <= dev.config.ThrottleBurstLimit {
		t.Error("prod throttling should allow more than dev's")
	}
	var ranges []string
	for _, stage := range shippedStages {
		ranges = append(ranges, mustDeploy(t, stage, nil).config.VPCCIDR.String())
	}
	if slices.Sort(ranges); len(slices.Compact(slices.Clone(ranges))) != len(ranges) {
		t.Errorf("stages share VPC ranges %v; want separate ranges so they can be peered", ranges)
	}
}
