// Package infra is the licence API's infrastructure, as Pulumi components: a
// Network of isolated subnets, the ledger engine (a QLDB Ledger or an Aurora
// Database), the Functions that use it, the interface Endpoints that are
// their only ways out of the VPC, the Schema the migration creates through
// them, and the API in front.
package infra

import (
	"context"
	"fmt"
	"maps"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumix"

	"github.com/privateledger/licences/function"
	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/route"
	"github.com/privateledger/licences/function/schema"
)

// The sizing of the functions besides the API's: the migration runs a few
// DDL statements at deploy time, so it needs little memory and a generous
// timeout; erasure is rare and small.
const (
	migrationMemoryMB       = 256
	migrationTimeoutSeconds = 120
	eraseMemoryMB           = 256
	// The digest's full verification reads the whole ledger and is bound
	// by CPU (about 17 s of it at a million revisions, docs/testing.md),
	// which Lambda gives in proportion to memory: 1,769 MB is one vCPU.
	// Estimated from that: at 256 MB (a seventh of one) the run would take
	// about two minutes at a million revisions and reach the timeout near
	// two and a half million; at one vCPU about 20 s, the timeout near
	// fifteen million. The hourly incremental run takes seconds, so the
	// price is cents a month.
	digestMemoryMB       = 1769
	digestTimeoutSeconds = 300
)

// part is one function of the stage: its entrypoint, what it is for, its
// size, and its part in the engine.
type part struct {
	name, description string
	memoryMB, timeout int
	store             storeRole
	reserved          int // executions reserved; 0: none
}

// StackOption changes how NewStack reaches AWS while it deploys.
type StackOption func(*stackOptions)

type stackOptions struct {
	activate func(ctx context.Context, function string) error
}

// WithActivation makes the stack wait, during an update (not a preview),
// until activate says the migration function can be invoked before the
// migration's invocation is sent: Lambda fails an invocation of a function
// idle long enough to be Inactive (preflight.Checker.Activate).
func WithActivation(activate func(ctx context.Context, function string) error) StackOption {
	return func(o *stackOptions) { o.activate = activate }
}

// NewStack declares every resource of a stage from its configuration and the
// handler's artifact, and returns the stack outputs.
func NewStack(ctx *pulumi.Context, cfg Config, art function.Artifact, options ...StackOption) (pulumi.Map, error) {
	var o stackOptions
	for _, opt := range options {
		opt(&o)
	}
	provider, err := newProvider(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := stage{cfg: cfg, names: newNames(cfg), account: lookupAccount(ctx, provider), opts: pulumi.Providers(provider), invoke: pulumi.Provider(provider)}
	roles, err := s.rolesThenNetwork(ctx)
	if err != nil {
		return nil, err
	}
	eng, err := cfg.engine.declare(ctx, cfg, s.names, s.network, s.account, roles, s.opts)
	if err != nil {
		return nil, err
	}
	s.key = eng.key
	fns, all, err := s.functions(ctx, art, roles, eng)
	if err != nil {
		return nil, err
	}
	outputs := pulumi.Map{
		"vpcId":                   s.network.VpcID,
		"subnetIds":               s.network.SubnetIDs,
		"functionSecurityGroupId": s.network.FunctionSecurityGroupID,
		"apiFunctionName":         fns[apiPart].Name,
		"eraseFunctionName":       fns[erasePart].Name,
		"migrationFunctionName":   fns[migrationPart].Name,
	}
	maps.Copy(outputs, eng.outputs)
	if err := s.digests(ctx, eng, fns, outputs); err != nil {
		return nil, err
	}
	endpoints, err := s.endpoints(ctx, eng, all, outputs)
	if err != nil {
		return nil, err
	}
	ledgerSchema, err := s.schema(ctx, eng, endpoints, fns, o)
	if err != nil {
		return nil, err
	}
	api, err := s.api(ctx, fns, ledgerSchema)
	if err != nil {
		return nil, err
	}
	if err := s.guards(ctx, api); err != nil {
		return nil, err
	}
	mon, err := s.monitoring(ctx, api, fns)
	if err != nil {
		return nil, err
	}
	outputs["alarmTopicArn"] = mon.TopicARN
	outputs["dashboardUrl"] = mon.DashboardURL
	outputs["apiUrl"] = api.URL
	outputs["apiClientPolicyArn"] = api.ClientPolicyARNs[route.Licences]
	outputs["apiEraserPolicyArn"] = api.ClientPolicyARNs[route.Erasure]
	return outputs, nil
}

// newProvider is the stage's one AWS provider. Every resource goes through
// it, so every taggable resource carries the project and stage tags without
// repeating them. It reaches AWS as the preflight did: an explicit provider
// reads no stack setting itself, so the profile and role are handed to it.
func newProvider(ctx *pulumi.Context, cfg Config) (*aws.Provider, error) {
	providerArgs := &aws.ProviderArgs{
		Region: pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{
			Tags: pulumi.StringMap{"project": pulumi.String(cfg.Project), "stage": pulumi.String(cfg.Stage)},
		},
	}
	if cfg.Profile != "" {
		providerArgs.Profile = pulumi.String(cfg.Profile)
	}
	if r := cfg.AssumeRole; r != nil {
		role := &aws.ProviderAssumeRoleArgs{RoleArn: pulumi.String(r.RoleARN)}
		if r.SessionName != "" {
			role.SessionName = pulumi.String(r.SessionName)
		}
		if r.ExternalID != "" {
			role.ExternalId = pulumi.String(r.ExternalID)
		}
		if r.Duration > 0 {
			role.Duration = pulumi.String(r.Duration.String())
		}
		providerArgs.AssumeRole = role
	}
	provider, err := aws.NewProvider(ctx, "aws", providerArgs)
	if err != nil {
		return nil, fmt.Errorf("create aws provider: %w", err)
	}
	return provider, nil
}

// rolesThenNetwork makes the functions' roles, then the network, which
// waits for them, so that on destroy the roles outlive the subnets and
// groups: Lambda removes a function's network interfaces with its role,
// after the function is gone.
func (s *stage) rolesThenNetwork(ctx *pulumi.Context) (map[string]*ExecutionRole, error) {
	roles := map[string]*ExecutionRole{}
	var networkPolicies []pulumi.Resource
	for _, p := range stageParts(s.cfg) {
		r, err := NewExecutionRole(ctx, p, ExecutionRoleArgs{
			Name: s.names.role(p), FunctionName: s.names.function(p), Account: s.account,
		}, s.opts)
		if err != nil {
			return nil, fmt.Errorf("%s role: %w", p, err)
		}
		roles[p] = r
		networkPolicies = append(networkPolicies, r.networkPolicy)
	}
	var err error
	s.network, err = NewNetwork(ctx, "network", NetworkArgs{
		CIDR:                      s.cfg.VPCCIDR.String(),
		AZCount:                   s.cfg.AZCount,
		FunctionSecurityGroupName: s.names.securityGroup("function"),
	}, s.opts, pulumi.DependsOn(networkPolicies))
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return roles, nil
}

// functions declares the stage's functions, each with its part's store
// settings and reservation, by part and in order.
func (s stage) functions(ctx *pulumi.Context, art function.Artifact, roles map[string]*ExecutionRole, eng engine) (map[string]*Function, []*Function, error) {
	cfg := s.cfg
	// The functions behind API Gateway answer with the stage's CORS origin.
	withCORS := func(r storeRole) storeRole {
		r.settings = pulumix.Apply(r.settings, func(c env.Config) env.Config {
			c.CORSAllowOrigin = cfg.CORSAllowOrigin
			return c
		})
		return r
	}
	parts := []part{
		{name: apiPart, description: "Licence API", memoryMB: cfg.MemoryMB, timeout: cfg.TimeoutSeconds, store: withCORS(eng.api)},
		{name: erasePart, description: "Erases the personal data of deleted licences", memoryMB: eraseMemoryMB, timeout: cfg.TimeoutSeconds, store: withCORS(eng.erase)},
		{name: migrationPart, description: "Creates the licence ledger's schema", memoryMB: migrationMemoryMB, timeout: migrationTimeoutSeconds, store: eng.migration},
	}
	if eng.digest != nil {
		parts = append(parts, part{name: digestPart, description: "Verifies the licence ledger against its last digest, then writes the next",
			memoryMB: digestMemoryMB, timeout: digestTimeoutSeconds, store: *eng.digest})
	}
	reserved := reservedConcurrency(cfg)
	for i := range parts {
		parts[i].reserved = reserved[parts[i].name]
	}
	s.key = eng.key
	fns := map[string]*Function{}
	var all []*Function
	for _, p := range parts {
		f, err := s.function(ctx, art, roles[p.name], p)
		if err != nil {
			return nil, nil, err
		}
		fns[p.name] = f
		all = append(all, f)
	}
	return fns, all, nil
}

// digests declares the digest function's schedules and its way to the
// bucket, where the engine keeps digests.
func (s stage) digests(ctx *pulumi.Context, eng engine, fns map[string]*Function, outputs pulumi.Map) error {
	if eng.digest == nil {
		return nil
	}
	cfg := s.cfg
	outputs["digestFunctionName"] = fns[digestPart].Name
	if _, err := NewDigests(ctx, "digests", DigestsArgs{
		Function:                fns[digestPart],
		Bucket:                  eng.bucket,
		Schedule:                cfg.DigestSchedule,
		ScheduleName:            s.names.schedule(digestPart),
		FullSchedule:            cfg.FullVerifySchedule,
		FullScheduleName:        s.names.schedule(digestPart + "-full"),
		SchedulerRoleName:       s.names.role(digestPart + "-scheduler"),
		VpcID:                   s.network.VpcID,
		RouteTableIDs:           s.network.routeTableIDs(ctx, s.invoke),
		FunctionSecurityGroupID: s.network.FunctionSecurityGroupID,
		Account:                 s.account,
	}, s.opts); err != nil {
		return fmt.Errorf("digests: %w", err)
	}
	return nil
}

// endpoints declares the interface endpoints the functions reach AWS
// through: the engine's, and X-Ray's where asked.
func (s stage) endpoints(ctx *pulumi.Context, eng engine, all []*Function, outputs pulumi.Map) (map[endpointSpec]*Endpoint, error) {
	specs := []endpointSpec{eng.endpoint}
	if s.cfg.XRayEndpoint {
		specs = append(specs, xrayEndpoint)
	}
	endpoints := map[endpointSpec]*Endpoint{}
	for _, spec := range specs {
		ep, err := s.endpoint(ctx, spec, all)
		if err != nil {
			return nil, err
		}
		endpoints[spec] = ep
		maps.Copy(outputs, ep.outputs(spec.output))
	}
	return endpoints, nil
}

// schema runs the migration once the engine and its endpoint are ready.
func (s stage) schema(ctx *pulumi.Context, eng engine, endpoints map[endpointSpec]*Endpoint, fns map[string]*Function, o stackOptions) (*Schema, error) {
	// The migration waits for what the engine lists and for the endpoint
	// it reaches the engine through.
	ready := pulumi.StringMap{"endpoint": endpoints[eng.endpoint].EndpointID}
	maps.Copy(ready, eng.ready)
	ledgerSchema, err := NewSchema(ctx, "schema", SchemaArgs{
		MigrationFunction: activated(ctx, fns[migrationPart].Name, o.activate),
		Version:           schema.Version,
		Fingerprint:       schema.Fingerprint(),
		WaitFor:           ready,
	}, s.opts)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return ledgerSchema, nil

}

// api declares the REST API on the functions, live once the schema is.
func (s stage) api(ctx *pulumi.Context, fns map[string]*Function, ledgerSchema *Schema) (*API, error) {
	cfg := s.cfg
	accountRole, err := findAccountRole(ctx, s.names.accountRole(), s.invoke)
	if err != nil {
		return nil, err
	}
	api, err := NewAPI(ctx, "api", APIArgs{
		Name:   s.names.prefix(),
		Stage:  cfg.Stage,
		Routes: route.Routes(),
		Capabilities: map[route.Capability]Capability{
			route.Licences: {Function: fns[apiPart], Callers: cfg.APICallers, ClientPolicyName: s.names.clientPolicy("api")},
			route.Erasure:  {Function: fns[erasePart], Callers: cfg.APIErasers, ClientPolicyName: s.names.clientPolicy("eraser")},
		},
		ThrottleRateLimit:  cfg.ThrottleRateLimit,
		ThrottleBurstLimit: cfg.ThrottleBurstLimit,
		CORSAllowOrigin:    cfg.CORSAllowOrigin,
		AccessLogGroupName: s.names.accessLogGroup(),
		KMSKeyARN:          s.key,
		LogRetentionDays:   cfg.LogRetentionDays,
		AccountRole:        accountRole,
		Account:            s.account,
		Ready:              []pulumi.Resource{ledgerSchema.invocation},
	}, s.opts)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return api, nil
}

// guards declares what watches the stage's traffic where its config asks:
// the WAF in front of the API, and the VPC's flow logs.
func (s stage) guards(ctx *pulumi.Context, api *API) error {
	cfg := s.cfg
	if cfg.WAF {
		if _, err := NewFirewall(ctx, "waf", FirewallArgs{
			Name:             s.names.webACL(),
			StageARN:         api.StageARN,
			RateLimit:        cfg.WAFRateLimit,
			LogGroupName:     s.names.wafLogGroup(),
			LogRetentionDays: cfg.LogRetentionDays,
			KMSKeyARN:        s.key,
		}, s.opts); err != nil {
			return fmt.Errorf("waf: %w", err)
		}
	}
	if cfg.FlowLogs {
		if _, err := NewFlowLogs(ctx, "flow-logs", FlowLogsArgs{
			VpcID:            s.network.VpcID,
			LogGroupName:     s.names.flowLogGroup(),
			LogRetentionDays: cfg.LogRetentionDays,
			KMSKeyARN:        s.key,
			RoleName:         s.names.role("flow-logs"),
			Account:          s.account,
		}, s.opts); err != nil {
			return fmt.Errorf("flow logs: %w", err)
		}
	}
	return nil
}

// monitoring declares the stage's alarms, their topic and its dashboard.
func (s stage) monitoring(ctx *pulumi.Context, api *API, fns map[string]*Function) (*Monitoring, error) {
	cfg := s.cfg
	mon, err := NewMonitoring(ctx, "monitoring", MonitoringArgs{
		Prefix:    s.names.prefix(),
		Region:    cfg.Region,
		Alarms:    alarms(cfg, s.names),
		Filters:   metricFilters(s.names),
		Namespace: metricsNamespace(cfg.Stage),
		Emails:    cfg.AlarmEmails,
		KMSKeyARN: s.key,
		Account:   s.account,
		WaitFor:   []pulumi.Resource{api, fns[apiPart], fns[erasePart]},
	}, s.opts)
	if err != nil {
		return nil, fmt.Errorf("monitoring: %w", err)
	}
	return mon, nil
}

// activated is the function's name once activate says it can be invoked:
// what the migration's invocation is given, so it waits for that. A
// preview, or a stack with no way to ask, takes the name as it is.
func activated(ctx *pulumi.Context, name pulumi.StringOutput, activate func(context.Context, string) error) pulumi.StringOutput {
	if activate == nil || ctx.DryRun() {
		return name
	}
	return name.ApplyTWithContext(ctx.Context(), func(c context.Context, n string) (string, error) {
		if err := activate(c, n); err != nil {
			return "", fmt.Errorf("migration function: %w", err)
		}
		return n, nil
	}).(pulumi.StringOutput)
}

// stageParts are the stage's functions, by part: the three every stage has,
// and those its engine adds.
func stageParts(cfg Config) []string {
	return append([]string{apiPart, erasePart, migrationPart}, cfg.engine.extraParts()...)
}

// reservedConcurrency is the executions each function of the stage
// reserves, by part (0: none). Where the API reserves executions, every
// other function reserves one: each is bounded, and holds at most one
// database connection. The preflight checks the account can hold them.
func reservedConcurrency(cfg Config) map[string]int {
	out := map[string]int{}
	for _, p := range stageParts(cfg) {
		switch {
		case p == apiPart:
			out[p] = cfg.APIReservedConcurrency
		case cfg.APIReservedConcurrency > 0:
			out[p] = 1
		}
	}
	return out
}

// stage is what every part of a stage is declared with.
type stage struct {
	cfg     Config
	names   names
	account Account
	network *Network
	opts    pulumi.ResourceOption // the tagging provider
	invoke  pulumi.InvokeOption   // the same, for provider functions
	key     pulumi.StringPtrInput // the stage key; nil: AWS's own
}

// function declares one of the stage's functions: the artifact run as part
// in the isolated subnets, with grants and an environment from settings.
func (s stage) function(ctx *pulumi.Context, art function.Artifact, role *ExecutionRole, p part) (*Function, error) {
	f, err := NewFunction(ctx, p.name, FunctionArgs{
		Name:                       s.names.function(p.name),
		Role:                       role,
		Description:                p.description,
		Entrypoint:                 p.name,
		Artifact:                   art,
		MemoryMB:                   p.memoryMB,
		TimeoutSeconds:             p.timeout,
		LogRetentionDays:           s.cfg.LogRetentionDays,
		SubnetIDs:                  s.network.SubnetIDs,
		SecurityGroupID:            s.network.FunctionSecurityGroupID,
		ReplacementSecurityGroupID: s.network.DefaultSecurityGroupID,
		Environment:                environment(p.store.settings),
		Grants:                     p.store.grants,
		Account:                    s.account,
		KMSKeyARN:                  s.key,
		ReservedConcurrency:        p.reserved,
	}, s.opts)
	if err != nil {
		return nil, fmt.Errorf("%s function: %w", p.name, err)
	}
	return f, nil
}

// endpoint declares the interface endpoint spec names, admitting each of
// the functions for its grants of the endpoint's service and no one else.
func (s stage) endpoint(ctx *pulumi.Context, spec endpointSpec, functions []*Function) (*Endpoint, error) {
	var access []EndpointAccess
	for _, f := range functions {
		if grants := grantsOf(f.grants, spec.actions); len(grants) > 0 {
			access = append(access, EndpointAccess{Name: f.part, Principal: f.RoleARN, Grants: grants})
		}
	}
	ep, err := NewEndpoint(ctx, spec.name, EndpointArgs{
		ServiceName:           s.account.endpointService(spec.service),
		VpcID:                 s.network.VpcID,
		SubnetIDs:             s.network.SubnetIDs,
		ClientSecurityGroupID: s.network.FunctionSecurityGroupID,
		SecurityGroupName:     s.names.securityGroup(spec.name),
		Access:                access,
		PolicyOptional:        spec.policyOptional,
	}, s.opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	return ep, nil
}
