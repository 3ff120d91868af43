package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumix"

	"github.com/privateledger/licences/function/env"

	"github.com/privateledger/licences/infra/preflight"
)

// The Aurora database's fixed settings.
const (
	postgresPort     = 5432
	auroraEngineName = "aurora-postgresql"
	// auroraEngineVersion is the version a cluster is created with where
	// the preflight is off (LICENCES_PREFLIGHT=off); otherwise the
	// preflight chooses one the region offers, the LTS minor first. AWS
	// keeps a minor that is not LTS for about a year, so keep this one
	// current.
	auroraEngineVersion = "16.6"
	// auroraParameterFamily is the parameter group family of the engine
	// version's major release: every version chosen is of it.
	auroraParameterFamily = "aurora-postgresql16"
	databaseName          = "licences"
	// masterUsername: 1 to 16 letters or digits, a letter first (RDS
	// CreateDBCluster's MasterUsername: no underscore).
	masterUsername = "licencesadmin"
)

// DatabaseArgs configures a Database.
type DatabaseArgs struct {
	Identifier string // the cluster's identifier
	// EngineVersion is the Aurora PostgreSQL version to create the cluster
	// with; AWS upgrades it from there.
	EngineVersion string
	VpcID         pulumi.StringInput
	SubnetIDs     pulumi.StringArrayInput
	// ClientSecurityGroupID is the functions' group: the only one that may
	// connect, and it gains egress to the database on 5432.
	ClientSecurityGroupID pulumi.StringInput
	SecurityGroupName     string
	MinCapacity           float64
	MaxCapacity           float64
	// SecondsUntilAutoPause is how long the cluster waits without a
	// connection before it pauses, where MinCapacity is 0.
	SecondsUntilAutoPause int
	BackupRetentionDays   int
	DeletionProtection    bool
	// KMSKeyARN is the stage key, for the storage and the master password's
	// secret; nil means the AWS-managed keys (RDS's, Secrets Manager's).
	KMSKeyARN pulumi.StringPtrInput
	// FinalSnapshotIdentifier names the snapshot RDS takes when the
	// cluster is deleted.
	FinalSnapshotIdentifier string
	// Readers is how many reader instances to run besides the writer, in
	// other zones: with one or more, a zone's loss fails over.
	Readers int
	// Zones are the availability zones of the subnets, the writer's first.
	Zones pulumi.StringArrayInput
	// LogGroupName and LogRetentionDays: where the postgresql log goes
	// (RDS names the group; the stack makes it first, with the key).
	LogGroupName     string
	LogRetentionDays int
}

// pgAuditSettings load pgAudit and log DDL, role and privilege changes, and
// writes (the migration grants the API's own user a narrower setting: its
// writes are the ledger's, kept in the history already). Loading a library
// takes a reboot: shared_preload_libraries applies on the next one.
var pgAuditSettings = []struct{ name, value, apply string }{
	{"shared_preload_libraries", "pg_stat_statements,pgaudit", "pending-reboot"},
	{"pgaudit.log", "ddl,role,write", "immediate"},
	{"pgaudit.log_catalog", "0", "immediate"},
	{"pgaudit.log_parameter", "0", "immediate"},
}

// Database is an Aurora PostgreSQL Serverless v2 cluster in the isolated
// subnets: IAM database authentication on, storage encrypted, the master
// password kept by AWS in Secrets Manager, reachable on 5432 from the
// functions alone.
type Database struct {
	pulumi.ResourceState

	Endpoint          pulumi.StringOutput `pulumi:"endpoint"`
	ClusterResourceID pulumi.StringOutput `pulumi:"clusterResourceId"`
	MasterSecretARN   pulumi.StringOutput `pulumi:"masterSecretArn"`
	SecurityGroupID   pulumi.StringOutput `pulumi:"securityGroupId"`
	// EngineVersion is the version the cluster runs, after AWS's upgrades.
	EngineVersion pulumi.StringOutput `pulumi:"engineVersion"`

	// instance is what must exist before anything can connect.
	instance *rds.ClusterInstance
}

// NewDatabase creates the cluster, its writer instance, subnet group and
// security group with the rule pair that joins it to the functions.
func NewDatabase(ctx *pulumi.Context, name string, args DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	d := &Database{}
	if err := ctx.RegisterComponentResource("licences:infra:Database", name, d, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(d)

	g, err := newGuard(ctx, name, guardArgs{
		GroupName:    args.SecurityGroupName,
		Description:  pulumi.String("Aurora PostgreSQL: port 5432 from the functions only"),
		VpcID:        args.VpcID,
		Client:       args.ClientSecurityGroupID,
		Port:         postgresPort,
		Protocol:     "PostgreSQL",
		Target:       pulumi.String("the Aurora cluster"),
		EgressSuffix: "database",
	}, child)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	sgID := g.ID

	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Name:        pulumi.String(args.Identifier),
		Description: pulumi.String("The isolated subnets"),
		SubnetIds:   args.SubnetIDs,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create db subnet group: %w", err)
	}

	logs, err := logGroup{args.LogGroupName, args.LogRetentionDays, args.KMSKeyARN}.create(ctx, name+"-postgresql", child)
	if err != nil {
		return nil, fmt.Errorf("create database log group: %w", err)
	}
	var params rds.ClusterParameterGroupParameterArray
	for _, p := range pgAuditSettings {
		params = append(params, rds.ClusterParameterGroupParameterArgs{
			Name: pulumi.String(p.name), Value: pulumi.String(p.value), ApplyMethod: pulumi.String(p.apply),
		})
	}
	paramGroup, err := rds.NewClusterParameterGroup(ctx, name, &rds.ClusterParameterGroupArgs{
		Name:        pulumi.String(args.Identifier),
		Family:      pulumi.String(auroraParameterFamily),
		Description: pulumi.String("pgAudit: DDL, role and privilege changes, and writes"),
		Parameters:  params,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create cluster parameter group: %w", err)
	}

	cluster, err := rds.NewCluster(ctx, name, &rds.ClusterArgs{
		ClusterIdentifier:                pulumi.String(args.Identifier),
		Engine:                           pulumi.String(auroraEngineName),
		EngineMode:                       pulumi.String("provisioned"),
		EngineVersion:                    pulumi.String(args.EngineVersion),
		AllowMajorVersionUpgrade:         pulumi.Bool(false),
		DatabaseName:                     pulumi.String(databaseName),
		MasterUsername:                   pulumi.String(masterUsername),
		ManageMasterUserPassword:         pulumi.Bool(true),
		IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
		StorageEncrypted:                 pulumi.Bool(true),
		KmsKeyId:                         args.KMSKeyARN,
		MasterUserSecretKmsKeyId:         args.KMSKeyARN,
		DeletionProtection:               pulumi.Bool(args.DeletionProtection),
		SkipFinalSnapshot:                pulumi.Bool(false),
		FinalSnapshotIdentifier:          pulumi.String(args.FinalSnapshotIdentifier),
		BackupRetentionPeriod:            pulumi.Int(args.BackupRetentionDays),
		CopyTagsToSnapshot:               pulumi.Bool(true),
		DbSubnetGroupName:                subnets.Name,
		DbClusterParameterGroupName:      paramGroup.Name,
		EnabledCloudwatchLogsExports:     pulumi.StringArray{pulumi.String("postgresql")},
		VpcSecurityGroupIds:              pulumi.StringArray{sgID},
		Port:                             pulumi.Int(postgresPort),
		Serverlessv2ScalingConfiguration: &rds.ClusterServerlessv2ScalingConfigurationArgs{
			MinCapacity:           pulumi.Float64(args.MinCapacity),
			MaxCapacity:           pulumi.Float64(args.MaxCapacity),
			SecondsUntilAutoPause: pausing(args.MinCapacity, args.SecondsUntilAutoPause),
		},
	}, child, pulumi.DependsOn(append(g.Rules, logs)),
		// AWS applies minor upgrades itself (autoMinorVersionUpgrade), after
		// which a later run asking for the version below would be refused
		// ("Cannot upgrade aurora-postgresql from 16.x to 16.6"), and a
		// later preflight may choose another: the version is the one to
		// create with, not one to keep. The final
		// snapshot's name is the one the cluster was created with.
		pulumi.IgnoreChanges([]string{"engineVersion", "finalSnapshotIdentifier"}))
	if err != nil {
		return nil, fmt.Errorf("create aurora cluster: %w", err)
	}
	// The writer in the first zone, each reader in the next, round the
	// zones; Performance Insights on each, under the stage key, except
	// where the cluster pauses: a pausing stage is one to keep cheap.
	zones := args.Zones.ToStringArrayOutput()
	insights, insightsKey, insightsRetention := args.MinCapacity != 0, args.KMSKeyARN, pulumi.IntPtrInput(pulumi.Int(7))
	if !insights {
		insightsKey, insightsRetention = nil, nil
	}
	newInstance := func(role string, i int) (*rds.ClusterInstance, error) {
		return rds.NewClusterInstance(ctx, name+"-"+role, &rds.ClusterInstanceArgs{
			Identifier:                         pulumi.String(args.Identifier + "-" + role),
			ClusterIdentifier:                  cluster.ID(),
			InstanceClass:                      pulumi.String("db.serverless"),
			Engine:                             pulumi.String(auroraEngineName),
			EngineVersion:                      cluster.EngineVersion,
			AutoMinorVersionUpgrade:            pulumi.Bool(true),
			PubliclyAccessible:                 pulumi.Bool(false),
			AvailabilityZone:                   zones.ApplyT(func(z []string) string { return z[i%len(z)] }).(pulumi.StringOutput),
			PromotionTier:                      pulumi.Int(min(i, 15)),
			PerformanceInsightsEnabled:         pulumi.Bool(insights),
			PerformanceInsightsKmsKeyId:        insightsKey,
			PerformanceInsightsRetentionPeriod: insightsRetention,
		}, child, pulumi.IgnoreChanges([]string{"engineVersion"}))
	}
	instance, err := newInstance("writer", 0)
	if err != nil {
		return nil, fmt.Errorf("create aurora instance: %w", err)
	}
	for i := 1; i <= args.Readers; i++ {
		if _, err := newInstance(fmt.Sprintf("reader-%d", i), i); err != nil {
			return nil, fmt.Errorf("create aurora reader %d: %w", i, err)
		}
	}

	d.Endpoint = cluster.Endpoint
	d.ClusterResourceID = cluster.ClusterResourceId
	d.MasterSecretARN = cluster.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	d.SecurityGroupID = sgID
	d.EngineVersion = cluster.EngineVersionActual
	d.instance = instance
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"endpoint": d.Endpoint, "clusterResourceId": d.ClusterResourceID,
		"masterSecretArn": d.MasterSecretARN, "securityGroupId": d.SecurityGroupID,
		"engineVersion": d.EngineVersion,
	})
}

// connectGrant lets a role connect as the database user with an IAM token:
// rds-db:connect on exactly that user of this cluster.
func (d *Database) connectGrant(a Account, user string) Grant {
	return Grant{Sid: "ConnectAsUser", Actions: []string{"rds-db:connect"}, Resources: pulumi.StringArray{
		pulumi.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", a.Partition, a.Region, a.ID, d.ClusterResourceID, user),
	}}
}

// secretGrants let a role read the master password, and nothing else:
// where the secret is under the stage key, reading it takes kms:Decrypt
// on that key by the reader (Secrets Manager decrypts with the caller's
// permissions: https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
func (d *Database) secretGrants(key pulumi.StringPtrInput) []Grant {
	g := []Grant{{Sid: "ReadMasterSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: pulumi.StringArray{d.MasterSecretARN}}}
	if key != nil {
		g = append(g, Grant{Sid: "MasterSecretKey", Actions: []string{"kms:Decrypt"}, Resources: pulumi.StringArray{key.ToStringPtrOutput().Elem()}})
	}
	return g
}

// secretsEndpoint is the Secrets Manager interface endpoint: only the
// migration, which reads the master secret, goes through it.
var secretsEndpoint = endpointSpec{name: "secrets-endpoint", service: "secretsmanager", actions: "secretsmanager", output: "secretsEndpoint"}

// newAuroraEngine creates the database: the Aurora PostgreSQL engine. The
// API connects as env.APIDatabaseUser and the erase function as
// env.EraserDatabaseUser, each with IAM tokens; the migration reads the
// master secret to create the schema and those users.
func newAuroraEngine(ctx *pulumi.Context, cfg Config, n names, network *Network, account Account, digestRole *ExecutionRole, opts pulumi.ResourceOption) (engine, error) {
	// Destroying the cluster leaves its final snapshot, encrypted with the
	// stage key: the key stays too.
	key, err := stageKey(ctx, n, cfg.KMSKey, true, account, opts)
	if err != nil {
		return engine{}, err
	}
	db, err := NewDatabase(ctx, "database", DatabaseArgs{
		Identifier:            n.prefix(),
		EngineVersion:         cfg.AuroraEngineVersion,
		VpcID:                 network.VpcID,
		SubnetIDs:             network.SubnetIDs,
		ClientSecurityGroupID: network.FunctionSecurityGroupID,
		SecurityGroupName:     n.securityGroup("database"),
		MinCapacity:           cfg.AuroraMinCapacity,
		MaxCapacity:           cfg.AuroraMaxCapacity,
		SecondsUntilAutoPause: cfg.AuroraSecondsUntilAutoPause,
		BackupRetentionDays:   cfg.BackupRetentionDays,
		DeletionProtection:    cfg.DeletionProtection,
		KMSKeyARN:             key,
		// A name of its own for each cluster, so destroying the stage a
		// second time cannot collide with the first's snapshot; kept
		// unchanged by later runs (see NewDatabase).
		FinalSnapshotIdentifier: n.prefix() + "-final-" + cfg.Now.UTC().Format("20060102150405"),
		Readers:                 cfg.AuroraReaders,
		Zones:                   network.Zones,
		LogGroupName:            n.databaseLogGroup(),
		LogRetentionDays:        cfg.LogRetentionDays,
	}, opts)
	if err != nil {
		return engine{}, fmt.Errorf("database: %w", err)
	}
	// Where the cluster pauses, a function closes its connection after
	// every invocation: a frozen Lambda instance must not keep it awake.
	cluster := env.PostgresConfig{Port: postgresPort, Database: databaseName, User: env.APIDatabaseUser, ReleaseIdle: cfg.pauses()}
	as := func(user string) pulumix.Output[env.Config] {
		return pulumix.Apply(db.Endpoint, func(host string) env.Config {
			c := cluster
			c.Host, c.User = host, user
			return env.Config{Engine: env.AuroraPostgreSQL, Postgres: c}
		})
	}
	migrationSettings := pulumix.Apply2(db.Endpoint, db.MasterSecretARN, func(host, secret string) env.Config {
		c := cluster
		c.Host, c.SecretARN = host, secret
		return env.Config{Engine: env.AuroraPostgreSQL, Postgres: c}
	})
	bucket, err := NewDigestBucket(ctx, "digests", DigestBucketArgs{
		NamePrefix:    n.digestBucketPrefix(),
		RetentionDays: cfg.DigestRetentionDays,
		KMSKeyARN:     key,
		WriterRoleARN: digestRole.ARN,
	}, opts)
	if err != nil {
		return engine{}, fmt.Errorf("digest bucket: %w", err)
	}
	digest := storeRole{
		grants: append([]Grant{db.connectGrant(account, env.DigestDatabaseUser)}, digestGrants(bucket.ARN, key)...),
		settings: pulumix.Apply2(as(env.DigestDatabaseUser), pulumix.Output[string](bucket.Name), func(c env.Config, name string) env.Config {
			c.DigestBucket, c.Stage = name, cfg.Stage
			return c
		}),
	}
	return engine{
		digest:    &digest,
		bucket:    bucket,
		api:       storeRole{grants: []Grant{db.connectGrant(account, env.APIDatabaseUser)}, settings: as(env.APIDatabaseUser)},
		erase:     storeRole{grants: []Grant{db.connectGrant(account, env.EraserDatabaseUser)}, settings: as(env.EraserDatabaseUser)},
		migration: storeRole{grants: db.secretGrants(key), settings: migrationSettings},
		endpoint:  secretsEndpoint,
		ready:     pulumi.StringMap{"cluster": db.ClusterResourceID, "writer": db.instance.Arn},
		outputs:   pulumi.Map{"databaseEndpoint": db.Endpoint, "databaseSecurityGroupId": db.SecurityGroupID, "digestBucketName": bucket.Name, "databaseEngineVersion": db.EngineVersion},
		key:       key,
	}, nil
}

// pausing is the auto-pause delay where the cluster pauses (minimum 0
// ACU), and nothing where it does not.
func pausing(minCapacity float64, seconds int) pulumi.IntPtrInput {
	if minCapacity != 0 {
		return nil
	}
	return pulumi.Int(seconds)
}

// auroraEngine is the engine the stages people run deploy: an Aurora
// PostgreSQL Serverless v2 cluster, with the digest function that anchors
// its history outside it.
type auroraEngine struct{}

func (auroraEngine) extraParts() []string { return []string{digestPart} }

func (auroraEngine) declare(ctx *pulumi.Context, cfg Config, n names, network *Network, account Account, roles map[string]*ExecutionRole, opts pulumi.ResourceOption) (engine, error) {
	return newAuroraEngine(ctx, cfg, n, network, account, roles[digestPart], opts)
}

// alarms: capacity, connections, CPU, readers' lag, and the ledger's
// verification by the digest function.
func (auroraEngine) alarms(c Config, n names) []alarm {
	th, five := c.AlarmThresholds, 300
	var out []alarm
	cluster := map[string]string{"DBClusterIdentifier": n.prefix()}
	out = append(out,
		alarm{ID: "aurora-acu", Description: "Aurora capacity used, percent of the maximum", Namespace: "AWS/RDS", Metric: "ACUUtilization",
			Dimensions: cluster, Statistic: "Maximum", Period: five, EvaluationPeriods: 2, Threshold: th["auroraAcuPercent"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		alarm{ID: "aurora-connections", Description: "Aurora connections against what the cluster accepts at its maximum capacity", Namespace: "AWS/RDS", Metric: "DatabaseConnections",
			Dimensions: cluster, Statistic: "Maximum", Period: five, EvaluationPeriods: 1, Threshold: float64(c.maxConnections()) * th["auroraConnectionsPercent"] / 100, Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		alarm{ID: "aurora-cpu", Description: "Aurora CPU, percent", Namespace: "AWS/RDS", Metric: "CPUUtilization",
			Dimensions: cluster, Statistic: "Maximum", Period: five, EvaluationPeriods: 2, Threshold: th["auroraCpuPercent"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		// A day without a verified ledger is the failure: the digest
		// stopped, or found the ledger broken.
		alarm{ID: "ledger-unverified", Description: "The ledger did not verify against its last digest, or was not checked for a day", Namespace: metricsNamespace(c.Stage), Metric: metricLedgerVerified,
			Statistic: "Minimum", Period: 86400, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold", MissingData: "breaching"})
	if c.AuroraReaders > 0 {
		out = append(out, alarm{ID: "aurora-replica-lag", Description: "Aurora readers' lag behind the writer, ms", Namespace: "AWS/RDS", Metric: "AuroraReplicaLagMaximum",
			Dimensions: cluster, Statistic: "Maximum", Period: five, EvaluationPeriods: 2, Threshold: th["auroraReplicaLagMs"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
	}
	return out
}

func (auroraEngine) rules() []configRule { return auroraRules }

// preflight: the cluster's engine version, from what the region offers as
// Serverless v2 over the stage's capacity range.
func (auroraEngine) preflight(c Config) *preflight.Aurora {
	return &preflight.Aurora{Family: auroraParameterFamily, MinCapacity: c.AuroraMinCapacity, MaxCapacity: c.AuroraMaxCapacity}
}
