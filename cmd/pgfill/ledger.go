package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/pgstore"
)

// ledger is a migrated database as the API's and the digest's users see it.
type ledger struct {
	store  *pgstore.Store
	api    *pgxpool.Pool
	digest *pgxpool.Pool
}

// open migrates the database at ownerURL and connects the API's user with
// one connection per client, as that many Lambda instances would hold, and
// the digest's user with one.
func open(ctx context.Context, ownerURL string, clients int) (*ledger, error) {
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return nil, fmt.Errorf("connect as the owner: %w", err)
	}
	defer func() { _ = owner.Close(ctx) }() // the migration has run or failed: closing adds nothing
	var present bool
	if err := owner.QueryRow(ctx, `SELECT to_regclass('licences') IS NOT NULL`).Scan(&present); err != nil {
		return nil, fmt.Errorf("look for a ledger: %w", err)
	}
	if present {
		return nil, fmt.Errorf("the database already holds a ledger: pgfill fills an empty one, so its figures are its own")
	}
	users := pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}
	if err := pgstore.Migrate(ctx, owner, users, false); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	connect := func(user string, conns int) (*pgxpool.Pool, error) {
		cfg, err := pgxpool.ParseConfig(ownerURL)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		cfg.ConnConfig.User = user
		cfg.MaxConns = int32(conns) //nolint:gosec // G115: conns is at most maxClients
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("connect as %s: %w", user, err)
		}
		return pool, nil
	}
	api, err := connect(users.API, clients)
	if err != nil {
		return nil, err
	}
	digest, err := connect(users.Digest, 1)
	if err != nil {
		api.Close()
		return nil, err
	}
	return &ledger{store: pgstore.New(api), api: api, digest: digest}, nil
}

func (l *ledger) close() {
	l.api.Close()
	l.digest.Close()
}
