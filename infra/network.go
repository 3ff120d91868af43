package infra

import (
	"fmt"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awsx "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NetworkArgs configures a Network.
type NetworkArgs struct {
	// CIDR is the VPC's IPv4 range.
	CIDR string
	// AZCount is how many availability zones get an isolated subnet.
	AZCount int
	// FunctionSecurityGroupName names the functions' security group.
	FunctionSecurityGroupName string
}

// Network is a VPC with isolated subnets only: no NAT gateway and no route
// out of any subnet, so a function placed in it can reach only what the VPC
// holds, such as interface endpoints.
//
// awsx attaches an internet gateway to every VPC it makes, even one with
// only isolated subnets. No route table routes to it; the functions' security
// group, whose egress each Endpoint opens to itself alone, is the second wall.
type Network struct {
	pulumi.ResourceState

	VpcID     pulumi.StringOutput      `pulumi:"vpcId"`
	SubnetIDs pulumi.StringArrayOutput `pulumi:"subnetIds"`
	// FunctionSecurityGroupID is the group the functions run in. It has no
	// rules of its own: every egress rule comes from an Endpoint, the
	// database's guard, or the digests' way to S3.
	FunctionSecurityGroupID pulumi.StringOutput `pulumi:"functionSecurityGroupId"`
	// DefaultSecurityGroupID is the VPC's default group, stripped of its
	// rules: where a function's interfaces go while it is destroyed.
	DefaultSecurityGroupID pulumi.StringOutput `pulumi:"defaultSecurityGroupId"`
	// Zones are the availability zones of the subnets, in order: the
	// region's first AZCount zones that need no opt-in, as awsx takes them.
	Zones pulumi.StringArrayOutput `pulumi:"zones"`

	vpc *awsx.Vpc
}

// NewNetwork creates the VPC, its isolated subnets and the functions'
// security group.
func NewNetwork(ctx *pulumi.Context, name string, args NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource("licences:infra:Network", name, n, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(n)

	nat := awsx.NatGatewayStrategyNone
	strategy := awsx.SubnetAllocationStrategyAuto
	vpc, err := awsx.NewVpc(ctx, name, &awsx.VpcArgs{
		CidrBlock:                 pulumi.StringRef(args.CIDR),
		NumberOfAvailabilityZones: pulumi.IntRef(args.AZCount),
		// Private DNS for interface endpoints needs both.
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		NatGateways:        &awsx.NatGatewayConfigurationArgs{Strategy: nat},
		SubnetStrategy:     &strategy,
		SubnetSpecs: []awsx.SubnetSpecArgs{
			{Type: awsx.SubnetTypeIsolated, Name: pulumi.StringRef("isolated")},
		},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create vpc: %w", err)
	}

	// Adopting the default security group strips its rules: nothing can
	// fall back on its allow-all egress, including a function whose own
	// groups Lambda swaps out while it is being destroyed.
	defaultSG, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.VpcId,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("lock default security group: %w", err)
	}

	fnSG, err := ec2.NewSecurityGroup(ctx, name+"-function", &ec2.SecurityGroupArgs{
		Name:        pulumi.String(args.FunctionSecurityGroupName),
		Description: pulumi.String("Lambda functions: egress only to the interface endpoints, each opened by its endpoint"),
		VpcId:       vpc.VpcId,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create function security group: %w", err)
	}

	n.vpc = vpc
	n.Zones = aws.GetAvailabilityZonesOutput(ctx, aws.GetAvailabilityZonesOutputArgs{
		State: pulumi.String("available"),
		Filters: aws.GetAvailabilityZonesFilterArray{aws.GetAvailabilityZonesFilterArgs{
			Name: pulumi.String("opt-in-status"), Values: pulumi.StringArray{pulumi.String("opt-in-not-required")},
		}},
	}, child).Names().ApplyT(func(names []string) []string { return names[:min(args.AZCount, len(names))] }).(pulumi.StringArrayOutput)
	n.VpcID = vpc.VpcId
	n.SubnetIDs = vpc.IsolatedSubnetIds
	n.FunctionSecurityGroupID = fnSG.ID().ToStringOutput()
	n.DefaultSecurityGroupID = defaultSG.ID().ToStringOutput()
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":                   n.VpcID,
		"subnetIds":               n.SubnetIDs,
		"functionSecurityGroupId": n.FunctionSecurityGroupID,
		"defaultSecurityGroupId":  n.DefaultSecurityGroupID,
		"zones":                   n.Zones,
	})
}

// routeTableIDs are the route tables of the isolated subnets, for gateway
// endpoints. They are read once the VPC component, and so every table
// awsx makes with it, exists.
func (n *Network) routeTableIDs(ctx *pulumi.Context, opts pulumi.InvokeOption) pulumi.StringArrayOutput {
	return ec2.GetRouteTablesOutput(ctx, ec2.GetRouteTablesOutputArgs{
		VpcId: n.VpcID,
		Filters: ec2.GetRouteTablesFilterArray{ec2.GetRouteTablesFilterArgs{
			Name: pulumi.String("association.subnet-id"), Values: n.SubnetIDs,
		}},
	}, opts, pulumi.DependsOn([]pulumi.Resource{n.vpc})).Ids()
}
