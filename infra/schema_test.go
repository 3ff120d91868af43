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
		if inv.Inputs["lifecycleScope"] != "CRUD" || inv.Inputs["functionName"] != "licences-"+d.config.Stage+"-migrate" {
			t.Errorf("invocation %v, want CRUD scope on the stage's migrate function", inv.Inputs)
		}
		if want := fmt.Sprintf(`{"schemaVersion":%d}`, schema.Version); inv.Inputs["input"] != want {
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
