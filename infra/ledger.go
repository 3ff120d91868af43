package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/qldb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumix"

	"github.com/privateledger/licences/function/env"

	"github.com/privateledger/licences/infra/preflight"
)

// QLDB actions, as IAM names them. PartiQL actions apply only to ledgers in
// the STANDARD permissions mode, which is why the ledger uses it.
const (
	qldbSendCommand     = "qldb:SendCommand"
	qldbSelect          = "qldb:PartiQLSelect"
	qldbInsert          = "qldb:PartiQLInsert"
	qldbUpdate          = "qldb:PartiQLUpdate"
	qldbDelete          = "qldb:PartiQLDelete"
	qldbHistoryFunction = "qldb:PartiQLHistoryFunction"
	qldbCreateTable     = "qldb:PartiQLCreateTable"
	qldbCreateIndex     = "qldb:PartiQLCreateIndex"
	// qldbRedact runs EXEC REDACT_REVISION on a table's revisions.
	qldbRedact = "qldb:PartiQLRedact"
)

// LedgerAccess is what one function may do in the ledger, beyond opening
// sessions on it (qldb:SendCommand, which every user needs).
type LedgerAccess struct {
	Tables  []string // PartiQL actions on the ledger's tables
	Catalog []string // PartiQL actions on information_schema.user_tables
}

// The ledger access of each function: the statements it runs, no more.
var (
	// apiAccess: the licence routes select, insert, update, delete and read
	// history; they never touch the catalog.
	apiAccess = LedgerAccess{
		Tables: []string{qldbSelect, qldbInsert, qldbUpdate, qldbDelete, qldbHistoryFunction},
	}
	// eraseAccess: erasure reads a deleted licence's deletion record and
	// history, records the erasure (an update of the deletion record),
	// redacts the revisions, and reads the licence table's id from the
	// catalog; it never inserts or deletes.
	eraseAccess = LedgerAccess{
		Tables:  []string{qldbSelect, qldbUpdate, qldbHistoryFunction, qldbRedact},
		Catalog: []string{qldbSelect},
	}
	// migrationAccess: the migration reads the catalog to see what exists,
	// then creates the table and indexes that do not.
	migrationAccess = LedgerAccess{
		Tables:  []string{qldbCreateTable, qldbCreateIndex},
		Catalog: []string{qldbSelect},
	}
)

// grants turns access into grants on the ledger whose ARN is given. Tables
// are matched by table/* because STANDARD mode names tables in ARNs by their
// generated id, not their name.
func (a LedgerAccess) grants(ledgerARN pulumi.StringOutput) []Grant {
	g := []Grant{
		{Sid: "SendCommand", Actions: []string{qldbSendCommand}, Resources: pulumi.StringArray{ledgerARN}},
		{Sid: "Tables", Actions: a.Tables, Resources: pulumi.StringArray{pulumi.Sprintf("%s/table/*", ledgerARN)}},
	}
	if len(a.Catalog) > 0 {
		g = append(g, Grant{Sid: "Catalog", Actions: a.Catalog,
			Resources: pulumi.StringArray{pulumi.Sprintf("%s/information_schema/user_tables", ledgerARN)}})
	}
	return g
}

// LedgerArgs configures a Ledger.
type LedgerArgs struct {
	Name               string
	DeletionProtection bool
	// KMSKeyARN is the stage key; nil means an AWS-owned key.
	KMSKeyARN pulumi.StringPtrInput
}

// Ledger is a QLDB ledger in the STANDARD permissions mode, where every
// PartiQL command must be allowed by IAM table by table.
type Ledger struct {
	pulumi.ResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	ARN  pulumi.StringOutput `pulumi:"arn"`
}

// NewLedger creates the ledger and, when asked, its customer-managed key.
func NewLedger(ctx *pulumi.Context, name string, args LedgerArgs, opts ...pulumi.ResourceOption) (*Ledger, error) {
	l := &Ledger{}
	if err := ctx.RegisterComponentResource("licences:infra:Ledger", name, l, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(l)

	ledger, err := qldb.NewLedger(ctx, name, &qldb.LedgerArgs{
		Name:               pulumi.String(args.Name),
		PermissionsMode:    pulumi.String("STANDARD"),
		DeletionProtection: pulumi.Bool(args.DeletionProtection),
		KmsKey:             args.KMSKeyARN,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create ledger: %w", err)
	}
	l.Name = ledger.Name
	l.ARN = ledger.Arn
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{"name": l.Name, "arn": l.ARN})
}

// qldbEndpoint is the QLDB session service's interface endpoint: both
// functions reach the ledger through it.
var qldbEndpoint = endpointSpec{name: "qldb-endpoint", service: "qldb.session", actions: "qldb", output: "qldbEndpoint"}

// newQLDBEngine creates the ledger: the QLDB engine. Deleting a ledger
// leaves nothing behind, so the stage key need not outlive the stage.
func newQLDBEngine(ctx *pulumi.Context, cfg Config, n names, account Account, opts pulumi.ResourceOption) (engine, error) {
	key, err := stageKey(ctx, n, cfg.KMSKey, false, account, opts)
	if err != nil {
		return engine{}, err
	}
	ledger, err := NewLedger(ctx, "ledger", LedgerArgs{
		Name:               n.ledger(),
		DeletionProtection: cfg.DeletionProtection,
		KMSKeyARN:          key,
	}, opts)
	if err != nil {
		return engine{}, fmt.Errorf("ledger: %w", err)
	}
	settings := pulumix.Apply(ledger.Name, func(name string) env.Config {
		return env.Config{Engine: env.QLDB, QLDB: env.QLDBConfig{LedgerName: name}}
	})
	return engine{
		api:       storeRole{grants: apiAccess.grants(ledger.ARN), settings: settings},
		erase:     storeRole{grants: eraseAccess.grants(ledger.ARN), settings: settings},
		migration: storeRole{grants: migrationAccess.grants(ledger.ARN), settings: settings},
		endpoint:  qldbEndpoint,
		ready:     pulumi.StringMap{"ledger": ledger.ARN},
		outputs:   pulumi.Map{"ledgerName": ledger.Name},
		key:       key,
	}, nil
}

// qldbEngine is the seed's engine: a QLDB ledger the functions reach
// through its session endpoint.
type qldbEngine struct{}

func (qldbEngine) extraParts() []string { return nil }

func (qldbEngine) declare(ctx *pulumi.Context, cfg Config, n names, _ *Network, account Account, _ map[string]*ExecutionRole, opts pulumi.ResourceOption) (engine, error) {
	return newQLDBEngine(ctx, cfg, n, account, opts)
}

// alarms: OCC conflicts and command latency, QLDB's own metrics.
func (qldbEngine) alarms(c Config, n names) []alarm {
	th, five := c.AlarmThresholds, 300
	var out []alarm
	ledger := map[string]string{"LedgerName": n.ledger()}
	out = append(out,
		alarm{ID: "qldb-occ-conflicts", Description: "QLDB OCC conflicts", Namespace: "AWS/QLDB", Metric: "OccConflictExceptions",
			Dimensions: ledger, Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["qldbOccConflicts"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		alarm{ID: "qldb-command-latency", Description: "QLDB command latency, ms", Namespace: "AWS/QLDB", Metric: "CommandLatency",
			Dimensions: ledger, Statistic: "Average", Period: five, EvaluationPeriods: 2, Threshold: th["qldbCommandLatencyMs"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
	return out
}

// rules: the QLDB engine reads no setting of its own.
func (qldbEngine) rules() []configRule { return nil }

// preflight: a ledger has nothing the preflight can check (AWS takes no
// new ledger anywhere; the stage says so).
func (qldbEngine) preflight(Config) *preflight.Aurora { return nil }
