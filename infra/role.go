package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The network interface permissions Lambda needs from a function's role to
// place the function in a VPC, as AWS documents them
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html,
// and the managed policy AWSLambdaVPCAccessExecutionRole):
//
//   - ec2:CreateNetworkInterface, on "*": Lambda checks at CreateFunction
//     that the role may create the function's interfaces, and AWS documents
//     only the unscoped grant; scoped to the subnets and group, the check is
//     not documented to pass (the README argues the choice).
//   - ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets: allowed on "*"
//     only.
//   - ec2:DeleteNetworkInterface, AssignPrivateIpAddresses and
//     UnassignPrivateIpAddresses: on every EC2 resource of the account in
//     this region, in the form the Lambda guide documents ("Either specify
//     a unique resource ID, or include all resource IDs, for example,
//     arn:aws:ec2:us-west-2:123456789012:*/*"). The narrower
//     network-interface/* is not that form, and Lambda is reported to
//     refuse a role scoped otherwise at CreateFunction.
var (
	createENIActions   = []string{"ec2:CreateNetworkInterface"}
	describeENIActions = []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
	manageENIActions   = []string{"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
)

// anyResourceActions are the only actions any role of the stack holds on
// "*": those AWS allows on no narrower resource, and the one it documents
// no narrower grant for. The tests hold every policy to this list.
var anyResourceActions = append(append(append([]string{}, createENIActions...), describeENIActions...), tracingActions...)

// ExecutionRoleArgs configures an ExecutionRole.
type ExecutionRoleArgs struct {
	Name         string // the role's name
	FunctionName string // the function it is for, in its description
	Account      Account
}

// ExecutionRole is a function's role with the network interface permissions
// Lambda needs. It is made before the network, and the network waits for
// it, so on destroy it outlives every subnet and security group: Lambda
// deletes a function's interfaces after the function is gone, with the
// function's role, and subnets and groups cannot be deleted while those
// interfaces remain.
type ExecutionRole struct {
	pulumi.ResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	ARN  pulumi.StringOutput `pulumi:"arn"`

	// networkPolicy is what the network must wait for.
	networkPolicy *iam.RolePolicy
	// grants are the network grants, for the role's own listing.
	grants  []Grant
	account Account
}

// NewExecutionRole creates the role, trusted by Lambda alone, and its
// network interface policy.
func NewExecutionRole(ctx *pulumi.Context, name string, args ExecutionRoleArgs, opts ...pulumi.ResourceOption) (*ExecutionRole, error) {
	r := &ExecutionRole{account: args.Account}
	if err := ctx.RegisterComponentResource("licences:infra:ExecutionRole", name, r, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(r)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(args.Name),
		Description:      pulumi.Sprintf("Execution role of the %s function", args.FunctionName),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("lambda.amazonaws.com")),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create role: %w", err)
	}
	r.grants = []Grant{
		{Sid: "CreateNetworkInterfaces", Actions: createENIActions, Resources: pulumi.StringArray{pulumi.String("*")}},
		{Sid: "DescribeNetwork", Actions: describeENIActions, Resources: pulumi.StringArray{pulumi.String("*")}},
		{Sid: "ManageNetworkInterfaces", Actions: manageENIActions, Resources: pulumi.StringArray{args.Account.arn("ec2", "*/*")}},
	}
	r.networkPolicy, err = iam.NewRolePolicy(ctx, name+"-network", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: identityPolicyJSON(r.grants),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create network policy: %w", err)
	}
	r.Name, r.ARN = role.Name, role.Arn
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"name": r.Name, "arn": r.ARN})
}
