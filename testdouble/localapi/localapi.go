// Package localapi serves the licence API for tests of its clients: the
// real handler on a fresh ledger of either engine (the local QLDB, or a
// database of a local PostgreSQL), unsigned as the local server takes
// requests, or behind the stand-in API Gateway that verifies signatures.
package localapi

import (
	"context"
	"io"
	"log/slog"

	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/function/qldbstore"
	"github.com/privateledger/licences/testdouble/apigateway"
	"github.com/privateledger/licences/testdouble/localpg"
	"github.com/privateledger/licences/testdouble/localqldb"
)

// Engines are the engines a ledger can be opened on.
var Engines = []string{"qldb", "aurora-postgresql"}

// Ledger is a store and eraser on a fresh ledger.
type Ledger struct {
	Store  licence.Store
	Eraser licence.Eraser
}

// Open opens a fresh ledger of engine, closed when the test ends; pg is
// the PostgreSQL server that holds it (unused for QLDB).
func Open(t testing.TB, engine string, pg *localpg.Server) Ledger {
	t.Helper()
	ctx := context.Background()
	switch engine {
	case "qldb":
		srv := httptest.NewServer(localqldb.New(localqldb.Options{LedgerName: "licences-client"}))
		t.Cleanup(srv.Close)
		s, err := qldbstore.Open(ctx, qldbstore.Config{LedgerName: "licences-client", Endpoint: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return Ledger{s, s}
	case "aurora-postgresql":
		url, err := pg.CreateDatabase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		owner, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = owner.Close(ctx) }() // only migrates
		users := pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}
		if err := pgstore.Migrate(ctx, owner, users, false); err != nil {
			t.Fatal(err)
		}
		open := func(user string) *pgstore.Store {
			cfg, err := pgxpool.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConnConfig.User = user
			p, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			return pgstore.New(p)
		}
		return Ledger{open(users.API), open(users.Eraser)}
	}
	t.Fatalf("no engine %q", engine)
	return Ledger{}
}

// quiet drops the handler's logs.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Serve serves the API on l as the local server does: unsigned requests,
// each change recorded as actor's.
func Serve(t testing.TB, l Ledger, actor string) *httptest.Server {
	t.Helper()
	h := httpapi.New(l.Store, l.Eraser, httpapi.Options{Actor: httpapi.FixedActor(licence.Actor{Principal: actor}), Logger: quiet})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// ServeSigned serves the API on l behind the stand-in API Gateway: stage
// "test" in region, admitting requests signed with keys.
func ServeSigned(t testing.TB, l Ledger, region string, keys map[string]apigateway.Key) *httptest.Server {
	t.Helper()
	gw := &apigateway.Gateway{Region: region, Stage: "test", Keys: keys,
		Function: httpapi.New(l.Store, l.Eraser, httpapi.Options{Logger: quiet})}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}
