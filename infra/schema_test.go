package infra

import (
	"fmt"
	"testing"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/schema"
)

// The migration runs in the VPC once the store, the endpoint and the
// function exist; the API goes live only once the schema does.
// Mutant: stack.go `ready := pulumi.StringMap{"endpoint": endpoints[eng.endpoint].EndpointID}` -> `ready, _ := pulumi.StringMap{}, endpoints`
func TestSchemaMigrationRunsThroughTheEndpointWhenReady(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		inv := d.one(t, "aws:lambda/invocation:Invocation", "schema")
		if inv.Inputs["functionName"] != "licences-"+d.config.Stage+"-migrate" {
			t.Errorf("invocation %v, want the stage's migrate function", inv.Inputs)
		}
		if want := fmt.Sprintf(`{"schemaVersion":%d,"schema":%q}`, schema.Version, schema.Fingerprint()); inv.Inputs["input"] != want {
			t.Errorf("input = %v, want %s", inv.Inputs["input"], want)
		}
		store, endpoint := "aws:qldb/ledger:Ledger::ledger", "aws:ec2/vpcEndpoint:VpcEndpoint::qldb-endpoint"
		if d.config.LedgerEngine == env.AuroraPostgreSQL {
			store, endpoint = "aws:rds/clusterInstance:ClusterInstance::database-writer", "aws:ec2/vpcEndpoint:VpcEndpoint::secrets-endpoint"
		}
		dependsOn(t, inv, store, endpoint, "aws:lambda/function:Function::migrate")
		ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", endpoint[len("aws:ec2/vpcEndpoint:VpcEndpoint::"):])
		dependsOn(t, ep,
			"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::"+ep.Name+"-from-functions",
			"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::"+ep.Name+"-to-endpoint")
		dependsOn(t, d.one(t, "aws:apigateway/stage:Stage", "api"), "aws:lambda/invocation:Invocation::schema")
	})
}

// The migration runs again whenever anything it applies changes (the SQL,
// the QLDB tables and indexes, the version: function/schema's Fingerprint
// covers each, as its own tests show), and never on destroy: a destroy
// must not depend on invoking a function, which an idle VPC function
// (Inactive) refuses.
//
// Mutant: schema.go `"schema": pulumi.String(args.Fingerprint)}` -> `}`
// Mutant: schema.go `LifecycleScope: pulumi.String("CREATE_ONLY"),` -> `LifecycleScope: pulumi.String("CRUD"),`
func TestEverySchemaChangeMigratesAndDestroyInvokesNothing(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		inv := d.one(t, "aws:lambda/invocation:Invocation", "schema")
		triggers, _ := inv.Inputs["triggers"].(map[string]any)
		if triggers["schema"] != schema.Fingerprint() {
			t.Errorf("triggers %v, want schema = %s: an edit to the schema would deploy without its migration", triggers, schema.Fingerprint())
		}
		if inv.Inputs["lifecycleScope"] != "CREATE_ONLY" {
			t.Errorf("lifecycleScope = %v, want CREATE_ONLY: under CRUD a destroy invokes the migration", inv.Inputs["lifecycleScope"])
		}
	})
}
