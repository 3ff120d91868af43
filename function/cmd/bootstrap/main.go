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
// Environment: LEDGER_ENGINE (qldb, the default), LEDGER_NAME (required),
// QLDB_SESSION_ENDPOINT (a local ledger instead of QLDB), CORS_ALLOW_ORIGIN.
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

	"github.com/privateledger/licences/function/httpapi"
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
// invocation reuses the driver and its sessions, then starts the entrypoint.
func run(ctx context.Context, log *slog.Logger, env func(string) string) error {
	switch engine := env("LEDGER_ENGINE"); engine {
	case "", "qldb":
	case "aurora-postgresql":
		// The stack can deploy this engine's infrastructure; its store is
		// not built yet, so fail at once rather than half-work.
		return errors.New("LEDGER_ENGINE aurora-postgresql: this build has no PostgreSQL store yet")
	default:
		return fmt.Errorf("LEDGER_ENGINE %q: want qldb or aurora-postgresql", engine)
	}
	ledger := env("LEDGER_NAME")
	if ledger == "" {
		return errors.New("LEDGER_NAME is not set")
	}
	store, err := qldbstore.Open(ctx, qldbstore.Config{LedgerName: ledger, Endpoint: env("QLDB_SESSION_ENDPOINT")})
	if err != nil {
		return err
	}
	api := httpapi.New(store, httpapi.Options{CORSAllowOrigin: env("CORS_ALLOW_ORIGIN"), Logger: log})

	if env("AWS_LAMBDA_RUNTIME_API") == "" {
		return serveLocally(ctx, log, store, api, env("LISTEN_ADDR"))
	}
	switch entry := env("_HANDLER"); entry {
	case "api":
		lambda.StartWithOptions(httpadapter.New(api).ProxyWithContext, lambda.WithContext(ctx))
	case "migrate":
		lambda.StartWithOptions(migrationHandler(store, log), lambda.WithContext(ctx))
	default:
		return fmt.Errorf("unknown entrypoint %q (the function's handler setting): want api or migrate", entry)
	}
	return nil
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
func migrationHandler(store *qldbstore.Store, log *slog.Logger) func(context.Context, migrationEvent) (any, error) {
	return func(ctx context.Context, ev migrationEvent) (any, error) {
		if ev.TF.Action == "delete" {
			return map[string]string{"skipped": "delete: the schema stays with the ledger"}, nil
		}
		if ev.SchemaVersion != schema.Version {
			return nil, fmt.Errorf("the stack asks for schema version %d but this code creates version %d: deploy the matching code", ev.SchemaVersion, schema.Version)
		}
		m, err := store.Migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		log.InfoContext(ctx, "migrated", "migration", m)
		return m, nil
	}
}

// serveLocally migrates the ledger and serves the API over plain HTTP until
// interrupted.
func serveLocally(ctx context.Context, log *slog.Logger, store *qldbstore.Store, api http.Handler, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := store.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	b, _ := json.Marshal(m)
	log.Info("migrated", "migration", string(b))
	srv := &http.Server{Addr: addr, Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("serving the licence API", "addr", "http://"+addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
