// Command bootstrap is the Lambda handler: the executable the function
// package zips for the provided.al2023 runtime. One binary serves every
// function of the stack; Lambda passes the function's handler setting as
// _HANDLER, which picks the entrypoint:
//
//   - api: the licence API, behind API Gateway's proxy integration.
//   - migrate: the schema migration the stack invokes at deploy time.
//
// Outside Lambda (no AWS_LAMBDA_RUNTIME_API) it migrates the ledger and
// serves the API as a plain HTTP server on LISTEN_ADDR (127.0.0.1:8080).
//
// Its environment is the contract the env package owns (env.Parse): the
// stack writes it, this command reads it. For QLDB: LEDGER_NAME, and
// QLDB_SESSION_ENDPOINT for a local ledger. For PostgreSQL: DB_HOST, DB_PORT,
// DB_NAME, DB_USER (the API connects as DB_USER with IAM tokens) and, for
// the migration only, DB_SECRET_ARN (the master secret); or DATABASE_URL for
// a local server, which the migration uses as it is and the API as DB_USER.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

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

// run opens the store once for the life of the process, so every
// invocation reuses its connections, then starts the entrypoint.
func run(ctx context.Context, log *slog.Logger, getenv func(string) string) error {
	cfg, err := env.Parse(getenv)
	if err != nil {
		return err
	}
	store, migrate, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	api := httpapi.New(store, httpapi.Options{CORSAllowOrigin: cfg.CORSAllowOrigin, Logger: log})

	// Lambda sets these two; they are its contract, not the stack's.
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return serveLocally(ctx, log, migrate, api, cfg.ListenAddr)
	}
	switch entry := getenv("_HANDLER"); entry {
	case "api":
		lambda.StartWithOptions(httpadapter.New(api).ProxyWithContext, lambda.WithContext(ctx))
	case "migrate":
		lambda.StartWithOptions(migrationHandler(migrate, log), lambda.WithContext(ctx))
	default:
		return fmt.Errorf("unknown entrypoint %q (the function's handler setting): want api or migrate", entry)
	}
	return nil
}

// migrateFunc creates the schema where it is absent and says what it did.
type migrateFunc func(context.Context) (any, error)

// openStore opens the store of the configured engine, and the migration
// for it.
func openStore(ctx context.Context, cfg env.Config) (licence.Store, migrateFunc, error) {
	if cfg.Engine == env.AuroraPostgreSQL {
		return openPostgres(ctx, cfg.Postgres)
	}
	s, err := qldbstore.Open(ctx, qldbstore.Config{LedgerName: cfg.QLDB.LedgerName, Endpoint: cfg.QLDB.SessionEndpoint})
	if err != nil {
		return nil, nil, err
	}
	return s, func(ctx context.Context) (any, error) { return s.Migrate(ctx) }, nil
}

// migrationEvent is what the stack's lambda.Invocation sends. Under the
// CRUD lifecycle scope the provider adds tf.action: create, update or delete.
type migrationEvent struct {
	SchemaVersion int `json:"schemaVersion"`
	TF            struct {
		Action string `json:"action"`
	} `json:"tf"`
}

// migrationHandler creates the schema on create and update, and on delete
// does nothing: tearing down a stack must never drop a ledger's tables.
func migrationHandler(migrate migrateFunc, log *slog.Logger) func(context.Context, migrationEvent) (any, error) {
	return func(ctx context.Context, ev migrationEvent) (any, error) {
		if ev.TF.Action == "delete" {
			return map[string]string{"skipped": "delete: the schema stays with the ledger"}, nil
		}
		if ev.SchemaVersion != schema.Version {
			return nil, fmt.Errorf("the stack asks for schema version %d but this code creates version %d: deploy the matching code", ev.SchemaVersion, schema.Version)
		}
		m, err := migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		log.InfoContext(ctx, "migrated", "migration", m)
		return m, nil
	}
}

// serveLocally migrates the ledger and serves the API over plain HTTP until
// interrupted.
func serveLocally(ctx context.Context, log *slog.Logger, migrate migrateFunc, api http.Handler, addr string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	b, _ := json.Marshal(m)
	log.Info("migrated", "migration", string(b))
	srv := &http.Server{Addr: addr, Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		// ctx is done: shutting down gets a context of its own.
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "error", err)
		}
	}()
	log.Info("serving the licence API", "addr", "http://"+addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
