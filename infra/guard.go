package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// guardArgs describes a private service's security group. Descriptions go
// to EC2 as they are: letters, digits, spaces and ._-:/()#,@[]+=;{}!$* only
// (no apostrophe); infra/awsrules holds the rule and its source.
type guardArgs struct {
	GroupName   string // the group's name
	Description pulumi.StringInput
	VpcID       pulumi.StringInput
	// Client is the functions' group: the only one admitted, and it gains
	// egress to the service on Port.
	Client pulumi.StringInput
	Port   int
	// Protocol and Target word the rules' descriptions: "HTTPS" to "the
	// qldb.session endpoint", "PostgreSQL" to "the Aurora cluster".
	Protocol string
	Target   pulumi.StringInput
	// EgressSuffix ends the egress rule's resource name (name-to-<suffix>).
	EgressSuffix string
}

// guard is a private service's security group and the rule pair that
// joins it to the functions: ingress on Port from the client group only,
// and the client group's egress on Port to this group only. Every private
// service in the stack is guarded this way, so the functions can reach
// exactly the services that exist and nothing else.
type guard struct {
	ID    pulumi.StringOutput
	Rules []pulumi.Resource // what must exist before traffic can flow
}

func newGuard(ctx *pulumi.Context, name string, args guardArgs, opts ...pulumi.ResourceOption) (guard, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		Name:        pulumi.String(args.GroupName),
		Description: args.Description,
		VpcId:       args.VpcID,
	}, opts...)
	if err != nil {
		return guard{}, fmt.Errorf("create security group: %w", err)
	}
	id := sg.ID().ToStringOutput()
	ingress, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-from-functions", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           id,
		Description:               pulumi.String(args.Protocol + " from the function security group"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(args.Port),
		ToPort:                    pulumi.Int(args.Port),
		ReferencedSecurityGroupId: args.Client,
	}, opts...)
	if err != nil {
		return guard{}, fmt.Errorf("create ingress rule: %w", err)
	}
	egress, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-to-"+args.EgressSuffix, &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           args.Client,
		Description:               pulumi.Sprintf("%s to %s only", args.Protocol, args.Target),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(args.Port),
		ToPort:                    pulumi.Int(args.Port),
		ReferencedSecurityGroupId: id,
	}, opts...)
	if err != nil {
		return guard{}, fmt.Errorf("create function egress rule: %w", err)
	}
	return guard{ID: id, Rules: []pulumi.Resource{ingress, egress}}, nil
}
