// Command awsprovider is a stand-in for the aws and awsx resource providers, so
// the stack runs through the real Pulumi engine with no cloud to reach. Run
// as pulumi-resource-aws it keeps every resource's inputs as its state and
// adds the outputs the program reads (ids, ARNs, URLs); run as
// pulumi-resource-awsx it constructs the VPC component with subnet ids. Its
// answers are deterministic, so a second `up` of an unchanged program has
// nothing to do.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	version := map[string]string{"aws": "6.83.4", "awsx": "2.22.0"}[name]
	if version == "" {
		fmt.Fprintf(os.Stderr, "awsprovider: run as pulumi-resource-aws or pulumi-resource-awsx, not %s\n", os.Args[0])
		os.Exit(2)
	}
	err := provider.Main(name, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &standin{name: name, version: version, host: host}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type standin struct {
	pulumirpc.UnimplementedResourceProviderServer
	name, version string
	host          *provider.HostClient
	region        string
}

const account = "123456789012"

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

func (p *standin) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

func (p *standin) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.name, p.version)}, nil
}

func (p *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *standin) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *standin) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	p.region = "eu-west-2"
	if args, err := unmarshal(req.Args); err == nil {
		if r, ok := args["region"]; ok && r.IsString() {
			p.region = r.StringValue()
		}
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (p *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

// Diff compares the new inputs with the old ones: any difference is an
// update in place.
func (p *standin) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	oldSrc := req.OldInputs
	if oldSrc == nil {
		oldSrc = req.Olds
	}
	olds, err := unmarshal(oldSrc)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	var diffs []string
	for k, v := range news {
		if o, ok := olds[k]; !ok || !o.DeepEquals(v) {
			diffs = append(diffs, string(k))
		}
	}
	for k := range olds {
		if _, ok := news[k]; !ok && req.OldInputs != nil {
			diffs = append(diffs, string(k))
		}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{Changes: changes, Diffs: diffs}, nil
}

func (p *standin) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	id, outs, err := p.state(req.Urn, req.Properties)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: outs}, nil
}

func (p *standin) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	_, outs, err := p.state(req.Urn, req.News)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: outs}, nil
}

func (p *standin) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.Id, Properties: req.Properties, Inputs: req.Inputs}, nil
}

func (p *standin) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// state is a resource's id and outputs: its inputs and what AWS would add.
func (p *standin) state(urnString string, props *structpb.Struct) (string, *structpb.Struct, error) {
	in, err := unmarshal(props)
	if err != nil {
		return "", nil, err
	}
	urn := resource.URN(urnString)
	typ, name := string(urn.Type()), urn.Name()
	sum := sha256.Sum256([]byte(urnString))
	id := strings.ToLower(strings.Split(typ, ":")[2]) + "-" + hex.EncodeToString(sum[:6])
	out := in.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return name
	}
	arn := func(service, res string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, p.region, account, res)
	}
	switch typ {
	case "aws:iam/role:Role":
		id = str("name")
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", account, id))
		set("name", id)
	case "aws:qldb/ledger:Ledger":
		id = str("name")
		set("arn", arn("qldb", "ledger/"+id))
	case "aws:lambda/function:Function":
		id = str("name")
		set("arn", arn("lambda", "function:"+id))
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", p.region, arn("lambda", "function:"+id)))
	case "aws:cloudwatch/logGroup:LogGroup":
		id = str("name")
		set("arn", arn("logs", "log-group:"+id))
	case "aws:kms/key:Key":
		set("arn", arn("kms", "key/"+id))
		set("keyId", id)
	case "aws:apigateway/restApi:RestApi":
		set("rootResourceId", "root-"+id)
		set("executionArn", arn("execute-api", id))
	case "aws:apigateway/stage:Stage":
		set("invokeUrl", fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", id, p.region, str("stageName")))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		set("dnsEntries", []any{map[string]any{"dnsName": id + ".vpce.amazonaws.com", "hostedZoneId": "Z1"}})
	case "aws:lambda/invocation:Invocation":
		set("result", `{"schemaVersion":1}`)
	}
	s, err := marshal(out)
	return id, s, err
}

func (p *standin) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	var out map[string]any
	switch req.Tok {
	case "aws:index/getRegion:getRegion":
		out = map[string]any{"name": p.region, "id": p.region}
	case "aws:index/getPartition:getPartition":
		out = map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out = map[string]any{"accountId": account, "arn": "arn:aws:iam::" + account + ":user/standin", "userId": "AIDASTANDIN", "id": account}
	default:
		return nil, fmt.Errorf("awsprovider: no function %s", req.Tok)
	}
	s, err := marshal(resource.NewPropertyMapFromMap(out))
	return &pulumirpc.InvokeResponse{Return: s}, err
}

// vpc is the awsx VPC component as the stand-in constructs it.
type vpc struct {
	pulumi.ResourceState
	VpcID             pulumi.StringOutput      `pulumi:"vpcId"`
	IsolatedSubnetIDs pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`
}

func (p *standin) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
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
