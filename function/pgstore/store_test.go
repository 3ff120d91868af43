package pgstore

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
	"github.com/privateledger/licences/testdouble/localpg"
)

var users = Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}

var server *localpg.Server

// TestMain starts one local PostgreSQL for the package's tests.
func TestMain(m *testing.M) { os.Exit(localpg.Main(m, &server)) }

// statements counts the SQL statements a pool sends.
type statements struct{ n atomic.Int64 }

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// db is a fresh, migrated database: a store for each function's user, the
// owner's connection (a superuser, as whoever controls the database), and
// a statement counter on the API's pool.
type db struct {
	api, eraser, digest *Store
	owner               *pgx.Conn
	ownerURL            string
	statements          *statements
}

// pool connects to url as user.
func pool(t testing.TB, url, user string, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(strings.Replace(url, "postgres@", user+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	cfg.MaxConns = 60
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// newDB makes a fresh database, migrates it as the owner and connects a
// store as each function's user.
func newDB(t testing.TB) *db {
	t.Helper()
	ctx := context.Background()
	ownerURL, err := server.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeConn(t, owner) })
	if err := Migrate(ctx, owner, users, false); err != nil {
		t.Fatal(err)
	}
	counter := &statements{}
	return &db{
		api:        New(pool(t, ownerURL, users.API, counter)),
		eraser:     New(pool(t, ownerURL, users.Eraser, nil)),
		digest:     New(pool(t, ownerURL, users.Digest, nil)),
		owner:      owner,
		ownerURL:   ownerURL,
		statements: counter,
	}
}

// subject is the database as the conformance suite takes it.
func (d *db) subject() storetest.Subject {
	return storetest.Subject{
		Store: d.api, Eraser: d.eraser,
		StoredBytes: func(t testing.TB, id string) int {
			t.Helper()
			var n int
			if err := d.owner.QueryRow(context.Background(), `SELECT pg_column_size(doc) FROM licences WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	}
}

// verifySince runs VerifySince as the digest's user.
func (d *db) verifySince(t testing.TB, since Digest) Report {
	t.Helper()
	rep, err := VerifySince(context.Background(), d.digest.pool, since)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// verify runs Verify as the digest's user.
func (d *db) verify(t testing.TB, against *Digest) Report {
	t.Helper()
	rep, err := Verify(context.Background(), d.digest.pool, against)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var (
	at     = storetest.At
	clerk  = storetest.Clerk
	create = func(t testing.TB, s *Store, email, key string) licence.Licence {
		return storetest.Create(t, s, email, key)
	}
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		d := newDB(t)
		t.Cleanup(func() {
			if rep := d.verify(t, nil); rep.Broken != nil {
				t.Errorf("after %s the ledger does not verify: %v", t.Name(), rep.Broken)
			}
		})
		return d.subject()
	})
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	d := newDB(t)
	create(t, d.api, "before@example.com", "")
	if err := Migrate(context.Background(), d.owner, users, false); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	create(t, d.api, "after@example.com", "")
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Revisions != 2 {
		t.Errorf("after a second migration: %+v", rep)
	}
}

func TestStatementsPerOperation(t *testing.T) {
	d := newDB(t)
	s, ctx := d.api, context.Background()
	l := create(t, s, "count@example.com", "")
	for _, c := range []struct {
		name string
		max  int
		op   func() error
	}{
		{"create", 1, func() error { create(t, s, "count2@example.com", "k"); return nil }},
		{"get", 1, func() error { _, err := s.Get(ctx, l.ID); return err }},
		{"update", 2, func() error { storetest.AddPoints(t, s, l.ID, 1, "x"); return nil }},
		{"history page", 1, func() error { _, err := s.History(ctx, l.ID, 0, 50); return err }},
		{"delete", 2, func() error { return s.Delete(ctx, l.ID, licence.Deletion(at, clerk)) }},
	} {
		before := d.statements.n.Load()
		if err := c.op(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := d.statements.n.Load() - before - 2
		t.Logf("%s: %d statements besides BEGIN and COMMIT", c.name, got)
		if got > int64(c.max) {
			t.Errorf("%s ran %d statements besides BEGIN and COMMIT, want at most %d", c.name, got, c.max)
		}
	}
}

func TestMigrateWithIAMAuthMakesTheUsersIAMUsers(t *testing.T) {
	// Aurora has an rds_iam role; a local server stands in with one of its own.
	d := newDB(t)
	ctx := context.Background()
	// Shared by the server: another test may have made it already.
	if _, err := d.owner.Exec(ctx, "DO $$ BEGIN CREATE ROLE rds_iam; EXCEPTION WHEN duplicate_object THEN NULL; END $$"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Migrate(ctx, d.owner, users, true); err != nil {
			t.Fatalf("migrate with IAM auth: %v", err)
		}
	}
	for _, user := range users.all() {
		var member, super, createRole bool
		if err := d.owner.QueryRow(ctx, `SELECT pg_has_role($1, 'rds_iam', 'MEMBER'), rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1`, user).
			Scan(&member, &super, &createRole); err != nil {
			t.Fatal(err)
		}
		if !member || super || createRole {
			t.Errorf("%s: in rds_iam %v, superuser %v, may create roles %v; want only the first", user, member, super, createRole)
		}
	}
}

// closeConn closes a connection a test opened, failing the test if it cannot.
func closeConn(t testing.TB, c *pgx.Conn) {
	t.Helper()
	if err := c.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

// connect opens a connection to url, closed when the test ends.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeConn(t, c) })
	return c
}
