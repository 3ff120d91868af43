package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// aurora deploys the repository's Aurora stage, staging.
func aurora(t *testing.T, overrides map[string]string) *deployment {
	t.Helper()
	d := mustDeploy(t, "staging", overrides)
	if d.config.LedgerEngine != EngineAurora {
		t.Fatalf("Pulumi.staging.yaml uses %s, want %s", d.config.LedgerEngine, EngineAurora)
	}
	return d
}

func TestEachEngineCreatesOnlyItsOwnResources(t *testing.T) {
	for _, stage := range stages {
		d := mustDeploy(t, stage, nil)
		for _, r := range d.resources {
			if strings.HasPrefix(r.Type, "aws:rds/") || strings.Contains(r.Name, "secrets") {
				t.Errorf("%s (qldb) has %s %s", stage, r.Type, r.Name)
			}
		}
	}
	d := aurora(t, nil)
	for _, r := range d.resources {
		if strings.HasPrefix(r.Type, "aws:qldb/") || strings.Contains(r.Name, "qldb") || r.Type == "licences:infra:Ledger" {
			t.Errorf("staging (aurora) has %s %s", r.Type, r.Name)
		}
	}
	if len(d.ofType("aws:rds/cluster:Cluster")) != 1 || len(d.ofType("aws:rds/clusterInstance:ClusterInstance")) != 1 {
		t.Error("staging has no Aurora cluster and writer")
	}
}

func TestAuroraClusterSettings(t *testing.T) {
	d := aurora(t, nil)
	c := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs
	for key, want := range map[string]any{
		"engine":                           "aurora-postgresql",
		"engineMode":                       "provisioned",
		"iamDatabaseAuthenticationEnabled": true,
		"storageEncrypted":                 true,
		"manageMasterUserPassword":         true,
		"deletionProtection":               true,
		"skipFinalSnapshot":                false,
		"finalSnapshotIdentifier":          "licences-staging-final",
		"port":                             float64(5432),
	} {
		if c[key] != want {
			t.Errorf("cluster %s = %v, want %v", key, c[key], want)
		}
	}
	if num(c["backupRetentionPeriod"]) != 14 {
		t.Errorf("backup retention %v, want the stage's 14 days", c["backupRetentionPeriod"])
	}
	scaling, _ := c["serverlessv2ScalingConfiguration"].(map[string]any)
	if scaling["minCapacity"] != 0.5 || scaling["maxCapacity"] != float64(4) {
		t.Errorf("scaling %v, want 0.5 to 4 ACUs", scaling)
	}
	if !strings.HasPrefix(fmt.Sprint(c["kmsKeyId"]), "arn:aws:kms:") {
		t.Errorf("kmsKeyId %v, want the stage's customer-managed key", c["kmsKeyId"])
	}
	if _, ok := c["masterPassword"]; ok {
		t.Error("the master password is in the program's inputs: it must be managed by AWS")
	}
	in := d.one(t, "aws:rds/clusterInstance:ClusterInstance", "database-writer").Inputs
	if in["publiclyAccessible"] != false || in["instanceClass"] != "db.serverless" {
		t.Errorf("writer %v, want db.serverless and not publicly accessible", in)
	}
	sg := d.one(t, "aws:rds/subnetGroup:SubnetGroup", "database").Inputs
	if got := strs(sg["subnetIds"]); !slices.Equal(got, isolatedSubnets(d)) {
		t.Errorf("db subnets %v, want the isolated subnets", got)
	}
}

func TestAuroraDeletionProtectionPerStage(t *testing.T) {
	off := aurora(t, map[string]string{"licences:deletionProtection": "false"})
	if off.one(t, "aws:rds/cluster:Cluster", "database").Inputs["deletionProtection"] != false {
		t.Error("deletionProtection false is not passed to the cluster")
	}
}

func TestAuroraSecurityGroupRulesExactly(t *testing.T) {
	d := aurora(t, nil)
	type rule struct{ on, to string }
	var egress, ingress []string
	for _, r := range d.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
		in := r.Inputs
		egress = append(egress, fmt.Sprintf("%v tcp %d-%d to %v", in["securityGroupId"], num(in["fromPort"]), num(in["toPort"]), in["referencedSecurityGroupId"]))
		if in["cidrIpv4"] != nil || in["cidrIpv6"] != nil || in["ipProtocol"] != "tcp" {
			t.Errorf("egress %s = %v", r.Name, in)
		}
	}
	for _, r := range d.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		in := r.Inputs
		ingress = append(ingress, fmt.Sprintf("%v tcp %d-%d from %v", in["securityGroupId"], num(in["fromPort"]), num(in["toPort"]), in["referencedSecurityGroupId"]))
	}
	slices.Sort(egress)
	slices.Sort(ingress)
	wantEgress := []string{
		"sg-network-function tcp 443-443 to sg-secrets-endpoint",
		"sg-network-function tcp 5432-5432 to sg-database",
	}
	wantIngress := []string{
		"sg-database tcp 5432-5432 from sg-network-function",
		"sg-secrets-endpoint tcp 443-443 from sg-network-function",
	}
	if !slices.Equal(egress, wantEgress) {
		t.Errorf("egress rules:\n  %s\nwant:\n  %s", strings.Join(egress, "\n  "), strings.Join(wantEgress, "\n  "))
	}
	if !slices.Equal(ingress, wantIngress) {
		t.Errorf("ingress rules:\n  %s\nwant:\n  %s", strings.Join(ingress, "\n  "), strings.Join(wantIngress, "\n  "))
	}
	vpc := d.one(t, "awsx:ec2:Vpc", "network").Inputs
	if nat, _ := vpc["natGateways"].(map[string]any); nat["strategy"] != "None" {
		t.Errorf("NAT %v: want no route out", nat)
	}
}

const secretARN = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!cluster-1-AbCdEf"

func TestAuroraRolePolicies(t *testing.T) {
	d := aurora(t, nil)
	grants := func(part string) []string {
		doc := policy(t, d.one(t, "aws:iam/rolePolicy:RolePolicy", part), "policy")
		assertNoWildcards(t, doc, append(slices.Clone(describeENIActions), tracingActions...))
		var out []string
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				if strings.HasPrefix(a, "rds") || strings.HasPrefix(a, "secretsmanager") || strings.HasPrefix(a, "qldb") {
					for _, r := range s.Resource {
						out = append(out, a+" on "+r)
					}
				}
			}
		}
		return out
	}
	wantAPI := []string{"rds-db:connect on arn:aws:rds-db:eu-west-2:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOP/licences_api"}
	if got := grants("api"); !slices.Equal(got, wantAPI) {
		t.Errorf("api role: %v, want %v", got, wantAPI)
	}
	wantMigrate := []string{"secretsmanager:GetSecretValue on " + secretARN}
	if got := grants("migrate"); !slices.Equal(got, wantMigrate) {
		t.Errorf("migrate role: %v, want %v", got, wantMigrate)
	}
}

func TestSecretsEndpointAdmitsOnlyTheMigrationForItsSecret(t *testing.T) {
	d := aurora(t, nil)
	ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "secrets-endpoint")
	if ep.Inputs["serviceName"] != "com.amazonaws.eu-west-2.secretsmanager" || ep.Inputs["privateDnsEnabled"] != true {
		t.Errorf("endpoint %v", ep.Inputs)
	}
	doc := policy(t, ep, "policy")
	if len(doc.Statement) != 1 {
		t.Fatalf("policy has %d statements, want 1: %+v", len(doc.Statement), doc)
	}
	s := doc.Statement[0]
	if !slices.Equal(s.Principal.AWS, []string{roleARN("staging", "migrate", "eu-west-2")}) ||
		!slices.Equal(s.Action, []string{"secretsmanager:GetSecretValue"}) || !slices.Equal(s.Resource, []string{secretARN}) {
		t.Errorf("statement %+v: want the migration role reading the master secret only", s)
	}
	assertNoWildcards(t, doc, nil)
}

func TestAuroraFunctionsEnvironmentAndMigrationWait(t *testing.T) {
	d := aurora(t, nil)
	env := func(part string) map[string]any {
		e, _ := d.one(t, "aws:lambda/function:Function", part).Inputs["environment"].(map[string]any)
		v, _ := e["variables"].(map[string]any)
		return v
	}
	api, migrate := env("api"), env("migrate")
	if api["LEDGER_ENGINE"] != EngineAurora || api["DB_USER"] != APIDatabaseUser || api["DB_HOST"] == nil || api["DB_SECRET_ARN"] != nil {
		t.Errorf("api environment %v: want the engine, host and user, and no secret", api)
	}
	if migrate["DB_SECRET_ARN"] != secretARN {
		t.Errorf("migration environment %v: want the master secret's ARN", migrate)
	}
	inv := d.one(t, "aws:lambda/invocation:Invocation", "schema")
	for _, dep := range []string{"aws:rds/cluster:Cluster::database", "aws:rds/clusterInstance:ClusterInstance::database-writer", "aws:ec2/vpcEndpoint:VpcEndpoint::secrets-endpoint"} {
		if !slices.ContainsFunc(inv.Deps, func(u string) bool { return strings.HasSuffix(u, dep) }) {
			t.Errorf("migration does not wait for %s", dep)
		}
	}
}
