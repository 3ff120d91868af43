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
	outputs := pulumi.Map{}

	network, err := NewNetwork(ctx, "network", NetworkArgs{
		CIDR:                      cfg.VPCCIDR.String(),
		AZCount:                   cfg.AZCount,
		FunctionSecurityGroupName: n.securityGroup("function"),
	}, withAWS)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}

	// The ledger engine decides what holds the licences, what each function
	// may do to it and how they reach it; nothing of the other engine exists.
	store, err := newStore(ctx, cfg, n, network, account, withAWS)
	if err != nil {
		return nil, err
	}
	for k, v := range store.outputs {
		outputs[k] = v
	}

	fnArgs := func(part, description string, memory, timeout int, grants []Grant, env pulumi.StringMap) FunctionArgs {
		for k, v := range store.env {
			env[k] = v
		}
		return FunctionArgs{
			Name:             n.function(part),
			RoleName:         n.role(part),
			Description:      description,
			Entrypoint:       part,
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
	apiFn, err := NewFunction(ctx, "api", fnArgs("api", "Licence API",
		cfg.MemoryMB, cfg.TimeoutSeconds, store.apiGrants,
		pulumi.StringMap{"CORS_ALLOW_ORIGIN": pulumi.String(cfg.CORSAllowOrigin)}), withAWS)
	if err != nil {
		return nil, fmt.Errorf("api function: %w", err)
	}
	migrationFn, err := NewFunction(ctx, "migrate", fnArgs("migrate", "Creates the licence ledger's schema",
		migrationMemoryMB, migrationTimeoutSeconds, store.migrationGrants, store.migrationEnv), withAWS)
	if err != nil {
		return nil, fmt.Errorf("migration function: %w", err)
	}

	// newEndpoint puts an interface endpoint for service in the network,
	// admitting each function role listed for its grants and no one else.
	newEndpoint := func(name, service string, access map[*Function][]Grant) (*Endpoint, error) {
		var admitted []EndpointAccess
		for _, fn := range []*Function{apiFn, migrationFn} {
			if grants, ok := access[fn]; ok {
				admitted = append(admitted, EndpointAccess{Principal: fn.RoleARN, Grants: grants})
			}
		}
		return NewEndpoint(ctx, name, EndpointArgs{
			ServiceName:           account.endpointService(service),
			VpcID:                 network.VpcID,
			SubnetIDs:             network.SubnetIDs,
			ClientSecurityGroupID: network.FunctionSecurityGroupID,
			SecurityGroupName:     n.securityGroup(name),
			Access:                admitted,
		}, withAWS)
	}
	access := map[*Function][]Grant{migrationFn: store.migrationGrants}
	if store.apiUsesEndpoint {
		access[apiFn] = store.apiGrants
	}
	endpoint, err := newEndpoint(store.endpointName, store.endpointService, access)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", store.endpointName, err)
	}
	if cfg.XRayEndpoint {
		tracing := []Grant{{Sid: "Tracing", Actions: tracingActions, Resources: pulumi.StringArray{pulumi.String("*")}}}
		xray, err := newEndpoint("xray-endpoint", "xray", map[*Function][]Grant{apiFn: tracing, migrationFn: tracing})
		if err != nil {
			return nil, fmt.Errorf("x-ray endpoint: %w", err)
		}
		outputs["xrayEndpointId"] = xray.EndpointID
	}

	ready := pulumi.StringMap{"endpoint": endpoint.EndpointID}
	for k, v := range store.ready {
		ready[k] = v
	}
	ledgerSchema, err := NewSchema(ctx, "schema", SchemaArgs{
		MigrationFunction: migrationFn.Name,
		Version:           schema.Version,
		WaitFor:           ready,
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

// store is what the ledger engine contributes to the stack.
type store struct {
	apiGrants, migrationGrants []Grant
	env                        pulumi.StringMap // for both functions
	migrationEnv               pulumi.StringMap // for the migration only
	// endpointService is the interface endpoint the engine needs; the API
	// uses it too when apiUsesEndpoint, else only the migration may.
	endpointName, endpointService string
	apiUsesEndpoint               bool
	ready                         pulumi.StringMap // what the migration waits for
	outputs                       pulumi.Map
}

func newStore(ctx *pulumi.Context, cfg Config, n names, network *Network, account Account, opts pulumi.ResourceOption) (store, error) {
	switch cfg.LedgerEngine {
	case EngineAurora:
		db, err := NewDatabase(ctx, "database", DatabaseArgs{
			Identifier:            n.prefix(),
			VpcID:                 network.VpcID,
			SubnetIDs:             network.SubnetIDs,
			ClientSecurityGroupID: network.FunctionSecurityGroupID,
			SecurityGroupName:     n.securityGroup("database"),
			MinCapacity:           cfg.AuroraMinCapacity,
			MaxCapacity:           cfg.AuroraMaxCapacity,
			BackupRetentionDays:   cfg.BackupRetentionDays,
			DeletionProtection:    cfg.DeletionProtection,
			KMSKey:                cfg.KMSKey,
		}, opts)
		if err != nil {
			return store{}, fmt.Errorf("database: %w", err)
		}
		return store{
			apiGrants:       []Grant{db.connectGrant(account, APIDatabaseUser)},
			migrationGrants: []Grant{db.secretGrant()},
			env: pulumi.StringMap{
				"LEDGER_ENGINE": pulumi.String(EngineAurora),
				"DB_HOST":       db.Endpoint,
				"DB_PORT":       pulumi.String(fmt.Sprint(postgresPort)),
				"DB_NAME":       pulumi.String(databaseName),
				"DB_USER":       pulumi.String(APIDatabaseUser),
			},
			migrationEnv:    pulumi.StringMap{"DB_SECRET_ARN": db.MasterSecretARN},
			endpointName:    "secrets-endpoint",
			endpointService: "secretsmanager",
			ready:           pulumi.StringMap{"cluster": db.ClusterResourceID, "writer": db.instance.Arn},
			outputs:         pulumi.Map{"databaseEndpoint": db.Endpoint},
		}, nil
	default:
		ledger, err := NewLedger(ctx, "ledger", LedgerArgs{
			Name:               n.ledger(),
			DeletionProtection: cfg.DeletionProtection,
			KMSKey:             cfg.KMSKey,
		}, opts)
		if err != nil {
			return store{}, fmt.Errorf("ledger: %w", err)
		}
		return store{
			apiGrants:       apiAccess.grants(ledger.ARN),
			migrationGrants: migrationAccess.grants(ledger.ARN),
			env:             pulumi.StringMap{"LEDGER_ENGINE": pulumi.String(EngineQLDB), "LEDGER_NAME": ledger.Name},
			migrationEnv:    pulumi.StringMap{},
			endpointName:    "qldb-endpoint",
			endpointService: "qldb.session",
			apiUsesEndpoint: true,
			ready:           pulumi.StringMap{"ledger": ledger.ARN},
			outputs:         pulumi.Map{"ledgerName": ledger.Name},
		}, nil
	}
}
