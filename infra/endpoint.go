package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// https is the only port an interface endpoint listens on.
const https = 443

// EndpointAccess is one principal an endpoint admits, and what it may do.
type EndpointAccess struct {
	// Name names the principal in the policy's statement ids.
	Name string
	// Principal is the ARN of an IAM role: the real ARN, not one built by name.
	Principal pulumi.StringInput
	Grants    []Grant
}

// EndpointArgs configures an Endpoint.
type EndpointArgs struct {
	// ServiceName is the endpoint service, such as com.amazonaws.eu-west-2.qldb.session.
	ServiceName pulumi.StringInput
	VpcID       pulumi.StringInput
	SubnetIDs   pulumi.StringArrayInput
	// ClientSecurityGroupID is the group of the functions that use the
	// endpoint: only it may connect, and it gains egress to the endpoint.
	ClientSecurityGroupID pulumi.StringInput
	// SecurityGroupName names the endpoint's own security group.
	SecurityGroupName string
	// Access lists every principal the endpoint admits; it denies the rest.
	Access []EndpointAccess
	// PolicyOptional lets the endpoint go without a policy where AWS says
	// its service takes none; otherwise such a service is an error.
	PolicyOptional bool
}

// Endpoint is an interface VPC endpoint with private DNS, reachable on 443
// from the client security group alone, whose policy admits only the listed
// principals and only for their grants.
type Endpoint struct {
	pulumi.ResourceState

	EndpointID      pulumi.StringOutput      `pulumi:"endpointId"`
	DNSNames        pulumi.StringArrayOutput `pulumi:"dnsNames"`
	SecurityGroupID pulumi.StringOutput      `pulumi:"securityGroupId"`
}

// NewEndpoint creates the endpoint, its security group and the pair of rules
// that joins it to the client group.
func NewEndpoint(ctx *pulumi.Context, name string, args EndpointArgs, opts ...pulumi.ResourceOption) (*Endpoint, error) {
	e := &Endpoint{}
	if err := ctx.RegisterComponentResource("licences:infra:Endpoint", name, e, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(e)

	g, err := newGuard(ctx, name, guardArgs{
		GroupName:    args.SecurityGroupName,
		Description:  pulumi.Sprintf("Interface endpoint %s: HTTPS from the functions only", args.ServiceName),
		VpcID:        args.VpcID,
		Client:       args.ClientSecurityGroupID,
		Port:         https,
		Protocol:     "HTTPS",
		Target:       pulumi.Sprintf("the %s endpoint", args.ServiceName),
		EgressSuffix: "endpoint",
	}, child)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", name, err)
	}
	sgID := g.ID

	// Not every service takes an endpoint policy
	// (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html):
	// AWS says which, per service and region, in DescribeVpcEndpointServices.
	service := ec2.LookupVpcEndpointServiceOutput(ctx, ec2.LookupVpcEndpointServiceOutputArgs{ServiceName: args.ServiceName}, child)
	policy := pulumi.All(service.VpcEndpointPolicySupported(), endpointPolicyJSON(args.Access), args.ServiceName).ApplyT(
		func(v []any) (*string, error) {
			doc := v[1].(string)
			switch supported := v[0].(bool); {
			case supported:
				return &doc, nil
			case args.PolicyOptional:
				return nil, nil
			}
			return nil, fmt.Errorf("the endpoint service %s takes no endpoint policy: the endpoint could not admit only the functions", v[2])
		}).(pulumi.StringPtrOutput)
	ep, err := ec2.NewVpcEndpoint(ctx, name, &ec2.VpcEndpointArgs{
		VpcId:             args.VpcID,
		ServiceName:       args.ServiceName,
		VpcEndpointType:   pulumi.String("Interface"),
		PrivateDnsEnabled: pulumi.Bool(true),
		SubnetIds:         args.SubnetIDs,
		SecurityGroupIds:  pulumi.StringArray{sgID},
		Policy:            policy,
	}, child, pulumi.DependsOn(g.Rules))
	if err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}

	e.EndpointID = ep.ID().ToStringOutput()
	e.DNSNames = ep.DnsEntries.ApplyT(func(entries []ec2.VpcEndpointDnsEntry) []string {
		var out []string
		for _, d := range entries {
			if d.DnsName != nil {
				out = append(out, *d.DnsName)
			}
		}
		return out
	}).(pulumi.StringArrayOutput)
	e.SecurityGroupID = sgID
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"endpointId":      e.EndpointID,
		"dnsNames":        e.DNSNames,
		"securityGroupId": e.SecurityGroupID,
	})
}

// outputs are the endpoint's stack outputs, their names starting with stem.
func (e *Endpoint) outputs(stem string) pulumi.Map {
	return pulumi.Map{
		stem + "Id":              e.EndpointID,
		stem + "DnsNames":        e.DNSNames,
		stem + "SecurityGroupId": e.SecurityGroupID,
	}
}
