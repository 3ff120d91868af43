package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Invoke answers the provider functions the program calls.
func (p *standin) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.Args)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	switch req.Tok {
	case "aws:index/getRegion:getRegion":
		out = map[string]any{"name": p.region, "id": p.region}
	case "aws:index/getPartition:getPartition":
		out = map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out = map[string]any{"accountId": account, "arn": "arn:aws:iam::" + account + ":user/standin", "userId": "AIDASTANDIN", "id": account}
	case "aws:iam/getRoles:getRoles":
		// ListRoles, filtered by name as the provider filters it; an
		// account without a match answers an empty list, not an error.
		re, err := regexp.Compile(str(args, "nameRegex"))
		if err != nil {
			return nil, fmt.Errorf("awsprovider: getRoles nameRegex: %w", err)
		}
		names, arns := []any{}, []any{}
		err = withAccount(func(a *accountState) error {
			for name, arn := range a.Roles {
				if re.MatchString(name) {
					names, arns = append(names, name), append(arns, arn)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = map[string]any{"names": names, "arns": arns, "id": p.region}
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		name := str(args, "serviceName")
		if !strings.HasPrefix(name, "com.amazonaws."+p.region+".") {
			return nil, awsError("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", name)
		}
		out = map[string]any{"serviceName": name, "serviceType": "Interface", "vpcEndpointPolicySupported": true, "id": name}
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		out = map[string]any{"names": []any{p.region + "a", p.region + "b", p.region + "c"}, "id": p.region}
	case "aws:ec2/getRouteTables:getRouteTables":
		// Each isolated subnet of the stand-in VPC has a route table of its
		// own, as awsx makes them; the filter names the subnets.
		var ids []any
		if filters, ok := args["filters"]; ok && filters.IsArray() {
			for _, f := range filters.ArrayValue() {
				if values, ok := f.ObjectValue()["values"]; ok && values.IsArray() {
					for _, v := range values.ArrayValue() {
						ids = append(ids, "rtb-"+strings.TrimPrefix(v.StringValue(), "subnet-"))
					}
				}
			}
		}
		if len(ids) == 0 {
			return nil, awsError("InvalidParameterValue", "getRouteTables: name the subnets (association.subnet-id)")
		}
		out = map[string]any{"ids": ids, "id": p.region}
	default:
		return nil, fmt.Errorf("awsprovider: no function %s", req.Tok)
	}
	s, err := marshal(resource.NewPropertyMapFromMap(out))
	return &pulumirpc.InvokeResponse{Return: s}, err
}
