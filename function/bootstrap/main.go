// Command bootstrap is the Lambda handler: the executable the function
// package zips for the provided.al2023 runtime. One binary serves every
// function of the stack; Lambda passes the function's handler setting as
// _HANDLER, which picks the entrypoint:
//
//   - api: the licence routes, behind API Gateway's proxy integration.
//   - erase: the erasure route, the same way, as a function of its own.
//   - migrate: the schema migration the stack invokes at deploy time.
//   - digest: on PostgreSQL, the scheduled verification and digest of the
//     ledger (digest.go).
//
// Outside Lambda (no AWS_LAMBDA_RUNTIME_API) it migrates the ledger and
// serves every route as a plain HTTP server on LISTEN_ADDR
// (127.0.0.1:8080), recording changes as LOCAL_ACTOR (local).
//
// Its environment is the contract the env package owns (env.Parse): the
// stack writes it, this command reads it. For QLDB: LEDGER_NAME, and
// QLDB_SESSION_ENDPOINT for a local ledger. For PostgreSQL: DB_HOST, DB_PORT,
// DB_NAME, DB_USER (each function connects as its own user with IAM
// tokens) and, for the migration only, DB_SECRET_ARN (the master secret);
// or DATABASE_URL for a local server, which the migration uses as it is.
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/aws/aws-lambda-go/events"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/qldbstore"
	"github.com/privateledger/licences/function/schema"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(context.Background(), log, os.Getenv); err != nil {
		log.Error("bootstrap failed", "error", err)
		os.Exit(1)
	}
}

// run opens the ledger once for the life of the process, so every
// invocation reuses its connections, then starts the entrypoint.
func run(ctx context.Context, log *slog.Logger, getenv func(string) string) error {
	cfg, err := env.Parse(getenv)
	if err != nil {
		return err
	}
	// Lambda sets these two; they are its contract, not the stack's.
	lambdaMode := getenv("AWS_LAMBDA_RUNTIME_API") != ""
	l, err := openLedger(ctx, cfg, !lambdaMode)
	if err != nil {
		return err
	}
	opts := httpapi.Options{CORSAllowOrigin: cfg.CORSAllowOrigin, Logger: log}
	if !lambdaMode {
		actor, err := licence.LocalActor(cfg.LocalActor)
		if err != nil {
			return fmt.Errorf("%s: %w", env.LocalActor, err)
		}
		opts.Actor = httpapi.FixedActor(actor)
		return serveLocally(ctx, log, l.migrate, httpapi.New(l.store, l.eraser, opts), cfg.ListenAddr)
	}
	switch entry := getenv("_HANDLER"); entry {
	case "api":
		lambda.StartWithOptions(releasing(gateway(httpapi.New(l.store, nil, opts)), l.release), lambda.WithContext(ctx))
	case "erase":
		lambda.StartWithOptions(releasing(gateway(httpapi.New(nil, l.eraser, opts)), l.release), lambda.WithContext(ctx))
	case "migrate":
		lambda.StartWithOptions(migrationHandler(l.migrate, log), lambda.WithContext(ctx))
	case "digest":
		if l.digest == nil {
			return fmt.Errorf("the digest entrypoint is for the %s engine: a QLDB ledger's journal has digests of its own", env.AuroraPostgreSQL)
		}
		handler, err := digestHandler(ctx, cfg, l.digest, log)
		if err != nil {
			return err
		}
		// The digest runs now and then: it never keeps a connection
		// between runs.
		lambda.StartWithOptions(releasing(handler, l.closeIdle), lambda.WithContext(ctx))
	default:
		return fmt.Errorf("unknown entrypoint %q (the function's handler setting): want api, erase, migrate or digest", entry)
	}
	return nil
}

// ledger is what the entrypoints use of the configured engine.
type ledger struct {
	store   licence.Store
	eraser  licence.Eraser
	migrate migrateFunc
	// digest is the PostgreSQL ledger's verification and digest; nil on
	// QLDB.
	digest ledgerDigest
	// closeIdle closes the database connections not in use (PostgreSQL);
	// release is closeIdle where the stage asks for it after every
	// invocation (env.DBReleaseIdle), else nil.
	closeIdle, release func()
}

// releasing calls release, if any, after every invocation of handler.
// gateway serves API Gateway's proxy events with h. A body marked base64
// that is not base64 would make the adapter fail the invocation, which API
// Gateway answers 502; it is answered 400 instead, as any malformed body.
func gateway(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	adapter, undecodable := httpadapter.New(h), httpadapter.New(httpapi.UndecodableBody())
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if ev.IsBase64Encoded {
			if _, err := base64.StdEncoding.DecodeString(ev.Body); err != nil {
				ev.IsBase64Encoded, ev.Body = false, ""
				return undecodable.ProxyWithContext(ctx, ev)
			}
		}
		return adapter.ProxyWithContext(ctx, ev)
	}
}

func releasing[E, R any](handler func(context.Context, E) (R, error), release func()) func(context.Context, E) (R, error) {
	if release == nil {
		return handler
	}
	return func(ctx context.Context, ev E) (R, error) {
		defer release()
		return handler(ctx, ev)
	}
}

// migrateFunc creates the schema where it is absent and says what it did.
type migrateFunc func(context.Context) (any, error)

// openLedger opens the configured engine; local says the process serves
// every route itself, as the local server does.
func openLedger(ctx context.Context, cfg env.Config, local bool) (ledger, error) {
	open, ok := ledgerOpeners[cfg.Engine]
	if !ok {
		return ledger{}, fmt.Errorf("%s %q: this handler opens only %v", env.LedgerEngine, cfg.Engine, env.Engines())
	}
	return open(ctx, cfg, local)
}

// ledgerOpeners open each engine's store: the one place the handler asks
// which engine it has.
var ledgerOpeners = map[env.Engine]func(ctx context.Context, cfg env.Config, local bool) (ledger, error){
	env.AuroraPostgreSQL: func(ctx context.Context, cfg env.Config, local bool) (ledger, error) {
		return openPostgres(ctx, cfg.Postgres, local)
	},
	env.QLDB: openQLDB,
}

// openQLDB opens the QLDB store.
func openQLDB(ctx context.Context, cfg env.Config, _ bool) (ledger, error) {
	s, err := qldbstore.Open(ctx, qldbstore.Config{LedgerName: cfg.QLDB.LedgerName, Endpoint: cfg.QLDB.SessionEndpoint})
	if err != nil {
		return ledger{}, err
	}
	return ledger{store: s, eraser: s, migrate: func(ctx context.Context) (any, error) { return s.Migrate(ctx) }}, nil
}

// migrationEvent is what the stack sends the migration: the schema it
// expects this code to apply. Stages deployed before the stack invoked
// once per schema (CREATE_ONLY) invoked under the CRUD lifecycle scope,
// where the provider adds tf.action (create, update or delete); the last
// of those invocations is a delete, sent when the stack moves on.
type migrationEvent struct {
	// Activate marks schema.ActivationEvent: a deploy waking the function.
	Activate      bool   `json:"activate"`
	SchemaVersion int    `json:"schemaVersion"`
	Schema        string `json:"schema"`
	TF            struct {
		Action string `json:"action"`
	} `json:"tf"`
}

// migrationHandler creates the schema the stack asks for, and on a delete
// does nothing: tearing down a stack must never drop a ledger's tables.
func migrationHandler(migrate migrateFunc, log *slog.Logger) func(context.Context, migrationEvent) (any, error) {
	return func(ctx context.Context, ev migrationEvent) (any, error) {
		if ev.TF.Action == "delete" {
			return map[string]string{"skipped": "delete: the schema stays with the ledger"}, nil
		}
		if ev.Activate {
			return map[string]string{"skipped": "activation: the function is awake"}, nil
		}
		if ev.SchemaVersion != schema.Version || ev.Schema != schema.Fingerprint() {
			return nil, fmt.Errorf("the stack asks for schema version %d (%q) but this code creates version %d (%q): deploy the matching code",
				ev.SchemaVersion, ev.Schema, schema.Version, schema.Fingerprint())
		}
		m, err := migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		log.InfoContext(ctx, "migrated", "migration", m)
		return m, nil
	}
}
