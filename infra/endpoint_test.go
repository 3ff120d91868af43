package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// roleARN is the ARN the mocked provider gives a stage's role: its path
// shows the policy took the role's real ARN, not one built by name.
func roleARN(stage, part, region string) string {
	return "arn:aws:iam::" + testAccount + ":role/from-provider/licences-" + stage + "-" + part + "-" + region
}

// permissions flattens a policy into "principal: action on resource" lines,
// sorted, and fails on any statement that is not an Allow.
func permissions(t *testing.T, doc PolicyDocument) []string {
	t.Helper()
	var out []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %s is %s, want Allow", s.Sid, s.Effect)
		}
		who := ""
		if s.Principal != nil {
			if len(s.Principal.AWS) != 1 || len(s.Principal.Service) != 0 {
				t.Errorf("statement %s names principals %+v, want exactly one role", s.Sid, s.Principal)
			}
			who = strings.Join(s.Principal.AWS, ",") + ": "
		}
		for _, a := range s.Action {
			for _, r := range s.Resource {
				out = append(out, who+a+" on "+r)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func diffLines(got, want []string) string {
	return "\n  " + strings.Join(got, "\n  ") + "\nwant:\n  " + strings.Join(want, "\n  ")
}

// Mutant: endpoint.go `PrivateDnsEnabled: pulumi.Bool(true)` -> `PrivateDnsEnabled: pulumi.Bool(false)`
func TestEngineEndpointIsPrivateInEverySubnet(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		spec := qldbEndpoint
		if d.config.LedgerEngine == env.AuroraPostgreSQL {
			spec = secretsEndpoint
		}
		ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", spec.name).Inputs
		if want := "com.amazonaws." + d.config.Region + "." + spec.service; ep["serviceName"] != want {
			t.Errorf("serviceName = %v, want %s", ep["serviceName"], want)
		}
		if ep["vpcEndpointType"] != "Interface" || ep["privateDnsEnabled"] != true {
			t.Errorf("type %v, private DNS %v: want Interface with private DNS", ep["vpcEndpointType"], ep["privateDnsEnabled"])
		}
		if got, want := strs(ep["subnetIds"]), isolatedSubnets(d); !slices.Equal(got, want) {
			t.Errorf("subnetIds = %v, want every isolated subnet %v", got, want)
		}
		if got := strs(ep["securityGroupIds"]); !slices.Equal(got, []string{"sg-" + spec.name}) {
			t.Errorf("securityGroupIds = %v, want the endpoint's own group", got)
		}
	})
}

// The QLDB endpoint admits the function roles, each for exactly its own
// ledger permissions.
// Mutant: ledger.go `Tables: []string{qldbSelect, qldbInsert,` -> `Tables: []string{qldbCreateTable, qldbSelect, qldbInsert,`
func TestQLDBEndpointPolicyAdmitsOnlyFunctionRolesForTheirNeeds(t *testing.T) {
	eachStage(t, onEngine(env.QLDB), func(t *testing.T, d *deployment) {
		doc := policy(t, d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "qldb-endpoint"), "policy")
		ledger := fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/licences-%s", d.config.Region, testAccount, d.config.Stage)
		api, erase, migrate := roleARN(d.config.Stage, "api", d.config.Region), roleARN(d.config.Stage, "erase", d.config.Region), roleARN(d.config.Stage, "migrate", d.config.Region)
		want := sorted([]string{
			api + ": qldb:SendCommand on " + ledger,
			api + ": qldb:PartiQLDelete on " + ledger + "/table/*",
			api + ": qldb:PartiQLHistoryFunction on " + ledger + "/table/*",
			api + ": qldb:PartiQLInsert on " + ledger + "/table/*",
			api + ": qldb:PartiQLSelect on " + ledger + "/table/*",
			api + ": qldb:PartiQLUpdate on " + ledger + "/table/*",
			erase + ": qldb:SendCommand on " + ledger,
			erase + ": qldb:PartiQLHistoryFunction on " + ledger + "/table/*",
			erase + ": qldb:PartiQLRedact on " + ledger + "/table/*",
			erase + ": qldb:PartiQLSelect on " + ledger + "/table/*",
			erase + ": qldb:PartiQLUpdate on " + ledger + "/table/*",
			erase + ": qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables",
			migrate + ": qldb:SendCommand on " + ledger,
			migrate + ": qldb:PartiQLCreateIndex on " + ledger + "/table/*",
			migrate + ": qldb:PartiQLCreateTable on " + ledger + "/table/*",
			migrate + ": qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables",
		})
		if got := permissions(t, doc); !slices.Equal(got, want) {
			t.Errorf("the QLDB endpoint allows:%s", diffLines(got, want))
		}
		assertNoWildcards(t, doc, nil)
	})
}

// Mutant: database.go `grants: []Grant{db.connectGrant(account, env.APIDatabaseUser)}` -> `grants: []Grant{db.connectGrant(account, env.APIDatabaseUser), db.secretGrants(nil)[0]}`
func TestSecretsEndpointAdmitsOnlyTheMigrationForItsSecret(t *testing.T) {
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		doc := policy(t, d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "secrets-endpoint"), "policy")
		want := []string{roleARN(d.config.Stage, "migrate", d.config.Region) + ": secretsmanager:GetSecretValue on " + secretARN}
		if got := permissions(t, doc); !slices.Equal(got, want) {
			t.Errorf("the Secrets Manager endpoint allows:%s", diffLines(got, want))
		}
		assertNoWildcards(t, doc, nil)
	})
}

// Mutant: engine.go `service: "xray", actions: "xray"` -> `service: "xray", actions: "qldb"`
func TestXRayEndpointOnlyWhereConfiguredAndGuarded(t *testing.T) {
	seen := map[bool]bool{}
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		eps := d.names("aws:ec2/vpcEndpoint:VpcEndpoint")
		has := slices.Contains(eps, "xray-endpoint")
		seen[has] = true
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
		var want []string
		for _, part := range partsOf(d) {
			for _, a := range tracingActions {
				want = append(want, roleARN(d.config.Stage, part, d.config.Region)+": "+a+" on *")
			}
		}
		want = sorted(want)
		if got := permissions(t, doc); !slices.Equal(got, want) {
			t.Errorf("the X-Ray endpoint allows:%s", diffLines(got, want))
		}
		assertNoWildcards(t, doc, tracingActions)
	})
	if !seen[true] || !seen[false] {
		t.Errorf("the shipped stages should show the X-Ray endpoint both on and off; saw %v", seen)
	}
}

// assertNoWildcards fails on a "*" principal, a wildcard in any action, and a
// bare "*" resource except for actions in anyResource, which AWS allows only
// on every resource.
func assertNoWildcards(t *testing.T, doc PolicyDocument, anyResource []string) {
	t.Helper()
	if len(doc.Statement) == 0 {
		t.Error("the policy has no statements")
	}
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

// Whether an endpoint takes a policy is AWS's answer (the endpoint
// service's VpcEndpointPolicySupported), not an assumption: where X-Ray's
// takes none the endpoint goes without, and where the ledger's or the
// secrets' took none the stage would refuse to deploy rather than open it.
//
// Mutant: endpoint.go `case args.PolicyOptional:` -> `case true:`
func TestEndpointPoliciesFollowWhatEachServiceTakes(t *testing.T) {
	cfg := stackConfig(t, "prod", nil)
	d, err := deployTo(t, &mocks{region: "eu-west-2", policyless: []string{"xray"}}, "prod", cfg)
	if err != nil {
		t.Fatalf("prod with an X-Ray endpoint that takes no policy: %v", err)
	}
	if p := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "xray-endpoint").Inputs["policy"]; p != nil {
		t.Errorf("the X-Ray endpoint has the policy %v although its service takes none", p)
	}
	if d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "secrets-endpoint").Inputs["policy"] == nil {
		t.Error("the Secrets Manager endpoint lost its policy")
	}
	for stage, service := range map[string]string{"qldb": "qldb.session", "prod": "secretsmanager"} {
		_, err := deployTo(t, &mocks{region: "eu-west-2", policyless: []string{service}}, stage, stackConfig(t, stage, nil))
		if err == nil || !strings.Contains(err.Error(), "takes no endpoint policy") {
			t.Errorf("%s with a %s endpoint that takes no policy: %v, want a refusal", stage, service, err)
		}
	}
}
