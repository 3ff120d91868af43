package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
)

// openPostgres opens the PostgreSQL store: on Aurora with IAM
// authentication and verified TLS, or on the local server cfg.URL names.
func openPostgres(ctx context.Context, cfg env.PostgresConfig) (licence.Store, migrateFunc, error) {
	user := cfg.User
	if !cfg.Aurora() {
		url := cfg.URL
		pcfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", env.DatabaseURL, err)
		}
		pcfg.ConnConfig.User = user
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, nil, err
		}
		migrate := func(ctx context.Context) (any, error) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return nil, err
			}
			defer func() { _ = conn.Close(ctx) }() // the migration has run or failed: closing adds nothing
			return map[string]string{"migrated": "local"}, pgstore.Migrate(ctx, conn, user, false)
		}
		return pgstore.New(pool), migrate, nil
	}

	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load aws config: %w", err)
	}
	aurora := pgstore.Aurora{Host: cfg.Host, Port: cfg.Port, Database: cfg.Database, Region: awsCfg.Region}
	pool, err := pgstore.OpenAurora(ctx, aurora, user, awsCfg.Credentials)
	if err != nil {
		return nil, nil, err
	}
	secretARN := cfg.SecretARN
	migrate := func(ctx context.Context) (any, error) {
		if secretARN == "" {
			return nil, fmt.Errorf("%s is not set: only the migration function may migrate", env.DBSecretARN)
		}
		conn, err := pgstore.ConnectAsMaster(ctx, aurora, secretsmanager.NewFromConfig(awsCfg), secretARN)
		if err != nil {
			return nil, err
		}
		defer func() { _ = conn.Close(ctx) }() // the migration has run or failed: closing adds nothing
		return map[string]string{"migrated": aurora.Host}, pgstore.Migrate(ctx, conn, user, true)
	}
	return pgstore.New(pool), migrate, nil
}
