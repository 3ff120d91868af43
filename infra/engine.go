package infra

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumix"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/infra/preflight"
)

// engine is what the stage's ledger engine contributes to the stack: what
// it creates (before it is returned), what each function may do to it and
// how the handler is told where it is, the interface endpoint the functions
// reach it through, what the migration waits for, and its outputs. A stage
// holds one engine's resources and nothing of the other's.
type engine struct {
	// api, erase and migration are each function's part.
	api, erase, migration storeRole
	// digest is the digest function's part, and bucket where it writes:
	// only an engine without digests of its own has them (Aurora).
	digest *storeRole
	bucket *DigestBucket
	// endpoint is the interface endpoint of the engine's AWS service.
	endpoint endpointSpec
	// ready holds values of what must exist before the migration runs: the
	// migration's invocation takes them as triggers.
	ready pulumi.StringMap
	// outputs are the engine's own stack outputs, named for the engine.
	outputs pulumi.Map
	// key is the stage key (stageKey); nil for AWS's own keys.
	key pulumi.StringPtrInput
}

// storeRole is one function's part in the engine.
type storeRole struct {
	// grants are what the function's role may do to the store.
	grants []Grant
	// settings tell the handler where the store is: they become the
	// function's environment through env.Config.Vars.
	settings pulumix.Output[env.Config]
}

// endpointSpec is an interface endpoint a stage needs.
type endpointSpec struct {
	// name names the Endpoint component and, with the stage, its group.
	name string
	// service is the endpoint service after com.amazonaws.<region>.
	service string
	// actions is the IAM service prefix of the actions the endpoint
	// carries, such as "qldb": its policy admits each function role for
	// exactly the role's grants of that service.
	actions string
	// output is the stem of the endpoint's stack outputs: <output>Id,
	// <output>DnsNames and <output>SecurityGroupId.
	output string
	// policyOptional: the endpoint may go without a policy where AWS says
	// its service takes none. Only where what it carries is harmless.
	policyOptional bool
}

// xrayEndpoint is the optional endpoint for traces (xrayEndpoint). Traces
// are what it carries, so where X-Ray takes no endpoint policy the endpoint
// goes without; its security group still admits the functions alone.
var xrayEndpoint = endpointSpec{name: "xray-endpoint", service: "xray", actions: "xray", output: "xrayEndpoint", policyOptional: true}

// ledgerEngine is one engine's whole part in the stack, kept with the
// engine's own code (ledger.go for QLDB, database.go for Aurora) so an
// engine can be kept or dropped as a unit: the functions it adds to the
// three every stage has, what it declares, its alarms, the checks on the
// settings it reads, and what the preflight must ask for it.
type ledgerEngine interface {
	// extraParts are the functions the engine adds (Aurora: digest).
	extraParts() []string
	// declare creates the engine's resources; roles are the stage's
	// function roles, by part.
	declare(ctx *pulumi.Context, cfg Config, n names, network *Network, account Account, roles map[string]*ExecutionRole, opts pulumi.ResourceOption) (engine, error)
	// alarms are the engine's own alarms.
	alarms(c Config, n names) []alarm
	// rules are the checks on the engine's own settings.
	rules() []configRule
	// preflight is what the preflight checks of the engine: nil, nothing.
	preflight(c Config) *preflight.Aurora
}

// ledgerEngines are the engines a stage can run, by name.
var ledgerEngines = map[env.Engine]ledgerEngine{
	env.QLDB:             qldbEngine{},
	env.AuroraPostgreSQL: auroraEngine{},
}

// engineOf is the engine e names, or an error naming the engines there
// are: nothing in the stack asks which engine it has but through here.
func engineOf(e env.Engine) (ledgerEngine, error) {
	if eng, ok := ledgerEngines[e]; ok {
		return eng, nil
	}
	return nil, fmt.Errorf("%q is not a ledger engine: want one of %v", e, env.Engines())
}

// environment is the function environment that settings describe.
func environment(settings pulumix.Output[env.Config]) pulumi.StringMapOutput {
	return pulumix.Cast[pulumi.StringMapOutput](pulumix.Apply(settings, env.Config.Vars))
}
