package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// In the STANDARD mode every PartiQL command must be allowed by IAM.
// Mutant: ledger.go `PermissionsMode:    pulumi.String("STANDARD")` -> `PermissionsMode:    pulumi.String("ALLOW_ALL")`
func TestLedgerIsStandardModeWithStageProtection(t *testing.T) {
	eachStage(t, onEngine(env.QLDB), func(t *testing.T, d *deployment) {
		l := d.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs
		if l["permissionsMode"] != "STANDARD" {
			t.Errorf("permissionsMode = %v, want STANDARD", l["permissionsMode"])
		}
		if l["deletionProtection"] != d.config.DeletionProtection {
			t.Errorf("deletionProtection = %v, want the stage's %v", l["deletionProtection"], d.config.DeletionProtection)
		}
		if l["name"] != "licences-"+d.config.Stage {
			t.Errorf("name = %v", l["name"])
		}
	})
}

// Mutant: kms.go `EnableKeyRotation:    pulumi.Bool(true)` -> `EnableKeyRotation:    pulumi.Bool(false)`
func TestLedgerKeyPerStage(t *testing.T) {
	dev := mustDeploy(t, "qldb", nil)
	// The qldb stage has no stage key; its alarm topic gets a key of its own.
	if keys := dev.names("aws:kms/key:Key"); !slices.Equal(keys, []string{"monitoring-key"}) || dev.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"] != nil {
		t.Errorf("qldb: want the AWS-owned key for the ledger and the topic's own key, got keys %v", keys)
	}
	prod := mustDeploy(t, "qldb", map[string]string{"licences:kmsKey": "create"})
	key := prod.one(t, "aws:kms/key:Key", "key").Inputs
	if key["enableKeyRotation"] != true {
		t.Errorf("prod key rotation = %v, want true", key["enableKeyRotation"])
	}
	if got := prod.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"]; !strings.HasPrefix(fmt.Sprint(got), "arn:aws:kms:") {
		t.Errorf("prod ledger kmsKey = %v, want the created key's ARN", got)
	}
	existing := "arn:aws:kms:eu-west-2:123456789012:key/0d1b2c3d-1111-4000-8000-000000000000"
	byARN := mustDeploy(t, "qldb", map[string]string{"licences:kmsKey": existing})
	if len(byARN.ofType("aws:kms/key:Key")) != 0 || byARN.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["kmsKey"] != existing {
		t.Errorf("an existing key ARN must be used as is, without creating a key")
	}
}
