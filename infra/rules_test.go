package infra

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// The published rules (Checkov ids) each test answers for: see the README's
// table of rules.

// CKV_AWS_115: every function has a concurrency limit where the stage
// reserves; the migration, erase and digest functions reserve one.
//
// Mutant: stack.go `			out[p] = 1` -> `			out[p] = 0`
// Mutant: function.go `ReservedConcurrentExecutions: pulumi.Int(reservation(args.ReservedConcurrency)),` -> `ReservedConcurrentExecutions: pulumi.Int(-1),`
func TestFunctionsReserveConcurrencyWhereTheStageDoes(t *testing.T) {
	seen := map[bool]bool{}
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		reserves := d.config.APIReservedConcurrency > 0
		seen[reserves] = true
		for _, part := range partsOf(d) {
			want := -1
			switch {
			case part == apiPart && reserves:
				want = d.config.APIReservedConcurrency
			case reserves:
				want = 1
			}
			if got := num(d.one(t, "aws:lambda/function:Function", part).Inputs["reservedConcurrentExecutions"]); got != want {
				t.Errorf("%s reserves %d executions, want %d", part, got, want)
			}
		}
	})
	if !seen[true] || !seen[false] {
		t.Errorf("the shipped stages should show reservations both on and off: %v", seen)
	}
}

// An Aurora stage whose reservation cannot fit the connections the cluster
// accepts is refused with the numbers; one that fits is accepted.
//
// Mutant: config.go `return c.APIReservedConcurrency > 0 && c.connectionBudget() > c.maxConnections()` -> `return false`
func TestTheReservationMustFitTheConnectionBudget(t *testing.T) {
	// prod: 0.5 to 4 ACUs: at least 756 connections (189 per ACU).
	_, err := deploy(t, "prod", stackConfig(t, "prod", map[string]string{"licences:apiReservedConcurrency": "800"}))
	for _, w := range []string{"licences:apiReservedConcurrency", "800 API executions", "813 connections", "4 ACUs", "accepts 756", "at most 743"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("a reservation past the budget: %v, want it to say %q", err, w)
		}
	}
	for _, ok := range []string{"743", "50"} {
		if _, err := deploy(t, "prod", stackConfig(t, "prod", map[string]string{"licences:apiReservedConcurrency": ok})); err != nil {
			t.Errorf("a reservation of %s within the budget: %v", ok, err)
		}
	}
	// A larger cluster takes more: 32 ACUs from a 1 ACU minimum take 5,000.
	if _, err := deploy(t, "prod", stackConfig(t, "prod", map[string]string{"licences:apiReservedConcurrency": "1000", "licences:auroraMinCapacity": "1", "licences:auroraMaxCapacity": "32"})); err != nil {
		t.Errorf("a large cluster refused a reservation it fits: %v", err)
	}
	if d := mustDeploy(t, "dev", nil); d.config.APIReservedConcurrency != 0 {
		t.Errorf("dev reserves %d, want none (new accounts may have a quota of 10)", d.config.APIReservedConcurrency)
	}
}

// stageKeyARN is the stage key's ARN, or "" for a stage without one.
func stageKeyARN(d *deployment) string {
	switch d.config.KMSKey {
	case "":
		return ""
	case KMSKeyCreate:
		return fmt.Sprintf("arn:aws:kms:%s:%s:key/0d1b2c3d-0000-4000-8000-000000000000", d.config.Region, testAccount)
	}
	return d.config.KMSKey
}

// CKV_AWS_158 and CKV_AWS_173: where the stage has a key, every log group
// and every function's environment is encrypted with it, and the key's
// policy lets CloudWatch Logs use it for this stage's log groups, and
// only those.
//
// Mutant: logs.go `		KmsKeyId:        g.KMSKeyARN,` -> `		KmsKeyId:        nil,`
// Mutant: function.go `		KmsKeyArn:   args.KMSKeyARN,` -> `		KmsKeyArn:   nil,`
// Mutant: kms.go `				Condition: Condition{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}}},` -> `				Condition: nil},`
// Mutant: names.go `		"/aws/lambda/" + n.prefix() + "-*",` -> `		"/aws/lambda/*",`
func TestOneStageKeyEncryptsEveryLogGroupAndEnvironment(t *testing.T) {
	seen := map[bool]bool{}
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		key := stageKeyARN(d)
		seen[key != ""] = true
		var patterns []string
		if d.config.KMSKey == KMSKeyCreate {
			doc := policy(t, d.one(t, "aws:kms/key:Key", "key"), "policy")
			for _, s := range doc.Statement {
				switch s.Sid {
				case "AccountAdministersThroughIAM":
					if !slices.Equal(s.Principal.AWS, []string{"arn:aws:iam::" + testAccount + ":root"}) {
						t.Errorf("key administered by %v, want the account", s.Principal)
					}
				case "CloudWatchLogsForThisStage":
					patterns = s.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
					if !slices.Equal(s.Principal.Service, []string{"logs." + d.config.Region + ".amazonaws.com"}) || len(patterns) == 0 || len(s.Condition) != 1 {
						t.Errorf("logs statement %+v, want CloudWatch Logs of %s for the stage's groups", s, d.config.Region)
					}
				}
			}
			if len(patterns) == 0 {
				t.Fatalf("the key's policy %+v has no statement for CloudWatch Logs: the first log group would fail", doc)
			}
		}
		groups := d.ofType("aws:cloudwatch/logGroup:LogGroup")
		if len(groups) < len(partsOf(d))+1 {
			t.Fatalf("%d log groups", len(groups))
		}
		for _, g := range groups {
			got, _ := g.Inputs["kmsKeyId"].(string)
			if got != key {
				t.Errorf("log group %v: key %q, want %q", g.Inputs["name"], got, key)
			}
			if patterns == nil {
				continue
			}
			arn := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", d.config.Region, testAccount, g.Inputs["name"])
			if !slices.ContainsFunc(patterns, func(p string) bool { ok, _ := path.Match(p, arn); return ok || p == arn }) {
				t.Errorf("log group %s is not among the key policy's %v: CloudWatch Logs could not use the key for it", arn, patterns)
			}
		}
		for _, p := range patterns {
			if !strings.Contains(p, "licences-"+d.config.Stage) {
				t.Errorf("the key lets CloudWatch Logs encrypt %s, beyond this stage", p)
			}
		}
		for _, part := range partsOf(d) {
			got, _ := d.one(t, "aws:lambda/function:Function", part).Inputs["kmsKeyArn"].(string)
			if got != key {
				t.Errorf("%s environment key %q, want %q", part, got, key)
			}
		}
	})
	if !seen[true] || !seen[false] {
		t.Errorf("the shipped stages should show the stage key both on and off: %v", seen)
	}
}

// CKV_AWS_324 and CKV_AWS_353, pgAudit and a standby in another zone: the
// postgresql log exported to a log group the stack makes (key,
// retention), pgAudit loaded through the cluster's parameter group,
// Performance Insights on every instance under the stage key, readers in
// other zones, minor versions upgraded automatically.
//
// Mutant: database.go `		EnabledCloudwatchLogsExports:     pulumi.StringArray{pulumi.String("postgresql")},` -> `		EnabledCloudwatchLogsExports:     pulumi.StringArray{},`
// Mutant: database.go `	{"pgaudit.log", "ddl,role,write", "immediate"},` -> `	{"pgaudit.log", "none", "immediate"},`
// Mutant: database.go `			PerformanceInsightsEnabled:         pulumi.Bool(insights),` -> `			PerformanceInsightsEnabled:         pulumi.Bool(false),`
// Mutant: database.go `			AvailabilityZone:                   zones.ApplyT(func(z []string) string { return z[i%len(z)] }).(pulumi.StringOutput),` -> `			AvailabilityZone:                   zones.ApplyT(func(z []string) string { return z[0] }).(pulumi.StringOutput),`
func TestAuroraIsReadyForProduction(t *testing.T) {
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		cluster := d.one(t, "aws:rds/cluster:Cluster", "database")
		id := "licences-" + d.config.Stage
		if !slices.Equal(strs(cluster.Inputs["enabledCloudwatchLogsExports"]), []string{"postgresql"}) || cluster.Inputs["dbClusterParameterGroupName"] != id {
			t.Errorf("cluster exports %v with parameter group %v, want the postgresql log and %s", cluster.Inputs["enabledCloudwatchLogsExports"], cluster.Inputs["dbClusterParameterGroupName"], id)
		}
		logs := d.one(t, "aws:cloudwatch/logGroup:LogGroup", "database-postgresql").Inputs
		if logs["name"] != "/aws/rds/cluster/"+id+"/postgresql" || num(logs["retentionInDays"]) != d.config.LogRetentionDays {
			t.Errorf("database log group %v, want RDS's name kept %d days", logs, d.config.LogRetentionDays)
		}
		dependsOn(t, cluster, "aws:cloudwatch/logGroup:LogGroup::database-postgresql")
		pg := d.one(t, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "database").Inputs
		params := map[string]string{}
		for _, p := range pg["parameters"].([]any) {
			m := p.(map[string]any)
			params[fmt.Sprint(m["name"])] = fmt.Sprint(m["value"]) + " " + fmt.Sprint(m["applyMethod"])
		}
		if pg["family"] != "aurora-postgresql16" || !strings.Contains(params["shared_preload_libraries"], "pgaudit") ||
			!strings.HasSuffix(params["shared_preload_libraries"], "pending-reboot") || params["pgaudit.log"] != "ddl,role,write immediate" {
			t.Errorf("parameter group %v %v, want pgAudit loaded and logging DDL, roles and writes", pg["family"], params)
		}
		instances := d.all(t, "aws:rds/clusterInstance:ClusterInstance", 1+d.config.AuroraReaders)
		zones := map[string]bool{}
		for _, in := range instances {
			i := in.Inputs
			key, _ := i["performanceInsightsKmsKeyId"].(string)
			if i["performanceInsightsEnabled"] != !d.config.pauses() || key != stageKeyARN(d) || i["autoMinorVersionUpgrade"] != true {
				t.Errorf("%s: performance insights %v under %v, minor upgrades %v", in.Name, i["performanceInsightsEnabled"], i["performanceInsightsKmsKeyId"], i["autoMinorVersionUpgrade"])
			}
			zones[fmt.Sprint(i["availabilityZone"])] = true
		}
		if len(zones) != min(len(instances), d.config.AZCount) {
			t.Errorf("%d instances in zones %v, want each in another zone", len(instances), zones)
		}
		if d.config.Stage == "prod" && d.config.AuroraReaders != 1 {
			t.Errorf("prod runs %d readers, want 1: a zone's loss must fail over", d.config.AuroraReaders)
		}
	})
}

// CKV2_AWS_11: VPC flow logs where the stage asks (prod), to a
// log group with the stage's retention and key, through a role only VPC
// Flow Logs of this account may assume.
//
// Mutant: stack.go `	if cfg.FlowLogs {` -> `	if false {`
// Mutant: policy.go `			Condition: Condition{"StringEquals": {"aws:SourceAccount": {id}}},` -> `			Condition: nil,`
func TestFlowLogsWhereTheStageAsks(t *testing.T) {
	seen := map[bool][]string{}
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		seen[d.config.FlowLogs] = append(seen[d.config.FlowLogs], d.config.Stage)
		logs := d.ofType("aws:ec2/flowLog:FlowLog")
		if !d.config.FlowLogs {
			if len(logs) != 0 {
				t.Errorf("flow logs on a stage without flowLogs")
			}
			return
		}
		fl := d.one(t, "aws:ec2/flowLog:FlowLog", "flow-logs").Inputs
		group := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/vpc/licences-%s/flow", d.config.Region, testAccount, d.config.Stage)
		if fl["vpcId"] != "vpc-1" || fl["trafficType"] != "ALL" || fl["logDestinationType"] != "cloud-watch-logs" || fl["logDestination"] != group {
			t.Errorf("flow log %v, want every flow of the VPC to %s", fl, group)
		}
		lg := d.one(t, "aws:cloudwatch/logGroup:LogGroup", "flow-logs").Inputs
		if num(lg["retentionInDays"]) != d.config.LogRetentionDays {
			t.Errorf("flow log group %v, want %d days", lg, d.config.LogRetentionDays)
		}
		trust := policy(t, d.one(t, "aws:iam/role:Role", "flow-logs"), "assumeRolePolicy")
		cond, _ := json.Marshal(trust.Statement[0].Condition)
		if !slices.Equal(trust.Statement[0].Principal.Service, []string{"vpc-flow-logs.amazonaws.com"}) || string(cond) != `{"StringEquals":{"aws:SourceAccount":["`+testAccount+`"]}}` {
			t.Errorf("flow log role trust %+v, want VPC Flow Logs of this account", trust)
		}
		want := sorted([]string{"logs:CreateLogStream on " + group, "logs:CreateLogStream on " + group + ":*", "logs:PutLogEvents on " + group, "logs:PutLogEvents on " + group + ":*",
			"logs:DescribeLogGroups on " + group, "logs:DescribeLogGroups on " + group + ":*", "logs:DescribeLogStreams on " + group, "logs:DescribeLogStreams on " + group + ":*"})
		if got := rolePermissions(t, d, "licences-"+d.config.Stage+"-flow-logs-"+d.config.Region); !slices.Equal(got, want) {
			t.Errorf("the flow log role may:%s", diffLines(got, want))
		}
	})
	if !slices.Contains(seen[true], "prod") || !slices.Contains(seen[false], "dev") || !slices.Contains(seen[false], "qldb") {
		t.Errorf("flow logs on %v and off %v, want on in prod, off in dev and qldb", seen[true], seen[false])
	}
}
