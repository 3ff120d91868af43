package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
)

// defaultDBUser is the application user when DB_USER is not set.
const defaultDBUser = "licences_api"

// openPostgres opens the PostgreSQL store: on Aurora with IAM
// authentication and verified TLS, or on the server DATABASE_URL names.
func openPostgres(ctx context.Context, env func(string) string) (licence.Store, migrateFunc, error) {
	user := env("DB_USER")
	if user == "" {
		user = defaultDBUser
	}
	if url := env("DATABASE_URL"); url != "" {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		cfg.ConnConfig.User = user
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		migrate := func(ctx context.Context) (any, error) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return nil, err
			}
			defer conn.Close(ctx)
			return map[string]string{"migrated": "local"}, pgstore.Migrate(ctx, conn, user, false)
		}
		return pgstore.New(pool), migrate, nil
	}

	port, err := strconv.Atoi(env("DB_PORT"))
	if err != nil || env("DB_HOST") == "" || env("DB_NAME") == "" {
		return nil, nil, errors.New("aurora-postgresql needs DB_HOST, DB_PORT and DB_NAME (or DATABASE_URL for a local server)")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load aws config: %w", err)
	}
	aurora := pgstore.Aurora{Host: env("DB_HOST"), Port: port, Database: env("DB_NAME"), Region: awsCfg.Region}
	pool, err := pgstore.OpenAurora(ctx, aurora, user, awsCfg.Credentials)
	if err != nil {
		return nil, nil, err
	}
	secretARN := env("DB_SECRET_ARN")
	migrate := func(ctx context.Context) (any, error) {
		if secretARN == "" {
			return nil, errors.New("DB_SECRET_ARN is not set: only the migration function may migrate")
		}
		conn, err := pgstore.ConnectAsMaster(ctx, aurora, secretsmanager.NewFromConfig(awsCfg), secretARN)
		if err != nil {
			return nil, err
		}
		defer conn.Close(ctx)
		return map[string]string{"migrated": aurora.Host}, pgstore.Migrate(ctx, conn, user, true)
	}
	return pgstore.New(pool), migrate, nil
}
