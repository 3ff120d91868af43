package infra

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
)

// lambdaRuntime is the OS-only runtime a Go bootstrap runs on.
const lambdaRuntime = "provided.al2023"

// The stage's functions, by the handler entrypoint each runs: the part of
// their names that tells them apart.
const (
	apiPart       = "api"
	erasePart     = "erase"
	migrationPart = "migrate"
	digestPart    = "digest"
)

// tracingActions send traces: AWS allows them on "*" only.
var tracingActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

// FunctionArgs configures a Function.
type FunctionArgs struct {
	Name        string         // the function's name
	Role        *ExecutionRole // its execution role
	Description string
	// Entrypoint selects what the handler binary runs (a part's name);
	// Lambda hands it to the binary as _HANDLER.
	Entrypoint       string
	Artifact         function.Artifact
	MemoryMB         int
	TimeoutSeconds   int
	LogRetentionDays int
	SubnetIDs        pulumi.StringArrayInput
	SecurityGroupID  pulumi.StringInput
	// ReplacementSecurityGroupID is the group Lambda moves the function's
	// interfaces to while the function is destroyed: the VPC's default
	// group, stripped of its rules.
	ReplacementSecurityGroupID pulumi.StringInput
	Environment                pulumi.StringMapInput
	// Grants is what the function may do beyond running in the VPC, logging
	// and tracing, which every function may.
	Grants  []Grant
	Account Account
	// KMSKeyARN is the stage key, for the log group and the environment;
	// nil means AWS's own keys.
	KMSKeyARN pulumi.StringPtrInput
	// ReservedConcurrency reserves that many executions; 0 reserves none.
	ReservedConcurrency int
}

// Function is a Lambda function in the isolated subnets with its own
// ExecutionRole, its own log group and active tracing.
type Function struct {
	pulumi.ResourceState

	Name      pulumi.StringOutput `pulumi:"name"`
	ARN       pulumi.StringOutput `pulumi:"arn"`
	InvokeARN pulumi.StringOutput `pulumi:"invokeArn"`
	RoleARN   pulumi.StringOutput `pulumi:"roleArn"`

	// part is the component's name; grants all its role may do.
	part   string
	grants []Grant
}

// NewFunction creates the function with its log group and its role's
// policy for logging, tracing and the grants.
func NewFunction(ctx *pulumi.Context, name string, args FunctionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	f := &Function{part: name}
	if err := ctx.RegisterComponentResource("licences:infra:Function", name, f, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(f)

	logs, err := logGroup{"/aws/lambda/" + args.Name, args.LogRetentionDays, args.KMSKeyARN}.create(ctx, name, child)
	if err != nil {
		return nil, fmt.Errorf("create log group: %w", err)
	}

	own := append(ownGrants(logs.Arn), args.Grants...)
	f.grants = append(slices.Clone(args.Role.grants), own...)
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   args.Role.Name,
		Policy: identityPolicyJSON(own),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create role policy: %w", err)
	}

	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:           pulumi.String(args.Name),
		Description:    pulumi.String(args.Description),
		Role:           args.Role.ARN,
		Runtime:        pulumi.String(lambdaRuntime),
		Handler:        pulumi.String(args.Entrypoint),
		Architectures:  pulumi.StringArray{pulumi.String(string(args.Artifact.Arch))},
		Code:           pulumi.NewFileArchive(args.Artifact.Path),
		SourceCodeHash: pulumi.String(args.Artifact.SHA256),
		MemorySize:     pulumi.Int(args.MemoryMB),
		Timeout:        pulumi.Int(args.TimeoutSeconds),
		VpcConfig: &lambda.FunctionVpcConfigArgs{
			SubnetIds:        args.SubnetIDs,
			SecurityGroupIds: pulumi.StringArray{args.SecurityGroupID},
		},
		// Lambda keeps a VPC function's network interfaces for a while after
		// it is deleted, which holds up deleting its security group; moving
		// them to another group first frees the function's group. The
		// replacement is the stripped default group, which the role may
		// create interfaces with (its CreateNetworkInterface is on "*").
		ReplaceSecurityGroupsOnDestroy: pulumi.Bool(true),
		ReplacementSecurityGroupIds:    pulumi.StringArray{args.ReplacementSecurityGroupID},
		TracingConfig:                  &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  logs.Name,
		},
		Environment: &lambda.FunctionEnvironmentArgs{Variables: args.Environment},
		KmsKeyArn:   args.KMSKeyARN,
		// -1 is Lambda's "no reservation".
		ReservedConcurrentExecutions: pulumi.Int(reservation(args.ReservedConcurrency)),
	}, child, pulumi.DependsOn([]pulumi.Resource{args.Role.networkPolicy, policy, logs}))
	if err != nil {
		return nil, fmt.Errorf("create function: %w", err)
	}

	f.Name = fn.Name
	f.ARN = fn.Arn
	f.InvokeARN = fn.InvokeArn
	f.RoleARN = args.Role.ARN
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"name": f.Name, "arn": f.ARN, "invokeArn": f.InvokeARN, "roleArn": f.RoleARN,
	})
}

// ownGrants is what every function may do besides the network: write its
// own logs and send traces.
func ownGrants(logGroupARN pulumi.StringOutput) []Grant {
	return []Grant{
		{Sid: "Logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: pulumi.StringArray{pulumi.Sprintf("%s:*", logGroupARN)}},
		{Sid: "Tracing", Actions: tracingActions, Resources: pulumi.StringArray{pulumi.String("*")}},
	}
}

// reservation is a reserved concurrency as Lambda takes it: -1 for none.
func reservation(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
