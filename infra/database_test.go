package infra

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

const secretARN = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!cluster-1-AbCdEf"

// aurora deploys the repository's Aurora stage, prod.
func aurora(t *testing.T, overrides map[string]string) *deployment {
	t.Helper()
	d := mustDeploy(t, "prod", overrides)
	if d.config.LedgerEngine != env.AuroraPostgreSQL {
		t.Fatalf("Pulumi.prod.yaml uses %s, want %s", d.config.LedgerEngine, env.AuroraPostgreSQL)
	}
	return d
}

// Mutant: engine.go `env.AuroraPostgreSQL: auroraEngine{},` -> `env.AuroraPostgreSQL: qldbEngine{},`
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
// Mutant: database.go `MasterUserSecretKmsKeyId:         args.KMSKeyARN,` -> `MasterUserSecretKmsKeyId:         nil,`
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
		"masterUsername":                   "licencesadmin",
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
	if c["masterUserSecretKmsKeyId"] != c["kmsKeyId"] {
		t.Errorf("the master secret's key %v, want the stage key %v", c["masterUserSecretKmsKeyId"], c["kmsKeyId"])
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

// A final snapshot is never left encrypted with a key the same destroy
// deletes, and a second destroy cannot collide with the first's snapshot:
// a created stage key is kept, and the snapshot's name carries the time
// its cluster was created, unchanged by later runs.
//
// Mutant: database.go `key, err := stageKey(ctx, n, cfg.KMSKey, true, account, opts)` -> `key, err := stageKey(ctx, n, cfg.KMSKey, false, account, opts)`
// Mutant: database.go `FinalSnapshotIdentifier: n.prefix() + "-final-" + cfg.Now.UTC().Format("20060102150405"),` -> `FinalSnapshotIdentifier: n.prefix() + "-final",`
// Mutant: database.go `pulumi.IgnoreChanges([]string{"engineVersion", "finalSnapshotIdentifier"}))` -> `pulumi.IgnoreChanges([]string{"engineVersion"}))`
func TestFinalSnapshotsOutliveTheirKeyAndNeverCollide(t *testing.T) {
	for _, overrides := range []map[string]string{nil, {"licences:deletionProtection": "false"}} {
		d := aurora(t, overrides)
		c := d.one(t, "aws:rds/cluster:Cluster", "database")
		if c.Inputs["skipFinalSnapshot"] != false {
			t.Fatalf("skipFinalSnapshot %v: the cluster keeps a final snapshot", c.Inputs["skipFinalSnapshot"])
		}
		key := d.one(t, "aws:kms/key:Key", "key")
		if !strings.HasPrefix(fmt.Sprint(c.Inputs["kmsKeyId"]), "arn:aws:kms:") || !key.Retain {
			t.Errorf("the final snapshot is encrypted with %v; the created key is kept on destroy: %v, want true", c.Inputs["kmsKeyId"], key.Retain)
		}
		if alias := d.one(t, "aws:kms/alias:Alias", "key"); alias.Retain {
			t.Error("the key's alias is kept: a new stage of the same name could not take it")
		}
		snap := fmt.Sprint(c.Inputs["finalSnapshotIdentifier"])
		if !regexp.MustCompile(`^licences-prod-final-20\d{12}$`).MatchString(snap) {
			t.Errorf("final snapshot %q, want licences-prod-final-<creation time>", snap)
		}
		if !slices.Contains(c.IgnoreChanges, "finalSnapshotIdentifier") {
			t.Errorf("ignoreChanges %v: a later run would rename the final snapshot", c.IgnoreChanges)
		}
	}
	// On QLDB, deleting the ledger leaves nothing: the key need not stay.
	qldb := mustDeploy(t, "qldb", map[string]string{"licences:kmsKey": "create"})
	if qldb.one(t, "aws:kms/key:Key", "key").Retain {
		t.Error("a QLDB stage keeps its key although nothing it encrypts outlives the stage")
	}
}

// AWS upgrades minor versions itself; a later run must not ask for the
// version below (RDS refuses to downgrade).
//
// Mutant: database.go `}, child, pulumi.IgnoreChanges([]string{"engineVersion"}))` -> `}, child)`
// Mutant: database.go `AutoMinorVersionUpgrade:            pulumi.Bool(true),` -> `AutoMinorVersionUpgrade:            pulumi.Bool(false),`
func TestEngineVersionsNeverForceADowngrade(t *testing.T) {
	d := aurora(t, nil)
	c := d.one(t, "aws:rds/cluster:Cluster", "database")
	if !slices.Contains(c.IgnoreChanges, "engineVersion") || c.Inputs["allowMajorVersionUpgrade"] != false {
		t.Errorf("cluster ignores %v, major upgrades %v: want engineVersion ignored after creation, no major upgrades", c.IgnoreChanges, c.Inputs["allowMajorVersionUpgrade"])
	}
	instances := d.ofType("aws:rds/clusterInstance:ClusterInstance")
	if len(instances) == 0 {
		t.Fatal("no instances")
	}
	for _, in := range instances {
		if !slices.Contains(in.IgnoreChanges, "engineVersion") || in.Inputs["autoMinorVersionUpgrade"] != true {
			t.Errorf("%s ignores %v, minor upgrades %v: want engineVersion ignored and automatic minor upgrades", in.Name, in.IgnoreChanges, in.Inputs["autoMinorVersionUpgrade"])
		}
	}
}
