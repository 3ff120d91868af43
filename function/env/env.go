// Package env is the contract between the stack and the handler: the
// environment variables the stack gives each function, and the checked
// configuration the handler reads back from them. Both sides go through this
// package (the stack writes Config.Vars, the handler calls Parse), so a name
// cannot change on one side only.
package env

import (
	"errors"
	"fmt"
	"strconv"
)

// The environment variables of the contract.
const (
	// LedgerEngine names the engine that keeps the licences: an Engine.
	LedgerEngine = "LEDGER_ENGINE"
	// LedgerName is the QLDB ledger.
	LedgerName = "LEDGER_NAME"
	// QLDBSessionEndpoint replaces QLDB's session endpoint, for a local
	// ledger; never set by the stack.
	QLDBSessionEndpoint = "QLDB_SESSION_ENDPOINT"
	// DBHost, DBPort and DBName say where the Aurora cluster is.
	DBHost = "DB_HOST"
	DBPort = "DB_PORT"
	DBName = "DB_NAME"
	// DBUser is the database user the API connects as with IAM tokens.
	DBUser = "DB_USER"
	// DBSecretARN is the cluster's master secret: the migration's only.
	DBSecretARN = "DB_SECRET_ARN" //nolint:gosec // G101: the variable's name, not a secret
	// DatabaseURL connects to a local PostgreSQL instead of Aurora; never
	// set by the stack.
	DatabaseURL = "DATABASE_URL"
	// CORSAllowOrigin is the Access-Control-Allow-Origin the API answers with.
	CORSAllowOrigin = "CORS_ALLOW_ORIGIN"
	// ListenAddr is where the handler serves HTTP outside Lambda.
	ListenAddr = "LISTEN_ADDR"
	// LocalActor names who the local server records changes as; never set
	// by the stack (in Lambda the actor is the authenticated caller).
	LocalActor = "LOCAL_ACTOR"
	// Stage names the stage, for the metrics the functions publish.
	Stage = "STAGE"
	// DigestBucket is the bucket the digest function writes the ledger's
	// digests to.
	DigestBucket = "DIGEST_BUCKET"
	// S3Endpoint replaces S3's endpoint, for a local stand-in; never set
	// by the stack.
	S3Endpoint = "S3_ENDPOINT"
	// DBReleaseIdle ("true") makes a function close its database
	// connection after every invocation: set where Aurora pauses at 0 ACU,
	// which it does only while no connection is open (a frozen Lambda
	// instance would hold one).
	DBReleaseIdle = "DB_RELEASE_IDLE"
)

// Names lists every variable of the contract.
func Names() []string {
	return []string{LedgerEngine, LedgerName, QLDBSessionEndpoint, DBHost, DBPort, DBName, DBUser,
		DBSecretARN, DatabaseURL, CORSAllowOrigin, ListenAddr, LocalActor, Stage, DigestBucket, S3Endpoint, DBReleaseIdle}
}

// Engine is a ledger engine.
type Engine string

// The engines.
const (
	QLDB             Engine = "qldb"
	AuroraPostgreSQL Engine = "aurora-postgresql"
)

// DefaultEngine is the engine where none is named: the one AWS offers
// today. Pulumi.yaml's ledgerEngine default says the same (a test holds
// them together).
const DefaultEngine = AuroraPostgreSQL

// Engines lists every engine.
func Engines() []Engine { return []Engine{QLDB, AuroraPostgreSQL} }

// Valid reports whether e is one of Engines.
func (e Engine) Valid() bool { return e == QLDB || e == AuroraPostgreSQL }

// The database users the functions connect as, one per function: the
// migration creates them, each with the least its function needs, and the
// stack grants each function rds-db:connect as its own.
const (
	APIDatabaseUser    = "licences_api"
	EraserDatabaseUser = "licences_eraser"
	DigestDatabaseUser = "licences_digest"
)

// DefaultListenAddr is where the handler serves outside Lambda by default.
const DefaultListenAddr = "127.0.0.1:8080"

// DefaultLocalActor is who the local server records changes as by default.
const DefaultLocalActor = "local"

// Config is the handler's configuration.
type Config struct {
	Engine          Engine
	CORSAllowOrigin string // empty: no CORS header
	ListenAddr      string // outside Lambda only
	LocalActor      string // outside Lambda only
	Stage           string // empty: metrics name no stage
	DigestBucket    string // the digest function's only
	S3Endpoint      string // empty: S3's own
	QLDB            QLDBConfig
	Postgres        PostgresConfig
}

// QLDBConfig says which ledger keeps the licences and how to reach it.
type QLDBConfig struct {
	LedgerName      string
	SessionEndpoint string // empty: QLDB's own
}

// PostgresConfig says where the PostgreSQL ledger is: an Aurora cluster, or
// a server at URL.
type PostgresConfig struct {
	Host      string
	Port      int
	Database  string
	User      string // the API's user
	SecretARN string // the master secret, for the migration only
	URL       string // a local server instead of Aurora
	// ReleaseIdle closes the connection after every invocation.
	ReleaseIdle bool
}

// Aurora reports whether the configuration names an Aurora cluster rather
// than a local server.
func (p PostgresConfig) Aurora() bool { return p.URL == "" }

// Vars returns c as environment variables: what the stack sets on a
// function. Empty values are left out.
func (c Config) Vars() map[string]string {
	vars := map[string]string{
		LedgerEngine:    string(c.Engine),
		CORSAllowOrigin: c.CORSAllowOrigin,
		ListenAddr:      c.ListenAddr,
		LocalActor:      c.LocalActor,
		Stage:           c.Stage,
		DigestBucket:    c.DigestBucket,
		S3Endpoint:      c.S3Endpoint,
	}
	switch c.Engine {
	case QLDB:
		vars[LedgerName] = c.QLDB.LedgerName
		vars[QLDBSessionEndpoint] = c.QLDB.SessionEndpoint
	case AuroraPostgreSQL:
		p := c.Postgres
		vars[DBHost] = p.Host
		if p.Port != 0 {
			vars[DBPort] = strconv.Itoa(p.Port)
		}
		vars[DBName] = p.Database
		vars[DBUser] = p.User
		vars[DBSecretARN] = p.SecretARN
		vars[DatabaseURL] = p.URL
		if p.ReleaseIdle {
			vars[DBReleaseIdle] = "true"
		}
	}
	for k, v := range vars {
		if v == "" {
			delete(vars, k)
		}
	}
	return vars
}

// Parse reads the configuration from an environment (os.Getenv, say) and
// checks it: every error names the variable and what it should be.
// LEDGER_ENGINE defaults to DefaultEngine, LISTEN_ADDR to DefaultListenAddr,
// LOCAL_ACTOR to DefaultLocalActor and DB_USER to APIDatabaseUser.
func Parse(getenv func(string) string) (Config, error) {
	c := Config{
		Engine:          Engine(getenv(LedgerEngine)),
		CORSAllowOrigin: getenv(CORSAllowOrigin),
		ListenAddr:      getenv(ListenAddr),
		LocalActor:      getenv(LocalActor),
		Stage:           getenv(Stage),
		DigestBucket:    getenv(DigestBucket),
		S3Endpoint:      getenv(S3Endpoint),
	}
	if c.Engine == "" {
		c.Engine = DefaultEngine
	}
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.LocalActor == "" {
		c.LocalActor = DefaultLocalActor
	}
	switch c.Engine {
	case QLDB:
		c.QLDB = QLDBConfig{LedgerName: getenv(LedgerName), SessionEndpoint: getenv(QLDBSessionEndpoint)}
		if c.QLDB.LedgerName == "" {
			return Config{}, fmt.Errorf("%s is not set: the qldb engine needs the ledger's name", LedgerName)
		}
	case AuroraPostgreSQL:
		p, err := parsePostgres(getenv)
		if err != nil {
			return Config{}, err
		}
		c.Postgres = p
	default:
		return Config{}, fmt.Errorf("%s %q: want %s or %s", LedgerEngine, c.Engine, QLDB, AuroraPostgreSQL)
	}
	return c, nil
}

func parsePostgres(getenv func(string) string) (PostgresConfig, error) {
	p := PostgresConfig{
		Host:      getenv(DBHost),
		Database:  getenv(DBName),
		User:      getenv(DBUser),
		SecretARN: getenv(DBSecretARN),
		URL:       getenv(DatabaseURL),
	}
	switch v := getenv(DBReleaseIdle); v {
	case "", "false":
	case "true":
		p.ReleaseIdle = true
	default:
		return PostgresConfig{}, fmt.Errorf("%s %q: want true or false", DBReleaseIdle, v)
	}
	if p.User == "" {
		p.User = APIDatabaseUser
	}
	if p.URL != "" {
		return p, nil
	}
	var missing []error
	for _, v := range []struct{ name, value string }{{DBHost, p.Host}, {DBPort, getenv(DBPort)}, {DBName, p.Database}} {
		if v.value == "" {
			missing = append(missing, fmt.Errorf("%s is not set", v.name))
		}
	}
	if len(missing) > 0 {
		return PostgresConfig{}, fmt.Errorf("the %s engine needs %s, %s and %s (or %s for a local server): %w",
			AuroraPostgreSQL, DBHost, DBPort, DBName, DatabaseURL, errors.Join(missing...))
	}
	port, err := strconv.Atoi(getenv(DBPort))
	if err != nil || port < 1 || port > 65535 {
		return PostgresConfig{}, fmt.Errorf("%s %q: want a port number, 1 to 65535", DBPort, getenv(DBPort))
	}
	p.Port = port
	return p, nil
}
