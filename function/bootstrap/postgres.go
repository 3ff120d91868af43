package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/pgstore"
)

// users are the functions' database users, as the stack names them.
var users = pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}

// openPostgres opens the PostgreSQL ledger: on Aurora as the function's own
// user (cfg.User) with IAM authentication and verified TLS, or on the local
// server cfg.URL names, where local opens the API's and the eraser's users
// both, as the local server serves both capabilities.
func openPostgres(ctx context.Context, cfg env.PostgresConfig, local bool) (ledger, error) {
	if !cfg.Aurora() {
		return openLocalPostgres(ctx, cfg, local)
	}
	// The AWS configuration is loaded when the first connection needs it,
	// not before the first request: a cold start waits for nothing it may
	// not use.
	loaded := sync.OnceValues(func() (aws.Config, error) { return config.LoadDefaultConfig(context.WithoutCancel(ctx)) })
	awsCfg := func(context.Context) (aws.Config, error) { return loaded() }
	aurora := pgstore.Aurora{Host: cfg.Host, Port: cfg.Port, Database: cfg.Database}
	pool, err := pgstore.OpenAurora(ctx, aurora, cfg.User, awsCfg)
	if err != nil {
		return ledger{}, err
	}
	secretARN := cfg.SecretARN
	migrate := func(ctx context.Context) (any, error) {
		if secretARN == "" {
			return nil, fmt.Errorf("%s is not set: only the migration function may migrate", env.DBSecretARN)
		}
		ac, err := awsCfg(ctx)
		if err != nil {
			return nil, fmt.Errorf("load aws config: %w", err)
		}
		conn, err := pgstore.ConnectAsMaster(ctx, aurora, secretsmanager.NewFromConfig(ac), secretARN)
		if err != nil {
			return nil, err
		}
		defer func() { _ = conn.Close(ctx) }() // the migration has run or failed: closing adds nothing
		return map[string]string{"migrated": aurora.Host}, pgstore.Migrate(ctx, conn, users, true)
	}
	s := pgstore.New(pool)
	return withRelease(ledger{store: s, eraser: s, migrate: migrate, digest: pool}, pool, cfg.ReleaseIdle), nil
}

// openLocalPostgres opens pools on a local server as the functions' users.
func openLocalPostgres(ctx context.Context, cfg env.PostgresConfig, local bool) (ledger, error) {
	open := func(user string) (*pgxpool.Pool, error) {
		pcfg, err := pgxpool.ParseConfig(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.DatabaseURL, err)
		}
		pcfg.ConnConfig.User = user
		return pgxpool.NewWithConfig(ctx, pcfg)
	}
	pool, err := open(cfg.User)
	if err != nil {
		return ledger{}, err
	}
	l := withRelease(ledger{store: pgstore.New(pool), eraser: pgstore.New(pool), digest: pool}, pool, cfg.ReleaseIdle)
	if local {
		eraser, err := open(users.Eraser)
		if err != nil {
			return ledger{}, err
		}
		l.eraser = pgstore.New(eraser)
	}
	l.migrate = func(ctx context.Context) (any, error) {
		conn, err := pgx.Connect(ctx, cfg.URL)
		if err != nil {
			return nil, err
		}
		defer func() { _ = conn.Close(ctx) }() // the migration has run or failed: closing adds nothing
		return map[string]string{"migrated": "local"}, pgstore.Migrate(ctx, conn, users, false)
	}
	return l, nil
}

// withRelease gives l the closing of pool's idle connections, after every
// invocation where release is set.
func withRelease(l ledger, pool *pgxpool.Pool, release bool) ledger {
	l.closeIdle = pool.Reset
	if release {
		l.release = pool.Reset
	}
	return l
}
