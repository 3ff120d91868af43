package infra

import (
	"strings"
	"testing"

	"github.com/privateledger/licences/infra/awsrules"
)

// planVariants are the plans the AWS rules are checked on: every shipped
// stage as its file says, and each again at the longest stage name and
// region with every optional part on, where names are longest.
func planVariants(t *testing.T) map[string]*deployment {
	t.Helper()
	out := map[string]*deployment{}
	for _, stage := range shippedStages {
		out[stage] = mustDeploy(t, stage, nil)
		long := strings.Repeat("s", maxStageLen)
		d, err := deploy(t, long, stackConfig(t, stage, map[string]string{
			"aws:region": "ap-southeast-7", "licences:kmsKey": "create", "licences:xrayEndpoint": "true",
		}))
		if err != nil {
			t.Fatalf("%s at its longest: %v", stage, err)
		}
		out[stage+" at its longest"] = d
	}
	return out
}

// Every input the stack sets obeys the constraint AWS documents for it
// (infra/awsrules holds each rule with its source), on every stage's plan.
//
// Mutant: guard.go `" from the function security group"` -> `" from the functions' security group"`
// Mutant: database.go `masterUsername = "licencesadmin"` -> `masterUsername = "licences_admin"`
// Mutant: names.go `func (n names) ledger() string { return n.prefix() }` -> `func (n names) ledger() string { return n.prefix() + "-ledger-of-licences" }`
func TestEveryPlannedInputObeysAWSRules(t *testing.T) {
	checked := map[string]int{}
	for name, d := range planVariants(t) {
		for _, r := range d.resources {
			for _, v := range awsrules.Check(r.Type, r.Inputs) {
				t.Errorf("%s: %s %s: %v", name, r.Type, r.Name, v)
			}
			checked[r.Type]++
		}
	}
	for _, typ := range awsrules.Types() {
		if checked[typ] == 0 {
			t.Errorf("no planned resource of type %s: its rules check nothing", typ)
		}
	}
}

// The shipped stages can live in one account and region: no two resources,
// of one stage or of two, claim the same name (the account role excepted:
// one stage creates it, the others find it), and the stack names every
// resource AWS would otherwise name at random, or else the start of its
// name (a bucket, named anew at each creation).
func TestPhysicalNamesAreUniqueAcrossStages(t *testing.T) {
	owner := map[string]string{}
	for _, stage := range shippedStages {
		d := mustDeploy(t, stage, nil)
		for _, r := range d.resources {
			prop, ok := awsrules.PhysicalName(r.Type)
			if !ok {
				continue
			}
			name, _ := r.Inputs[prop].(string)
			key := r.Type + " " + name
			if pp, ok := awsrules.NamePrefix(r.Type); ok && name == "" {
				// Named by the provider from a prefix: unique by its
				// suffix, and the prefix says whose it is.
				name, _ = r.Inputs[pp].(string)
				key = r.Type + " " + pp + " " + name
			}
			if name == "" {
				t.Errorf("%s: %s %s has no %s", stage, r.Type, r.Name, prop)
				continue
			}
			if r.Type == "aws:iam/role:Role" && name == newNames(d.config).accountRole() {
				continue // shared by design: see TestStagesShareTheAPIGatewayAccountRole
			}
			if other, taken := owner[key]; taken {
				t.Errorf("%s %q: claimed by %s and %s", r.Type, name, other, stage+"/"+r.Name)
			}
			owner[key] = stage + "/" + r.Name
		}
	}
	if len(owner) < 10 {
		t.Errorf("only %d names checked", len(owner))
	}
}
