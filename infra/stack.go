// Package infra is the licence API's infrastructure, as Pulumi components: a
// Network of isolated subnets, a QLDB Ledger, the Functions that use it, the
// interface Endpoint that is their only way to it, the Schema the migration
// creates through that endpoint, and the API in front.
package infra

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
	"github.com/privateledger/licences/function/route"
	"github.com/privateledger/licences/function/schema"
)

// The migration function's sizing: it runs a few DDL statements at deploy
// time, so it needs little memory and a generous timeout.
const (
	migrationMemoryMB       = 256
	migrationTimeoutSeconds = 120
)

// Run is the Pulumi program: it reads the stage's configuration, builds the
// handler and declares the stack.
func Run(ctx *pulumi.Context) error { return RunIn("")(ctx) }

// RunIn is the program for a project in dir, for running it in-process
// (the Automation API's inline programs), where the working directory need
// not be the project's. An empty dir means the project Pulumi names, or
// else the working directory.
func RunIn(dir string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return run(ctx, dir) }
}

func run(ctx *pulumi.Context, root string) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	if root == "" {
		root = ctx.RootDirectory()
	}
	// The handler builds in the project, and its zip goes under .build there
	// by an absolute path, so the engine finds it whatever its own directory.
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	art, err := function.Build(ctx.Context(), function.Options{
		Dir:    root,
		OutDir: filepath.Join(root, ".build", "function"),
		Arch:   function.ARM64,
	})
	if err != nil {
		return err
	}
	outputs, err := NewStack(ctx, cfg, art)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}

// NewStack declares every resource of a stage from its configuration and the
// handler's artifact, and returns the stack outputs.
func NewStack(ctx *pulumi.Context, cfg Config, art function.Artifact) (pulumi.Map, error) {
	n := newNames(cfg)
	// Every resource goes through this provider, so every taggable resource
	// carries the project and stage tags without repeating them.
	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region: pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{
			Tags: pulumi.StringMap{"project": pulumi.String(cfg.Project), "stage": pulumi.String(cfg.Stage)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create aws provider: %w", err)
	}
	withAWS := pulumi.Providers(provider)
	account := lookupAccount(ctx, provider)

	network, err := NewNetwork(ctx, "network", NetworkArgs{
		CIDR:                      cfg.VPCCIDR.String(),
		AZCount:                   cfg.AZCount,
		FunctionSecurityGroupName: n.securityGroup("function"),
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}

	ledger, err := NewLedger(ctx, "ledger", LedgerArgs{
		Name:               n.ledger(),
		DeletionProtection: cfg.DeletionProtection,
		KMSKey:             cfg.KMSKey,
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}

	apiGrants := apiAccess.grants(ledger.ARN)
	migrationGrants := migrationAccess.grants(ledger.ARN)
	fnArgs := func(part, description, entrypoint string, memory, timeout int, grants []Grant, env pulumi.StringMap) FunctionArgs {
		env["LEDGER_NAME"] = ledger.Name
		return FunctionArgs{
			Name:             n.function(part),
			RoleName:         n.role(part),
			Description:      description,
			Entrypoint:       entrypoint,
			Artifact:         art,
			MemoryMB:         memory,
			TimeoutSeconds:   timeout,
			LogRetentionDays: cfg.LogRetentionDays,
			SubnetIDs:        network.SubnetIDs,
			SecurityGroupID:  network.FunctionSecurityGroupID,
			Environment:      env,
			Grants:           grants,
			Account:          account,
		}
	}
	apiFn, err := NewFunction(ctx, "api", fnArgs("api", "Licence API", "api",
		cfg.MemoryMB, cfg.TimeoutSeconds, apiGrants,
		pulumi.StringMap{"CORS_ALLOW_ORIGIN": pulumi.String(cfg.CORSAllowOrigin)}), withAWS)
	if err != nil {
		return nil, fmt.Errorf("api function: %w", err)
	}
	migrationFn, err := NewFunction(ctx, "migrate", fnArgs("migrate", "Creates the licence ledger's tables and indexes", "migrate",
		migrationMemoryMB, migrationTimeoutSeconds, migrationGrants, pulumi.StringMap{}), withAWS)
	if err != nil {
		return nil, fmt.Errorf("migration function: %w", err)
	}

	// newEndpoint puts an interface endpoint for service in the network,
	// admitting the functions for the grants given to each.
	newEndpoint := func(name, service string, apiGrants, migrationGrants []Grant) (*Endpoint, error) {
		return NewEndpoint(ctx, name, EndpointArgs{
			ServiceName:           account.endpointService(service),
			VpcID:                 network.VpcID,
			SubnetIDs:             network.SubnetIDs,
			ClientSecurityGroupID: network.FunctionSecurityGroupID,
			SecurityGroupName:     n.securityGroup(name),
			Access: []EndpointAccess{
				{Principal: apiFn.RoleARN, Grants: apiGrants},
				{Principal: migrationFn.RoleARN, Grants: migrationGrants},
			},
		}, withAWS)
	}
	endpoint, err := newEndpoint("qldb-endpoint", "qldb.session", apiGrants, migrationGrants)
	if err != nil {
		return nil, fmt.Errorf("qldb endpoint: %w", err)
	}
	outputs := pulumi.Map{}
	if cfg.XRayEndpoint {
		tracing := []Grant{{Sid: "Tracing", Actions: tracingActions, Resources: pulumi.StringArray{pulumi.String("*")}}}
		xray, err := newEndpoint("xray-endpoint", "xray", tracing, tracing)
		if err != nil {
			return nil, fmt.Errorf("x-ray endpoint: %w", err)
		}
		outputs["xrayEndpointId"] = xray.EndpointID
	}

	ledgerSchema, err := NewSchema(ctx, "schema", SchemaArgs{
		MigrationFunction: migrationFn.Name,
		Version:           schema.Version,
		LedgerARN:         ledger.ARN,
		EndpointID:        endpoint.EndpointID,
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}

	accountRole := ""
	if cfg.ManageAPIGatewayAccount {
		accountRole = n.role("apigw-logs")
	}
	api, err := NewAPI(ctx, "api", APIArgs{
		Name:               n.prefix(),
		Stage:              cfg.Stage,
		Routes:             route.Routes(),
		FunctionName:       apiFn.Name,
		FunctionInvokeARN:  apiFn.InvokeARN,
		ThrottleRateLimit:  cfg.ThrottleRateLimit,
		ThrottleBurstLimit: cfg.ThrottleBurstLimit,
		CORSAllowOrigin:    cfg.CORSAllowOrigin,
		AccessLogGroupName: n.accessLogGroup(),
		LogRetentionDays:   cfg.LogRetentionDays,
		AccountRoleName:    accountRole,
		Account:            account,
		Ready:              []pulumi.Resource{ledgerSchema.invocation},
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}

	outputs["apiUrl"] = api.URL
	outputs["ledgerName"] = ledger.Name
	outputs["vpcId"] = network.VpcID
	outputs["subnetIds"] = network.SubnetIDs
	outputs["endpointId"] = endpoint.EndpointID
	outputs["endpointDnsNames"] = endpoint.DNSNames
	outputs["functionSecurityGroupId"] = network.FunctionSecurityGroupID
	outputs["endpointSecurityGroupId"] = endpoint.SecurityGroupID
	outputs["apiFunctionName"] = apiFn.Name
	outputs["migrationFunctionName"] = migrationFn.Name
	return outputs, nil
}
