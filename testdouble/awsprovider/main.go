// Command awsprovider is a stand-in for the aws and awsx resource providers,
// so the stack runs through the real Pulumi engine with no cloud to reach.
//
// Run as pulumi-resource-aws it keeps every resource's inputs as its state
// and adds the outputs the program reads (ids, ARNs, URLs), and names a
// bucket given a prefix as the provider does, anew at each creation. It
// refuses what AWS would refuse: an input that breaks one of AWS's
// documented rules (infra/awsrules), a physical name already taken in the
// account (also by a resource a destroyed stack retained, which AWS keeps: a
// kept bucket's among them), a stage with access logs while the account has
// no API Gateway CloudWatch role, an account setting naming a role that does
// not exist, and an Aurora engine version below the one running. It imports
// (a read by id, as Pulumi's import option asks) what the account holds by
// physical name, whichever stack made it.
// The account lives in the file AWSPROVIDER_ACCOUNT names, shared by every
// stack of a test. AWSPROVIDER_AURORA_VERSION, when set, is the version AWS
// has upgraded Aurora clusters to, as a refresh then reads it.
//
// Run as pulumi-resource-awsx it constructs the VPC component, and refuses
// to unless it is handed an explicit AWS provider.
//
// Its answers are deterministic, so a second `up` of an unchanged program
// has nothing to do.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/privateledger/licences/infra/awsrules"
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

// CheckConfig checks the provider's own inputs (its default tags) as AWS
// checks the tags it is then given.
func (p *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.News, Failures: failures("pulumi:providers:aws", plainConfig(news))}, nil
}

// plainConfig is a provider's configuration as plain values: the engine
// hands object-valued settings over as JSON text.
func plainConfig(m resource.PropertyMap) map[string]any {
	out := m.Mappable()
	for k, v := range out {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
			var obj map[string]any
			if plainJSON(s, &obj) == nil {
				out[k] = obj
			}
		}
	}
	return out
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

// Check refuses inputs AWS would refuse (infra/awsrules).
func (p *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	typ := string(resource.URN(req.Urn).Type())
	return &pulumirpc.CheckResponse{Inputs: req.News, Failures: failures(typ, news.Mappable())}, nil
}

func failures(typ string, inputs map[string]any) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	for _, v := range awsrules.Check(typ, inputs) {
		out = append(out, &pulumirpc.CheckFailure{Property: v.Rule.Property, Reason: "AWS refuses this: " + v.Error()})
	}
	return out
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
	in, err := unmarshal(req.Properties)
	if err != nil {
		return nil, err
	}
	if req.Preview {
		id, outs, err := p.state(req.Urn, in)
		return &pulumirpc.CreateResponse{Id: id, Properties: outs}, err
	}
	if err := withAccount(func(a *accountState) error { return p.create(a, req.Urn, in) }); err != nil {
		return nil, err
	}
	id, outs, err := p.state(req.Urn, in)
	return &pulumirpc.CreateResponse{Id: id, Properties: outs}, err
}

func (p *standin) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.Olds)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.News)
	if err != nil {
		return nil, err
	}
	keepName(resource.URN(req.Urn).Type(), olds, news)
	if !req.Preview {
		if err := withAccount(func(a *accountState) error { return p.update(a, req.Urn, olds, news) }); err != nil {
			return nil, err
		}
	}
	_, outs, err := p.state(req.Urn, news)
	return &pulumirpc.UpdateResponse{Properties: outs}, err
}

// Read is what a refresh sees: the resource as it was left, but for what
// AWS changes by itself (an Aurora minor version upgrade).
func (p *standin) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if len(req.GetProperties().GetFields()) == 0 {
		// Nothing from any stack: an import.
		return p.importByID(req)
	}
	props, inputs := req.Properties, req.Inputs
	if v := os.Getenv("AWSPROVIDER_AURORA_VERSION"); v != "" && isAurora(resource.URN(req.Urn).Type()) {
		var err error
		if props, err = withEngineVersion(props, v); err != nil {
			return nil, err
		}
		if inputs, err = withEngineVersion(inputs, v); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.ReadResponse{Id: req.Id, Properties: props, Inputs: inputs}, nil
}

// importByID is a read with nothing but an id, as the import option asks
// for: AWS describes the resource whichever stack made it. The stand-in
// imports what it can find by physical name; an id it does not hold
// answers an empty id, which the engine reports as a resource that does
// not exist.
func (p *standin) importByID(req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := resource.URN(req.Urn).Type()
	if _, named := awsrules.PhysicalName(string(typ)); !named {
		return nil, fmt.Errorf("awsprovider: cannot import %s: the stand-in finds resources by physical name only", typ)
	}
	var in map[string]any
	err := withAccount(func(a *accountState) error {
		in = a.Inputs[string(typ)+" "+req.Id]
		return nil
	})
	if err != nil || in == nil {
		return &pulumirpc.ReadResponse{}, err
	}
	inputs := resource.NewPropertyMapFromMap(in)
	id, outs, err := p.state(req.Urn, inputs)
	if err != nil {
		return nil, err
	}
	if id != req.Id {
		return nil, fmt.Errorf("awsprovider: import of %s %s found %s", typ, req.Id, id)
	}
	marshalled, err := marshal(inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: id, Properties: outs, Inputs: marshalled}, nil
}

func (p *standin) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	props, err := unmarshal(req.Properties)
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, withAccount(func(a *accountState) error { p.release(a, req.Urn, props); return nil })
}
