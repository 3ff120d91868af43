package infra

import (
	"fmt"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

const secretARN = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!cluster-1-AbCdEf"

// aurora deploys the repository's Aurora stage, staging.
func aurora(t *testing.T, overrides map[string]string) *deployment {
	t.Helper()
	d := mustDeploy(t, "staging", overrides)
	if d.config.LedgerEngine != env.AuroraPostgreSQL {
		t.Fatalf("Pulumi.staging.yaml uses %s, want %s", d.config.LedgerEngine, env.AuroraPostgreSQL)
	}
	return d
}

// Mutant: engine.go `if cfg.LedgerEngine == env.AuroraPostgreSQL {` -> `if cfg.LedgerEngine == env.QLDB {`
func TestEachEngineCreatesOnlyItsOwnResources(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		own, other := "aws:qldb/", "aws:rds/"
		if d.config.LedgerEngine == env.AuroraPostgreSQL {
			own, other = other, own
		}
		mine := 0
		for _, r := range d.resources {
			switch {
			case strings.HasPrefix(r.Type, other):
				t.Errorf("a %s stage has %s %s", d.config.LedgerEngine, r.Type, r.Name)
			case strings.HasPrefix(r.Type, own):
				mine++
			}
		}
		if mine == 0 {
			t.Errorf("a %s stage has none of its engine's resources", d.config.LedgerEngine)
		}
	})
}

// Mutant: database.go `IamDatabaseAuthenticationEnabled: pulumi.Bool(true)` -> `IamDatabaseAuthenticationEnabled: pulumi.Bool(false)`
// Mutant: database.go `StorageEncrypted:                 pulumi.Bool(true)` -> `StorageEncrypted:                 pulumi.Bool(false)`
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
	if got := strs(sg["subnetIds"]); fmt.Sprint(got) != fmt.Sprint(isolatedSubnets(d)) {
		t.Errorf("db subnets %v, want the isolated subnets", got)
	}
}

func TestAuroraDeletionProtectionPerStage(t *testing.T) {
	off := aurora(t, map[string]string{"licences:deletionProtection": "false"})
	if off.one(t, "aws:rds/cluster:Cluster", "database").Inputs["deletionProtection"] != false {
		t.Error("deletionProtection false is not passed to the cluster")
	}
}

// Mutant: database.go `"writer": db.instance.Arn}` -> `"writer": db.ClusterResourceID}`
func TestAuroraMigrationWaitsForTheWriter(t *testing.T) {
	d := aurora(t, nil)
	dependsOn(t, d.one(t, "aws:lambda/invocation:Invocation", "schema"),
		"aws:rds/cluster:Cluster::database", "aws:rds/clusterInstance:ClusterInstance::database-writer")
}
