package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/route"
	"github.com/privateledger/licences/function/schema"
)

// The stages the repository ships; each test runs against the real stack files.
var stages = []string{"dev", "prod"}

func eachStage(t *testing.T, test func(t *testing.T, d *deployment)) {
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) { test(t, mustDeploy(t, stage, nil)) })
	}
}

func TestVPCHasDNSSupportAndHostnames(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		vpc := d.one(t, "awsx:ec2:Vpc", "network").Inputs
		if vpc["enableDnsSupport"] != true || vpc["enableDnsHostnames"] != true {
			t.Errorf("enableDnsSupport=%v enableDnsHostnames=%v, want both true", vpc["enableDnsSupport"], vpc["enableDnsHostnames"])
		}
	})
}

func TestVPCHasOnlyIsolatedSubnetsInConfiguredZones(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		vpc := d.one(t, "awsx:ec2:Vpc", "network").Inputs
		specs, _ := vpc["subnetSpecs"].([]any)
		if len(specs) != 1 || specs[0].(map[string]any)["type"] != "Isolated" {
			t.Errorf("subnetSpecs = %v, want one spec of type Isolated", specs)
		}
		if got := num(vpc["numberOfAvailabilityZones"]); got != d.config.AZCount || got < 2 {
			t.Errorf("numberOfAvailabilityZones = %d, want the configured %d (at least 2)", got, d.config.AZCount)
		}
		if vpc["subnetStrategy"] != "Auto" {
			t.Errorf("subnetStrategy = %v, want Auto", vpc["subnetStrategy"])
		}
		if vpc["cidrBlock"] != d.config.VPCCIDR.String() {
			t.Errorf("cidrBlock = %v, want %s", vpc["cidrBlock"], d.config.VPCCIDR)
		}
	})
}

func TestVPCHasNoNATGateways(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		nat, _ := d.one(t, "awsx:ec2:Vpc", "network").Inputs["natGateways"].(map[string]any)
		if nat["strategy"] != "None" {
			t.Errorf("natGateways = %v, want strategy None", nat)
		}
	})
}

func TestDefaultSecurityGroupIsStripped(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		sg := d.one(t, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default").Inputs
		if len(strs(sg["ingress"])) != 0 || len(strs(sg["egress"])) != 0 {
			t.Errorf("default security group keeps rules: ingress %v egress %v", sg["ingress"], sg["egress"])
		}
	})
}

// endpointSGs maps each endpoint's logical name to its security group id.
func endpointSGs(d *deployment) map[string]string {
	out := map[string]string{}
	for _, ep := range d.ofType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		out[ep.Name] = strs(ep.Inputs["securityGroupIds"])[0]
	}
	return out
}

func TestFunctionSecurityGroupEgressIsHTTPSToEachEndpointOnly(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		fnSG := "sg-network-function"
		sg := d.one(t, "aws:ec2/securityGroup:SecurityGroup", "network-function").Inputs
		if sg["egress"] != nil || sg["ingress"] != nil {
			t.Errorf("function security group has inline rules: %v", sg)
		}
		var egressTo []string
		for _, r := range d.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
			in := r.Inputs
			if in["securityGroupId"] != fnSG {
				t.Errorf("egress rule %s on %v: only the function group has egress rules", r.Name, in["securityGroupId"])
			}
			if in["ipProtocol"] != "tcp" || num(in["fromPort"]) != 443 || num(in["toPort"]) != 443 || in["cidrIpv4"] != nil || in["cidrIpv6"] != nil {
				t.Errorf("egress rule %s = %v, want tcp 443 to a security group only", r.Name, in)
			}
			egressTo = append(egressTo, fmt.Sprint(in["referencedSecurityGroupId"]))
		}
		var want []string
		for _, id := range endpointSGs(d) {
			want = append(want, id)
		}
		slices.Sort(egressTo)
		slices.Sort(want)
		if !slices.Equal(egressTo, want) {
			t.Errorf("function egress goes to %v, want exactly the endpoints' groups %v", egressTo, want)
		}
	})
}

func TestEndpointSecurityGroupIngressIsHTTPSFromFunctionsOnly(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		sgs := endpointSGs(d)
		ingress := d.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
		if len(ingress) != len(sgs) {
			t.Fatalf("%d ingress rules for %d endpoints, want one each", len(ingress), len(sgs))
		}
		var on []string
		for _, r := range ingress {
			in := r.Inputs
			if in["ipProtocol"] != "tcp" || num(in["fromPort"]) != 443 || num(in["toPort"]) != 443 ||
				in["referencedSecurityGroupId"] != "sg-network-function" || in["cidrIpv4"] != nil || in["cidrIpv6"] != nil {
				t.Errorf("ingress rule %s = %v, want tcp 443 from the function group only", r.Name, in)
			}
			on = append(on, fmt.Sprint(in["securityGroupId"]))
		}
		for name, sg := range sgs {
			if !slices.Contains(on, sg) {
				t.Errorf("endpoint %s's group %s has no ingress rule", name, sg)
			}
		}
		for _, sg := range d.ofType("aws:ec2/securityGroup:SecurityGroup") {
			if sg.Inputs["ingress"] != nil || sg.Inputs["egress"] != nil {
				t.Errorf("security group %s has inline rules", sg.Name)
			}
		}
	})
}

func TestEverySecurityGroupAndRuleIsDescribed(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		for _, typ := range []string{
			"aws:ec2/securityGroup:SecurityGroup",
			"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
			"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
		} {
			for _, r := range d.ofType(typ) {
				if desc, _ := r.Inputs["description"].(string); strings.TrimSpace(desc) == "" {
					t.Errorf("%s %s has no description", typ, r.Name)
				}
			}
		}
	})
}

func TestQLDBEndpointIsPrivateInEverySubnet(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "qldb-endpoint").Inputs
		if want := "com.amazonaws." + d.config.Region + ".qldb.session"; ep["serviceName"] != want {
			t.Errorf("serviceName = %v, want %s", ep["serviceName"], want)
		}
		if ep["vpcEndpointType"] != "Interface" || ep["privateDnsEnabled"] != true {
			t.Errorf("type %v, private DNS %v: want Interface with private DNS", ep["vpcEndpointType"], ep["privateDnsEnabled"])
		}
		if got, want := strs(ep["subnetIds"]), isolatedSubnets(d); !slices.Equal(got, want) {
			t.Errorf("subnetIds = %v, want every isolated subnet %v", got, want)
		}
		if got := strs(ep["securityGroupIds"]); !slices.Equal(got, []string{"sg-qldb-endpoint"}) {
			t.Errorf("securityGroupIds = %v, want the endpoint's own group", got)
		}
	})
}

// isolatedSubnets are the subnet ids the mocked VPC reports.
func isolatedSubnets(d *deployment) []string {
	var out []string
	for i := range d.config.AZCount {
		out = append(out, fmt.Sprintf("subnet-%d", i))
	}
	return out
}

const ledgerARNPrefix = "arn:aws:qldb:"

func roleARN(stage, part, region string) string {
	return "arn:aws:iam::" + testAccount + ":role/from-provider/licences-" + stage + "-" + part + "-" + region
}

func TestQLDBEndpointPolicyAdmitsOnlyFunctionRolesForTheirNeeds(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		doc := policy(t, d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "qldb-endpoint"), "policy")
		ledger := fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/licences-%s", d.config.Region, testAccount, d.config.Stage)
		api, migrate := roleARN(d.config.Stage, "api", d.config.Region), roleARN(d.config.Stage, "migrate", d.config.Region)
		want := map[string][]string{ // principal → "action on resource"
			api: {
				"qldb:SendCommand on " + ledger,
				"qldb:PartiQLDelete on " + ledger + "/table/*",
				"qldb:PartiQLHistoryFunction on " + ledger + "/table/*",
				"qldb:PartiQLInsert on " + ledger + "/table/*",
				"qldb:PartiQLSelect on " + ledger + "/table/*",
				"qldb:PartiQLUpdate on " + ledger + "/table/*",
			},
			migrate: {
				"qldb:SendCommand on " + ledger,
				"qldb:PartiQLCreateIndex on " + ledger + "/table/*",
				"qldb:PartiQLCreateTable on " + ledger + "/table/*",
				"qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables",
			},
		}
		got := map[string][]string{}
		for _, s := range doc.Statement {
			if s.Effect != "Allow" || s.Principal == nil || len(s.Principal.AWS) != 1 || len(s.Principal.Service) != 0 {
				t.Fatalf("statement %+v: want Allow for exactly one AWS principal", s)
			}
			p := s.Principal.AWS[0]
			for _, a := range s.Action {
				for _, r := range s.Resource {
					got[p] = append(got[p], a+" on "+r)
				}
			}
		}
		for p := range got {
			slices.Sort(got[p])
			slices.Sort(want[p])
		}
		if len(got) != len(want) {
			t.Errorf("principals = %v, want exactly the two function roles", keys(got))
		}
		for p, w := range want {
			if !slices.Equal(got[p], w) {
				t.Errorf("%s may:\n  %s\nwant:\n  %s", p, strings.Join(got[p], "\n  "), strings.Join(w, "\n  "))
			}
		}
		assertNoWildcards(t, doc, nil)
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// assertNoWildcards fails on a "*" principal, a wildcard in any action, and a
// bare "*" resource except for actions in anyResource, which AWS allows only
// on every resource.
func assertNoWildcards(t *testing.T, doc PolicyDocument, anyResource []string) {
	t.Helper()
	for _, s := range doc.Statement {
		if s.Principal != nil && (slices.Contains(s.Principal.AWS, "*") || slices.Contains(s.Principal.Service, "*")) {
			t.Errorf("statement %s: wildcard principal", s.Sid)
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				t.Errorf("statement %s: wildcard action %q", s.Sid, a)
			}
		}
		if slices.Contains(s.Resource, "*") {
			for _, a := range s.Action {
				if !slices.Contains(anyResource, a) {
					t.Errorf("statement %s: %s on resource *", s.Sid, a)
				}
			}
		}
		for _, r := range s.Resource {
			if r != "*" && !strings.HasPrefix(r, "arn:aws:") {
				t.Errorf("statement %s: resource %q is not an ARN", s.Sid, r)
			}
		}
	}
}

func TestXRayEndpointOnlyWhereConfiguredAndGuarded(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		eps := d.names("aws:ec2/vpcEndpoint:VpcEndpoint")
		has := slices.Contains(eps, "xray-endpoint")
		if has != d.config.XRayEndpoint {
			t.Fatalf("endpoints %v with xrayEndpoint=%v", eps, d.config.XRayEndpoint)
		}
		if !has {
			return
		}
		ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "xray-endpoint")
		if want := "com.amazonaws." + d.config.Region + ".xray"; ep.Inputs["serviceName"] != want || ep.Inputs["privateDnsEnabled"] != true {
			t.Errorf("x-ray endpoint %v, want %s with private DNS", ep.Inputs["serviceName"], want)
		}
		doc := policy(t, ep, "policy")
		var principals []string
		for _, s := range doc.Statement {
			principals = append(principals, s.Principal.AWS...)
			if !slices.Equal(s.Action, tracingActions) {
				t.Errorf("x-ray endpoint allows %v, want only %v", s.Action, tracingActions)
			}
		}
		slices.Sort(principals)
		want := []string{roleARN(d.config.Stage, "api", d.config.Region), roleARN(d.config.Stage, "migrate", d.config.Region)}
		if !slices.Equal(principals, want) {
			t.Errorf("x-ray endpoint principals %v, want %v", principals, want)
		}
		assertNoWildcards(t, doc, tracingActions)
	})
}

func TestLedgerIsStandardModeWithStageProtection(t *testing.T) {
	want := map[string]bool{"dev": false, "prod": true}
	eachStage(t, func(t *testing.T, d *deployment) {
		l := d.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs
		if l["permissionsMode"] != "STANDARD" {
			t.Errorf("permissionsMode = %v, want STANDARD", l["permissionsMode"])
		}
		if l["deletionProtection"] != want[d.config.Stage] {
			t.Errorf("deletionProtection = %v, want %v in %s", l["deletionProtection"], want[d.config.Stage], d.config.Stage)
		}
		if l["name"] != "licences-"+d.config.Stage {
			t.Errorf("name = %v", l["name"])
		}
	})
}

func TestLedgerKeyPerStage(t *testing.T) {
	dev := mustDeploy(t, "dev", nil)
	if keys := dev.ofType("aws:kms/key:Key"); len(keys) != 0 || dev.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"] != nil {
		t.Errorf("dev: want the AWS-owned key, got %d keys", len(keys))
	}
	prod := mustDeploy(t, "prod", nil)
	key := prod.one(t, "aws:kms/key:Key", "ledger").Inputs
	if key["enableKeyRotation"] != true {
		t.Errorf("prod key rotation = %v, want true", key["enableKeyRotation"])
	}
	if got := prod.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"]; !strings.HasPrefix(fmt.Sprint(got), "arn:aws:kms:") {
		t.Errorf("prod ledger kmsKey = %v, want the created key's ARN", got)
	}
	existing := "arn:aws:kms:eu-west-2:123456789012:key/0d1b2c3d-1111-4000-8000-000000000000"
	byARN := mustDeploy(t, "dev", map[string]string{"licences:kmsKey": existing})
	if len(byARN.ofType("aws:kms/key:Key")) != 0 || byARN.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"] != existing {
		t.Errorf("an existing key ARN must be used as is, without creating a key")
	}
}

func TestFunctionsRunInIsolatedSubnetsWithFunctionGroup(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		for _, fn := range d.ofType("aws:lambda/function:Function") {
			in := fn.Inputs
			vpc, _ := in["vpcConfig"].(map[string]any)
			if got := strs(vpc["subnetIds"]); !slices.Equal(got, isolatedSubnets(d)) {
				t.Errorf("%s subnets = %v, want %v", fn.Name, got, isolatedSubnets(d))
			}
			if got := strs(vpc["securityGroupIds"]); !slices.Equal(got, []string{"sg-network-function"}) {
				t.Errorf("%s security groups = %v, want the function group only", fn.Name, got)
			}
			if in["replaceSecurityGroupsOnDestroy"] != true {
				t.Errorf("%s replaceSecurityGroupsOnDestroy = %v, want true", fn.Name, in["replaceSecurityGroupsOnDestroy"])
			}
		}
	})
}

func TestFunctionsRuntimeSizingLogsAndTracing(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		sizing := map[string][2]int{
			"api":     {d.config.MemoryMB, d.config.TimeoutSeconds},
			"migrate": {migrationMemoryMB, migrationTimeoutSeconds},
		}
		for part, size := range sizing {
			in := d.one(t, "aws:lambda/function:Function", part).Inputs
			if in["runtime"] != "provided.al2023" || !slices.Equal(strs(in["architectures"]), []string{"arm64"}) || in["handler"] != part {
				t.Errorf("%s: runtime %v arch %v handler %v, want provided.al2023 arm64 %s", part, in["runtime"], in["architectures"], in["handler"], part)
			}
			if num(in["memorySize"]) != size[0] || num(in["timeout"]) != size[1] {
				t.Errorf("%s: memory %v timeout %v, want %v", part, in["memorySize"], in["timeout"], size)
			}
			if tc, _ := in["tracingConfig"].(map[string]any); tc["mode"] != "Active" {
				t.Errorf("%s: tracing %v, want Active", part, in["tracingConfig"])
			}
			if in["sourceCodeHash"] != testArtifact.SHA256 {
				t.Errorf("%s: sourceCodeHash %v, want the artifact's", part, in["sourceCodeHash"])
			}
			logName := "/aws/lambda/licences-" + d.config.Stage + "-" + part
			if lc, _ := in["loggingConfig"].(map[string]any); lc["logGroup"] != logName || lc["logFormat"] != "JSON" {
				t.Errorf("%s: logging %v, want JSON to %s", part, in["loggingConfig"], logName)
			}
			lg := d.one(t, "aws:cloudwatch/logGroup:LogGroup", part).Inputs
			if lg["name"] != logName || num(lg["retentionInDays"]) != d.config.LogRetentionDays {
				t.Errorf("%s: log group %v, want %s kept %d days", part, lg, logName, d.config.LogRetentionDays)
			}
			env, _ := in["environment"].(map[string]any)
			vars, _ := env["variables"].(map[string]any)
			if vars["LEDGER_NAME"] != "licences-"+d.config.Stage {
				t.Errorf("%s: LEDGER_NAME = %v", part, vars["LEDGER_NAME"])
			}
		}
	})
}

func TestRolePoliciesAreLeastPrivilege(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		ledger := fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/licences-%s", d.config.Region, testAccount, d.config.Stage)
		wantQLDB := map[string][]string{
			"api":     {"qldb:SendCommand on " + ledger, "qldb:PartiQLSelect on " + ledger + "/table/*", "qldb:PartiQLInsert on " + ledger + "/table/*", "qldb:PartiQLUpdate on " + ledger + "/table/*", "qldb:PartiQLDelete on " + ledger + "/table/*", "qldb:PartiQLHistoryFunction on " + ledger + "/table/*"},
			"migrate": {"qldb:SendCommand on " + ledger, "qldb:PartiQLCreateTable on " + ledger + "/table/*", "qldb:PartiQLCreateIndex on " + ledger + "/table/*", "qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables"},
		}
		for part, want := range wantQLDB {
			doc := policy(t, d.one(t, "aws:iam/rolePolicy:RolePolicy", part), "policy")
			assertNoWildcards(t, doc, append(slices.Clone(describeENIActions), tracingActions...))
			var qldb, logs []string
			for _, s := range doc.Statement {
				for _, a := range s.Action {
					for _, r := range s.Resource {
						switch {
						case strings.HasPrefix(a, "qldb:"):
							qldb = append(qldb, a+" on "+r)
						case strings.HasPrefix(a, "logs:"):
							logs = append(logs, r)
						}
					}
				}
			}
			slices.Sort(qldb)
			slices.Sort(want)
			if !slices.Equal(qldb, want) {
				t.Errorf("%s role's ledger access:\n  %s\nwant:\n  %s", part, strings.Join(qldb, "\n  "), strings.Join(want, "\n  "))
			}
			logGroup := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/licences-%s-%s:*", d.config.Region, testAccount, d.config.Stage, part)
			for _, r := range logs {
				if r != logGroup {
					t.Errorf("%s role may log to %s, want only its own group %s", part, r, logGroup)
				}
			}
		}
	})
}

func TestRolesTrustLambdaOnly(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	for _, part := range []string{"api", "migrate"} {
		doc := policy(t, d.one(t, "aws:iam/role:Role", part), "assumeRolePolicy")
		if len(doc.Statement) != 1 || !slices.Equal(doc.Statement[0].Principal.Service, []string{"lambda.amazonaws.com"}) ||
			!slices.Equal(doc.Statement[0].Action, []string{"sts:AssumeRole"}) {
			t.Errorf("%s trust policy = %+v, want lambda.amazonaws.com only", part, doc)
		}
	}
}

func TestSchemaMigrationRunsThroughTheEndpointWhenReady(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	inv := d.one(t, "aws:lambda/invocation:Invocation", "schema")
	if inv.Inputs["lifecycleScope"] != "CRUD" || inv.Inputs["functionName"] != "licences-dev-migrate" {
		t.Errorf("invocation %v, want CRUD scope on licences-dev-migrate", inv.Inputs)
	}
	if want := fmt.Sprintf(`{"schemaVersion":%d}`, schema.Version); inv.Inputs["input"] != want {
		t.Errorf("input = %v, want %s", inv.Inputs["input"], want)
	}
	dependsOn := func(r recorded, deps ...string) {
		t.Helper()
		for _, dep := range deps {
			if !slices.ContainsFunc(r.Deps, func(u string) bool { return strings.HasSuffix(u, dep) }) {
				t.Errorf("%s does not wait for %s; depends on %v", r.Name, dep, r.Deps)
			}
		}
	}
	// The migration waits for the ledger, the endpoint and its function;
	// the endpoint waits for the rules that open the path to it, and the
	// function for its role's policy.
	dependsOn(inv, "aws:qldb/ledger:Ledger::ledger", "aws:ec2/vpcEndpoint:VpcEndpoint::qldb-endpoint", "aws:lambda/function:Function::migrate")
	dependsOn(d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "qldb-endpoint"),
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::qldb-endpoint-from-functions",
		"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::qldb-endpoint-to-endpoint")
	dependsOn(d.one(t, "aws:lambda/function:Function", "migrate"), "aws:iam/rolePolicy:RolePolicy::migrate")
	// The API's stage goes live only once the schema exists.
	dependsOn(d.one(t, "aws:apigateway/stage:Stage", "api"), "aws:lambda/invocation:Invocation::schema")
}

func TestIntegrationsAreLambdaProxy(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	var proxied int
	for _, in := range d.ofType("aws:apigateway/integration:Integration") {
		if in.Inputs["httpMethod"] == "OPTIONS" {
			if in.Inputs["type"] != "MOCK" {
				t.Errorf("%s: preflight integration %v, want MOCK", in.Name, in.Inputs["type"])
			}
			continue
		}
		proxied++
		if in.Inputs["type"] != "AWS_PROXY" || in.Inputs["integrationHttpMethod"] != "POST" ||
			!strings.Contains(fmt.Sprint(in.Inputs["uri"]), "function:licences-dev-api/invocations") {
			t.Errorf("%s = %v, want AWS_PROXY by POST to the api function", in.Name, in.Inputs)
		}
	}
	if proxied != len(route.Routes()) {
		t.Errorf("%d proxied integrations, want one per route (%d)", proxied, len(route.Routes()))
	}
}

func TestInvokePermissionsAreScopedToThisAPIStageAndRoute(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	exec := "arn:aws:execute-api:" + d.config.Region + ":" + testAccount + ":api0123456/dev/"
	var got []string
	for _, p := range d.ofType("aws:lambda/permission:Permission") {
		in := p.Inputs
		if in["principal"] != "apigateway.amazonaws.com" || in["action"] != "lambda:InvokeFunction" || in["function"] != "licences-dev-api" {
			t.Errorf("%s = %v", p.Name, in)
		}
		got = append(got, fmt.Sprint(in["sourceArn"]))
	}
	var want []string
	for _, r := range route.Routes() {
		want = append(want, exec+r.ARNPath())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("source ARNs:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestStageTracesThrottlesAndLogs(t *testing.T) {
	eachStage(t, func(t *testing.T, d *deployment) {
		stage := d.one(t, "aws:apigateway/stage:Stage", "api").Inputs
		if stage["stageName"] != d.config.Stage || stage["xrayTracingEnabled"] != true {
			t.Errorf("stage %v tracing %v, want %s traced", stage["stageName"], stage["xrayTracingEnabled"], d.config.Stage)
		}
		logs, _ := stage["accessLogSettings"].(map[string]any)
		want := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/apigateway/licences-%s/access", d.config.Region, testAccount, d.config.Stage)
		if logs["destinationArn"] != want || !strings.Contains(fmt.Sprint(logs["format"]), `"requestId":"$context.requestId"`) {
			t.Errorf("access logs %v, want JSON to %s", logs, want)
		}
		s, _ := d.one(t, "aws:apigateway/methodSettings:MethodSettings", "api").Inputs["settings"].(map[string]any)
		if s["throttlingRateLimit"] != d.config.ThrottleRateLimit || num(s["throttlingBurstLimit"]) != d.config.ThrottleBurstLimit {
			t.Errorf("throttling %v, want rate %g burst %d", s, d.config.ThrottleRateLimit, d.config.ThrottleBurstLimit)
		}
		api := d.one(t, "aws:apigateway/restApi:RestApi", "api").Inputs
		if ec, _ := api["endpointConfiguration"].(map[string]any); ec["types"] != "REGIONAL" {
			t.Errorf("endpoint configuration %v, want REGIONAL", api["endpointConfiguration"])
		}
	})
}

func TestCORSPreflightOnEveryPath(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	paths := map[string][]string{}
	for _, r := range route.Routes() {
		paths[r.Path] = append(paths[r.Path], r.Method)
	}
	responses := d.ofType("aws:apigateway/integrationResponse:IntegrationResponse")
	if len(responses) != len(paths) {
		t.Fatalf("%d preflight responses, want one per path (%d)", len(responses), len(paths))
	}
	for _, r := range responses {
		params, _ := r.Inputs["responseParameters"].(map[string]any)
		if params["method.response.header.Access-Control-Allow-Origin"] != "'*'" ||
			!strings.Contains(fmt.Sprint(params["method.response.header.Access-Control-Allow-Headers"]), "Idempotency-Key") {
			t.Errorf("%s: CORS headers %v", r.Name, params)
		}
	}
}

func TestDeploymentFollowsRoutes(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	dep := d.one(t, "aws:apigateway/deployment:Deployment", "api")
	triggers, _ := dep.Inputs["triggers"].(map[string]any)
	if len(fmt.Sprint(triggers["routes"])) != 64 || triggers["function"] == nil {
		t.Errorf("deployment triggers %v, want a routes hash and the function", triggers)
	}
	methods := 0
	for _, u := range dep.Deps {
		if strings.Contains(u, "aws:apigateway/method:Method::") {
			methods++
		}
	}
	if want := len(route.Routes()) + 5; methods != want {
		t.Errorf("deployment waits for %d methods, want every route and preflight (%d)", methods, want)
	}
}

func TestEveryAWSResourceUsesTheTaggingProvider(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	p := d.one(t, "pulumi:providers:aws", "aws").Inputs
	tags, _ := p["defaultTags"].(map[string]any)
	if want := map[string]any{"project": "licences", "stage": "dev"}; fmt.Sprint(tags["tags"]) != fmt.Sprint(want) {
		t.Errorf("default tags %v, want %v", tags, want)
	}
	if p["region"] != "eu-west-2" {
		t.Errorf("provider region %v", p["region"])
	}
	for _, r := range d.resources {
		if strings.HasPrefix(r.Type, "aws:") && !strings.Contains(r.Provider, "::pulumi:providers:aws::aws::") {
			t.Errorf("%s %s uses provider %q, not the tagging provider", r.Type, r.Name, r.Provider)
		}
	}
	for _, c := range d.calls {
		if !strings.Contains(c.Provider, "::pulumi:providers:aws::aws::") {
			t.Errorf("%s called with provider %q", c.Token, c.Provider)
		}
	}
}

func TestStackOutputs(t *testing.T) {
	d := mustDeploy(t, "prod", nil)
	want := map[string]any{
		"apiUrl":                  "https://api0123456.execute-api.eu-west-2.amazonaws.com/prod",
		"ledgerName":              "licences-prod",
		"vpcId":                   "vpc-1",
		"subnetIds":               []any{"subnet-0", "subnet-1", "subnet-2"},
		"endpointId":              "vpce-qldb-endpoint",
		"endpointDnsNames":        []any{"vpce-qldb-endpoint.qldb.session.eu-west-2.vpce.amazonaws.com"},
		"functionSecurityGroupId": "sg-network-function",
		"endpointSecurityGroupId": "sg-qldb-endpoint",
		"apiFunctionName":         "licences-prod-api",
		"migrationFunctionName":   "licences-prod-migrate",
		"xrayEndpointId":          "vpce-xray-endpoint",
	}
	if fmt.Sprint(d.outputs) != fmt.Sprint(want) {
		t.Errorf("outputs:\n %v\nwant:\n %v", d.outputs, want)
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
	if len(dev.ofType("aws:kms/key:Key")) != 0 || len(prod.ofType("aws:kms/key:Key")) != 1 {
		t.Error("customer-managed key: want none in dev, one in prod")
	}
	if len(dev.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")) != 1 || len(prod.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")) != 2 {
		t.Error("endpoints: want QLDB only in dev, QLDB and X-Ray in prod")
	}
	if prod.config.MemoryMB <= dev.config.MemoryMB || prod.config.LogRetentionDays <= dev.config.LogRetentionDays {
		t.Errorf("prod memory %d and retention %d should exceed dev's %d and %d",
			prod.config.MemoryMB, prod.config.LogRetentionDays, dev.config.MemoryMB, dev.config.LogRetentionDays)
	}
	if prod.config.ThrottleRateLimit <= dev.config.ThrottleRateLimit || prod.config.ThrottleBurstLimit <= dev.config.ThrottleBurstLimit {
		t.Error("prod throttling should allow more than dev's")
	}
	if prod.config.VPCCIDR == dev.config.VPCCIDR {
		t.Errorf("dev and prod share %s; want separate ranges so they can be peered", dev.config.VPCCIDR)
	}
}
