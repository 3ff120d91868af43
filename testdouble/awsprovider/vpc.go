package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// vpc is the awsx VPC component as the stand-in constructs it.
type vpc struct {
	pulumi.ResourceState
	VpcID             pulumi.StringOutput      `pulumi:"vpcId"`
	IsolatedSubnetIDs pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`
}

// Construct makes the VPC component. The real awsx makes its subnets, route
// tables and gateways with the AWS provider it is handed; handed none, it
// would use the default provider, without the stage's tags, so the
// stand-in refuses.
func (p *standin) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	if req.GetProviders()["aws"] == "" {
		return nil, fmt.Errorf("awsprovider: %s %s is handed no AWS provider (it has %v): its resources would be made with the default provider, untagged",
			req.GetType(), req.GetName(), req.GetProviders())
	}
	return provider.Construct(ctx, req, p.host.EngineConn(), func(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs, options pulumi.ResourceOption) (*provider.ConstructResult, error) {
		if typ != "awsx:ec2:Vpc" {
			return nil, fmt.Errorf("awsprovider: no component %s", typ)
		}
		args, err := inputs.Map()
		if err != nil {
			return nil, err
		}
		v := &vpc{}
		if err := ctx.RegisterComponentResource(typ, name, v, options); err != nil {
			return nil, err
		}
		n := 2
		if az, ok := args["numberOfAvailabilityZones"].(pulumi.Float64); ok {
			n = int(az)
		}
		sum := sha256.Sum256([]byte(name))
		tag := hex.EncodeToString(sum[:4])
		subnets := pulumi.StringArray{}
		for i := range n {
			subnets = append(subnets, pulumi.String(fmt.Sprintf("subnet-%s%d", tag, i)))
		}
		state := pulumi.Map{
			"vpcId":             pulumi.String("vpc-" + tag),
			"isolatedSubnetIds": subnets,
			"privateSubnetIds":  pulumi.StringArray{},
			"publicSubnetIds":   pulumi.StringArray{},
		}
		if err := ctx.RegisterResourceOutputs(v, state); err != nil {
			return nil, err
		}
		return &provider.ConstructResult{URN: v.URN(), State: state}, nil
	})
}
