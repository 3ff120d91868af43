package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FlowLogsArgs configures FlowLogs.
type FlowLogsArgs struct {
	VpcID            pulumi.StringInput
	LogGroupName     string
	LogRetentionDays int
	KMSKeyARN        pulumi.StringPtrInput // nil: CloudWatch's own keys
	RoleName         string
	Account          Account
}

// FlowLogs records every flow in the VPC, accepted and rejected, to a log
// group of the stage, through a role only VPC Flow Logs of this account may
// assume and that may write to that group only.
type FlowLogs struct {
	pulumi.ResourceState
}

// NewFlowLogs creates the log group, the role and the flow log.
func NewFlowLogs(ctx *pulumi.Context, name string, args FlowLogsArgs, opts ...pulumi.ResourceOption) (*FlowLogs, error) {
	f := &FlowLogs{}
	if err := ctx.RegisterComponentResource("licences:infra:FlowLogs", name, f, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(f)
	logs, err := logGroup{args.LogGroupName, args.LogRetentionDays, args.KMSKeyARN}.create(ctx, name, child)
	if err != nil {
		return nil, fmt.Errorf("create flow log group: %w", err)
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(args.RoleName),
		Description:      pulumi.String("Lets VPC Flow Logs write the VPC's flows to its log group"),
		AssumeRolePolicy: serviceTrustJSON("vpc-flow-logs.amazonaws.com", args.Account),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create flow log role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: identityPolicyJSON([]Grant{{Sid: "FlowLogs",
			Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"},
			Resources: pulumi.StringArray{logs.Arn, pulumi.Sprintf("%s:*", logs.Arn)}}}),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create flow log policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:              args.VpcID,
		TrafficType:        pulumi.String("ALL"),
		LogDestinationType: pulumi.String("cloud-watch-logs"),
		LogDestination:     logs.Arn,
		IamRoleArn:         role.Arn,
	}, child, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
		return nil, fmt.Errorf("create flow log: %w", err)
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{})
}
