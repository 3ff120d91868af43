package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
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
	migrationPart = "migrate"
)

// Actions AWS allows only on every resource ("*"): describing network
// interfaces and subnets, and sending traces. They are the only actions a
// function role holds on "*"; the tests hold the roles to this list.
var (
	describeENIActions = []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
	tracingActions     = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
)

// FunctionArgs configures a Function.
type FunctionArgs struct {
	Name        string // the function's name
	RoleName    string // its execution role's name
	Description string
	// Entrypoint selects what the handler binary runs ("api" or "migrate");
	// Lambda hands it to the binary as _HANDLER.
	Entrypoint       string
	Artifact         function.Artifact
	MemoryMB         int
	TimeoutSeconds   int
	LogRetentionDays int
	SubnetIDs        pulumi.StringArrayInput
	SecurityGroupID  pulumi.StringInput
	Environment      pulumi.StringMapInput
	// Grants is what the function may do beyond running in the VPC, logging
	// and tracing, which every function may.
	Grants  []Grant
	Account Account
}

// Function is a Lambda function in the isolated subnets with its own role,
// its own log group and active tracing.
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

// NewFunction creates the function with its log group, role and policy.
func NewFunction(ctx *pulumi.Context, name string, args FunctionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	f := &Function{part: name}
	if err := ctx.RegisterComponentResource("licences:infra:Function", name, f, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(f)

	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + args.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create log group: %w", err)
	}

	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(args.RoleName),
		Description:      pulumi.Sprintf("Execution role of the %s function", args.Name),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("lambda.amazonaws.com")),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create role: %w", err)
	}
	f.grants = append(runtimeGrants(args, logs.Arn), args.Grants...)
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: identityPolicyJSON(f.grants),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create role policy: %w", err)
	}

	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:           pulumi.String(args.Name),
		Description:    pulumi.String(args.Description),
		Role:           role.Arn,
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
		// it is deleted, which blocks deleting its security group; swapping
		// the groups out first lets `pulumi destroy` finish.
		ReplaceSecurityGroupsOnDestroy: pulumi.Bool(true),
		TracingConfig:                  &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  logs.Name,
		},
		Environment: &lambda.FunctionEnvironmentArgs{Variables: args.Environment},
	}, child, pulumi.DependsOn([]pulumi.Resource{policy, logs}))
	if err != nil {
		return nil, fmt.Errorf("create function: %w", err)
	}

	f.Name = fn.Name
	f.ARN = fn.Arn
	f.InvokeARN = fn.InvokeArn
	f.RoleARN = role.Arn
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"name": f.Name, "arn": f.ARN, "invokeArn": f.InvokeARN, "roleArn": f.RoleARN,
	})
}

// runtimeGrants is what every function in the VPC needs: writing its own
// logs, managing the network interfaces Lambda places in its subnets with its
// security group, and sending traces.
func runtimeGrants(args FunctionArgs, logGroupARN pulumi.StringOutput) []Grant {
	a := args.Account
	eni := a.arn("ec2", "network-interface/*")
	subnets := pulumi.All(a.Partition, a.Region, a.ID, args.SubnetIDs).ApplyT(func(v []any) []string {
		var out []string
		for _, id := range v[3].([]string) {
			out = append(out, fmt.Sprintf("arn:%s:ec2:%s:%s:subnet/%s", v[0], v[1], v[2], id))
		}
		return out
	}).(pulumi.StringArrayOutput)
	sg := pulumi.Sprintf("arn:%s:ec2:%s:%s:security-group/%s", a.Partition, a.Region, a.ID, args.SecurityGroupID)
	createOn := pulumi.All(eni, sg, subnets).ApplyT(func(v []any) []string {
		return append([]string{v[0].(string), v[1].(string)}, v[2].([]string)...)
	}).(pulumi.StringArrayOutput)

	return []Grant{
		{Sid: "Logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: pulumi.StringArray{pulumi.Sprintf("%s:*", logGroupARN)}},
		{Sid: "CreateNetworkInterfaces", Actions: []string{"ec2:CreateNetworkInterface"}, Resources: createOn},
		{Sid: "ManageNetworkInterfaces",
			Actions:   []string{"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"},
			Resources: pulumi.StringArray{eni}},
		{Sid: "DescribeNetwork", Actions: describeENIActions, Resources: pulumi.StringArray{pulumi.String("*")}},
		{Sid: "Tracing", Actions: tracingActions, Resources: pulumi.StringArray{pulumi.String("*")}},
	}
}
