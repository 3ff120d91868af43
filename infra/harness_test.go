package infra

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
	"github.com/privateledger/licences/function/env"
)

// shippedStages are the stages the repository ships: one per stack file.
var shippedStages = func() []string {
	files, _ := filepath.Glob(filepath.Join("..", "Pulumi.*.yaml"))
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	return out
}()

// eachStage runs test on a mocked deployment of every shipped stage whose
// configuration keep accepts (nil: every stage), and fails when none is.
func eachStage(t *testing.T, keep func(Config) bool, test func(t *testing.T, d *deployment)) {
	t.Helper()
	ran := 0
	for _, stage := range shippedStages {
		d := mustDeploy(t, stage, nil)
		if keep != nil && !keep(d.config) {
			continue
		}
		ran++
		t.Run(stage, func(t *testing.T) { test(t, d) })
	}
	if ran == 0 {
		t.Fatal("no shipped stage to test")
	}
}

// onEngine keeps the stages of one ledger engine.
func onEngine(e env.Engine) func(Config) bool {
	return func(c Config) bool { return c.LedgerEngine == e }
}

// The account and partition the mocked provider reports.
const (
	testAccount   = "123456789012"
	testPartition = "aws"
)

// stackConfig loads a stack's configuration the way the Pulumi CLI hands it
// to the program: the project's defaults from Pulumi.yaml, overlaid with the
// stack file's values, then with overrides. It fails on a stack key in the
// project's namespace that Pulumi.yaml does not declare.
func stackConfig(t *testing.T, stack string, overrides map[string]string) map[string]string {
	t.Helper()
	project, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("load Pulumi.yaml: %v", err)
	}
	cfg := map[string]string{}
	for key, typ := range project.Config {
		if typ.Default != nil {
			cfg[project.Name.String()+":"+key] = configText(typ.Default)
		}
	}
	if stack != "" {
		sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
		ps, err := workspace.LoadProjectStack(sink, project, filepath.Join("..", "Pulumi."+stack+".yaml"))
		if err != nil {
			t.Fatalf("load Pulumi.%s.yaml: %v", stack, err)
		}
		values, err := ps.Config.Decrypt(config.NopDecrypter)
		if err != nil {
			t.Fatalf("read Pulumi.%s.yaml: %v", stack, err)
		}
		for k, v := range values {
			if k.Namespace() == project.Name.String() {
				if _, declared := project.Config[k.Name()]; !declared {
					t.Fatalf("Pulumi.%s.yaml sets %s, which Pulumi.yaml does not declare", stack, k)
				}
			}
			cfg[k.String()] = v
		}
	}
	maps.Copy(cfg, overrides)
	return cfg
}

// recorded is one resource the program registered.
type recorded struct {
	Type     string
	Name     string
	Inputs   map[string]any
	Provider string
	// Providers are the providers a component hands its children, by package.
	Providers map[string]string
	Parent    string   // the parent's URN
	Deps      []string // URNs the resource depends on
	// Retain says the resource is kept when the stack is destroyed;
	// IgnoreChanges lists inputs later runs leave as they were; ImportID
	// is the id of an existing resource the stack adopts.
	Retain        bool
	IgnoreChanges []string
	ImportID      string
}

// mocks stands in for the engine and the providers: it records every
// resource and answers the few provider functions the program calls.
type mocks struct {
	region string
	// policyless lists endpoint services that take no endpoint policy.
	policyless []string
	// roles are the IAM roles the account holds before the run.
	roles []string

	mu        sync.Mutex
	resources []recorded
	calls     []pulumi.MockCallArgs
	buckets   int // buckets named from a prefix
}

// bucketSuffix is how the mocked provider ends the name of the nth bucket
// it names from a prefix: as the real one does, in 26 characters (a
// timestamp, then a counter in hex), but at a fixed time.
func bucketSuffix(n int) string { return fmt.Sprintf("202501010000000000%08x", n) }

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	r := recorded{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs.Mappable(), Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Deps, r.Providers, r.Parent = rpc.GetDependencies(), rpc.GetProviders(), rpc.GetParent()
		r.Retain, r.IgnoreChanges, r.ImportID = rpc.GetRetainOnDelete(), rpc.GetIgnoreChanges(), rpc.GetImportId()
	}
	m.resources = append(m.resources, r)
	m.mu.Unlock()

	id := args.Name + "-id"
	out := args.Inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	arn := func(service, res string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", testPartition, service, m.region, testAccount, res)
	}
	name, _ := args.Inputs["name"].V.(string)
	switch args.TypeToken {
	case "awsx:ec2:Vpc":
		n := int(args.Inputs["numberOfAvailabilityZones"].NumberValue())
		var subnets []any
		for i := range n {
			subnets = append(subnets, fmt.Sprintf("subnet-%d", i))
		}
		set("vpcId", "vpc-1")
		set("isolatedSubnetIds", subnets)
		set("privateSubnetIds", []any{})
		set("publicSubnetIds", []any{})
	case "aws:iam/role:Role":
		// The provider's ARN carries a path no name-built string would: a
		// policy that holds it took the role's real ARN.
		set("arn", fmt.Sprintf("arn:%s:iam::%s:role/from-provider/%s", testPartition, testAccount, name))
		id = name
	case "aws:qldb/ledger:Ledger":
		set("arn", arn("qldb", "ledger/"+name))
		id = name
	case "aws:lambda/function:Function":
		set("arn", arn("lambda", "function:"+name))
		set("invokeArn", "arn:aws:apigateway:"+m.region+":lambda:path/2015-03-31/functions/"+arn("lambda", "function:"+name)+"/invocations")
		id = name
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", arn("logs", "log-group:"+name))
		id = name
	case "aws:kms/key:Key":
		set("arn", arn("kms", "key/0d1b2c3d-0000-4000-8000-000000000000"))
		set("keyId", "0d1b2c3d-0000-4000-8000-000000000000")
	case "aws:apigateway/restApi:RestApi":
		id = "api0123456"
		set("rootResourceId", "root0000")
		set("executionArn", arn("execute-api", id))
	case "aws:apigateway/stage:Stage":
		set("invokeUrl", "https://api0123456.execute-api."+m.region+".amazonaws.com/"+args.Inputs["stageName"].StringValue())
		set("arn", "arn:"+testPartition+":apigateway:"+m.region+"::/restapis/api0123456/stages/"+args.Inputs["stageName"].StringValue())
	case "aws:s3/bucketV2:BucketV2":
		// The provider names a bucket given a prefix: the prefix, then a
		// suffix of its own for each creation.
		id, _ = args.Inputs["bucket"].V.(string)
		if prefix, ok := args.Inputs["bucketPrefix"]; ok && id == "" {
			m.mu.Lock()
			m.buckets++
			id = prefix.StringValue() + bucketSuffix(m.buckets)
			m.mu.Unlock()
		}
		set("bucket", id)
		set("arn", "arn:"+testPartition+":s3:::"+id)
	case "aws:scheduler/schedule:Schedule":
		set("arn", arn("scheduler", "schedule/default/"+name))
	case "aws:sns/topic:Topic":
		set("arn", arn("sns", name))
	case "aws:iam/policy:Policy":
		set("arn", fmt.Sprintf("arn:%s:iam::%s:policy/%s", testPartition, testAccount, name))
	case "aws:wafv2/webAcl:WebAcl":
		set("arn", arn("wafv2", "regional/webacl/"+name+"/0d1b2c3d"))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		id = "vpce-" + args.Name
		set("prefixListId", "pl-"+args.Name)
		service := strings.TrimPrefix(args.Inputs["serviceName"].StringValue(), "com.amazonaws."+m.region+".")
		set("dnsEntries", []any{map[string]any{"dnsName": id + "." + service + "." + m.region + ".vpce.amazonaws.com", "hostedZoneId": "Z1"}})
	case "aws:ec2/securityGroup:SecurityGroup":
		id = "sg-" + args.Name
	case "aws:rds/cluster:Cluster":
		id = args.Inputs["clusterIdentifier"].StringValue()
		set("clusterResourceId", "cluster-ABCDEFGHIJKLMNOP")
		set("endpoint", id+".cluster-c1.eu-west-2.rds.amazonaws.com")
		set("engineVersion", args.Inputs["engineVersion"].StringValue())
		// What the cluster runs: on creation, the version it was asked for.
		set("engineVersionActual", args.Inputs["engineVersion"].StringValue())
		set("masterUserSecrets", []any{map[string]any{"secretArn": arn("secretsmanager", "secret:rds!cluster-1-AbCdEf"), "secretStatus": "active"}})
	case "aws:rds/clusterInstance:ClusterInstance":
		set("arn", arn("rds", "db:"+args.Inputs["identifier"].StringValue()))
	}
	return id, out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args)
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": m.region, "id": m.region}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": testPartition, "dnsSuffix": "amazonaws.com"}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": testAccount, "arn": "arn:aws:iam::" + testAccount + ":user/test", "userId": "AIDA"}), nil
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		name := args.Args["serviceName"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"serviceName": name, "serviceType": "Interface",
			"vpcEndpointPolicySupported": !slices.Contains(m.policyless, strings.TrimPrefix(name, "com.amazonaws."+m.region+".")),
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		var names []any
		for _, z := range "abc" {
			names = append(names, m.region+string(z))
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": m.region}), nil
	case "aws:ec2/getRouteTables:getRouteTables":
		// The isolated subnets' tables, one per subnet named in the filter.
		var ids []any
		for _, f := range args.Args["filters"].ArrayValue() {
			for i := range f.ObjectValue()["values"].ArrayValue() {
				ids = append(ids, fmt.Sprintf("rtb-%d", i))
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": m.region}), nil
	case "aws:iam/getRoles:getRoles":
		// ListRoles, filtered by the name regex as the provider does.
		re, err := regexp.Compile(args.Args["nameRegex"].StringValue())
		if err != nil {
			return nil, err
		}
		var names, arns []any
		for _, name := range m.roles {
			if re.MatchString(name) {
				names = append(names, name)
				arns = append(arns, fmt.Sprintf("arn:%s:iam::%s:role/%s", testPartition, testAccount, name))
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "arns": arns, "id": m.region}), nil
	}
	return nil, fmt.Errorf("unexpected call %s", args.Token)
}

// deployment is what one mocked run of the program registered.
type deployment struct {
	config    Config
	resources []recorded
	calls     []pulumi.MockCallArgs
	outputs   map[string]any
}

// testArtifact stands in for the handler's zip; its bytes are not read.
var testArtifact = function.Artifact{Path: "bootstrap-arm64.zip", SHA256: "c2hhMjU2", Size: 1, Arch: function.ARM64}

// deploy runs the stack's program under mocks, as stage, with cfg as its
// configuration, and returns what it registered or the program's error.
func deploy(t *testing.T, stage string, cfg map[string]string) (*deployment, error) {
	t.Helper()
	return deployTo(t, &mocks{region: cfg["aws:region"]}, stage, cfg)
}

// deployTo is deploy against the account m mocks.
func deployTo(t *testing.T, m *mocks, stage string, cfg map[string]string) (*deployment, error) {
	t.Helper()
	d := &deployment{outputs: map[string]any{}}
	var wg sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := LoadConfig(ctx)
		if err != nil {
			return err
		}
		d.config = c
		outputs, err := NewStack(ctx, c, testArtifact)
		if err != nil {
			return err
		}
		for k, v := range outputs {
			wg.Add(1)
			pulumi.ToOutput(v).ApplyT(func(x any) any {
				m.mu.Lock()
				d.outputs[k] = x
				m.mu.Unlock()
				wg.Done()
				return x
			})
		}
		return nil
	}, pulumi.WithMocks("licences", stage, m), func(info *pulumi.RunInfo) { info.Config = cfg })
	if err != nil {
		return nil, err
	}
	wg.Wait()
	d.resources, d.calls = m.resources, m.calls
	return d, nil
}

// mustDeploy is deploy for a configuration that must be valid.
func mustDeploy(t *testing.T, stage string, overrides map[string]string) *deployment {
	t.Helper()
	return mustDeployAs(t, stage, stage, overrides)
}

// mustDeployAs deploys the stage stack with the configuration of file's
// stack file (none if file is "").
func mustDeployAs(t *testing.T, stage, file string, overrides map[string]string) *deployment {
	t.Helper()
	d, err := deploy(t, stage, stackConfig(t, file, overrides))
	if err != nil {
		t.Fatalf("deploy %s: %v", stage, err)
	}
	return d
}

// ofType returns the resources of a type token.
func (d *deployment) ofType(typ string) []recorded {
	var out []recorded
	for _, r := range d.resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// one returns the single resource of a type with a logical name, failing
// the test unless there is exactly one.
func (d *deployment) one(t *testing.T, typ, name string) recorded {
	t.Helper()
	var found []recorded
	for _, r := range d.ofType(typ) {
		if r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d resources %s named %q, want 1; have %v", len(found), typ, name, d.names(typ))
	}
	return found[0]
}

// all returns the resources of a type token, failing the test unless
// there are exactly n: a check over "every X" must not pass on none.
func (d *deployment) all(t *testing.T, typ string, n int) []recorded {
	t.Helper()
	rs := d.ofType(typ)
	if len(rs) != n {
		t.Fatalf("%d resources %s, want %d: %v", len(rs), typ, n, d.names(typ))
	}
	return rs
}

func (d *deployment) names(typ string) []string {
	var out []string
	for _, r := range d.ofType(typ) {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// policy parses the policy document in a resource's input.
func policy(t *testing.T, r recorded, key string) PolicyDocument {
	t.Helper()
	s, ok := r.Inputs[key].(string)
	if !ok {
		t.Fatalf("%s %s has no %s", r.Type, r.Name, key)
	}
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("%s %s: %s is not a policy: %v", r.Type, r.Name, key, err)
	}
	return doc
}

// strs converts a recorded list input to strings.
func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// num reads a recorded number input as an int.
func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// byURN returns the resource a URN names.
func (d *deployment) byURN(t *testing.T, urn string) recorded {
	t.Helper()
	for _, r := range d.resources {
		if strings.HasSuffix(urn, "$"+r.Type+"::"+r.Name) || strings.HasSuffix(urn, "::"+r.Type+"::"+r.Name) {
			return r
		}
	}
	t.Fatalf("no resource has the URN %s", urn)
	return recorded{}
}

// dependsOn fails the test unless r depends on each resource, given as the
// end of its URN (type::name).
func dependsOn(t *testing.T, r recorded, deps ...string) {
	t.Helper()
	for _, dep := range deps {
		if !slices.ContainsFunc(r.Deps, func(u string) bool { return strings.HasSuffix(u, dep) }) {
			t.Errorf("%s does not wait for %s; it depends on %v", r.Name, dep, r.Deps)
		}
	}
}

// configText is a configuration value as the CLI hands it to the program:
// a scalar as text, a list or an object as JSON.
func configText(v any) string {
	switch v.(type) {
	case []any, map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}
