package infra

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SchemaArgs configures a Schema.
type SchemaArgs struct {
	// MigrationFunction is the name of the function that creates the schema.
	MigrationFunction pulumi.StringInput
	// Version is the schema version, and Fingerprint a hash of everything
	// the migration applies (function/schema): a change to either runs
	// the migration again.
	Version     int
	Fingerprint string
	// WaitFor holds values of what the migration needs (the ledger or
	// database, the endpoint). The invocation takes them as triggers: that
	// makes it wait for each (a dependency carried by the values themselves,
	// so it cannot race with their registration) and run again when one is
	// replaced.
	WaitFor pulumi.StringMap
}

// Schema creates the ledger's tables and indexes at deploy time by invoking
// the migration function, which runs in the isolated subnets and reaches the
// ledger through the private endpoint like the API does. The migration is
// idempotent. It is invoked when created and when replaced (a trigger
// changed), never on delete (the CREATE_ONLY lifecycle scope): a destroy
// must not depend on invoking a function, and no data goes with the stack.
type Schema struct {
	pulumi.ResourceState

	Result pulumi.StringOutput `pulumi:"result"`

	// invocation is what other resources wait on for the schema to exist.
	invocation *lambda.Invocation
}

// migrationInput is the event the migration function receives: the
// schema it must apply, which it checks is the one its code holds.
type migrationInput struct {
	SchemaVersion int    `json:"schemaVersion"`
	Schema        string `json:"schema"`
}

// NewSchema invokes the migration.
func NewSchema(ctx *pulumi.Context, name string, args SchemaArgs, opts ...pulumi.ResourceOption) (*Schema, error) {
	s := &Schema{}
	if err := ctx.RegisterComponentResource("licences:infra:Schema", name, s, opts...); err != nil {
		return nil, err
	}
	input, err := json.Marshal(migrationInput{SchemaVersion: args.Version, Schema: args.Fingerprint})
	if err != nil {
		return nil, fmt.Errorf("encode migration input: %w", err)
	}
	triggers := pulumi.StringMap{"schemaVersion": pulumi.String(strconv.Itoa(args.Version)), "schema": pulumi.String(args.Fingerprint)}
	for k, v := range args.WaitFor {
		triggers[k] = v
	}
	inv, err := lambda.NewInvocation(ctx, name, &lambda.InvocationArgs{
		FunctionName:   args.MigrationFunction,
		Input:          pulumi.String(string(input)),
		LifecycleScope: pulumi.String("CREATE_ONLY"),
		Triggers:       triggers,
	}, pulumi.Parent(s))
	if err != nil {
		return nil, fmt.Errorf("invoke migration: %w", err)
	}
	s.Result = inv.Result
	s.invocation = inv
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"result": s.Result})
}
