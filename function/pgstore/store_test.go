package pgstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
	"github.com/privateledger/licences/testdouble/localpg"
)

const appUser = "licences_api"

var server *localpg.Server

// TestMain starts one local PostgreSQL for the package's tests.
func TestMain(m *testing.M) {
	s, err := localpg.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgstore tests need a PostgreSQL server:", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the PostgreSQL server:", err)
	}
	os.Exit(code)
}

// statements counts the SQL statements a pool sends.
type statements struct{ n atomic.Int64 }

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// newStore makes a fresh database, migrates it as the owner and returns a
// Store connected as the application user, the owner's URL and a statement
// counter on the store's pool.
func newStore(t testing.TB) (*Store, string, *statements) {
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
	defer closeConn(t, owner)
	if err := Migrate(ctx, owner, appUser, false); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(strings.Replace(ownerURL, "postgres@", appUser+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	counter := &statements{}
	cfg.ConnConfig.Tracer = counter
	cfg.MaxConns = 60
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return New(pool), ownerURL, counter
}

var (
	at     = storetest.At
	create = func(t testing.TB, s *Store, email, key string) licence.Licence {
		return storetest.Create(t, s, email, key)
	}
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) licence.Store { s, _, _ := newStore(t); return s })
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	_, ownerURL, _ := newStore(t)
	owner, err := pgx.Connect(context.Background(), ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(t, owner)
	if err := Migrate(context.Background(), owner, appUser, false); err != nil {
		t.Fatalf("second migration: %v", err)
	}
}

func TestHistoryIsAppendOnlyForTheApplication(t *testing.T) {
	s, _, _ := newStore(t)
	l := create(t, s, "locked@example.com", "")
	ctx := context.Background()
	for _, stmt := range []string{
		`UPDATE licence_history SET doc = '{}' WHERE licence_id = $1`,
		`DELETE FROM licence_history WHERE licence_id = $1`,
		`INSERT INTO licence_history SELECT * FROM licence_history WHERE licence_id = $1`,
	} {
		if _, err := s.pool.Exec(ctx, stmt, l.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the application: %v, want permission denied", stmt, err)
		}
	}
}

func TestVerifyFindsARevisionAlteredBehindTheApplicationsBack(t *testing.T) {
	s, ownerURL, _ := newStore(t)
	ctx := context.Background()
	a := create(t, s, "a@example.com", "")
	b := create(t, s, "b@example.com", "")
	for range 3 {
		if _, err := s.Update(ctx, b.ID, func(l *licence.Licence) { l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at) }); err != nil {
			t.Fatal(err)
		}
	}
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(t, owner)
	broken, checked, err := Verify(ctx, owner)
	if err != nil || broken != nil || checked != 5 {
		t.Fatalf("intact history: broken %v, checked %d, %v; want none broken of 5", broken, checked, err)
	}
	// A superuser rewrites b's second revision: 3 points become 0.
	if _, err := owner.Exec(ctx, `UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE licence_id = $1 AND version = 1`, b.ID); err != nil {
		t.Fatal(err)
	}
	broken, _, err = Verify(ctx, owner)
	if err != nil || broken == nil || broken.LicenceID != b.ID || broken.Version != 1 {
		t.Fatalf("altered history: %v, %v; want the link at %s version 1", broken, err, b.ID)
	}
	_ = a
}

func TestStatementsPerOperation(t *testing.T) {
	s, _, counter := newStore(t)
	ctx := context.Background()
	l := create(t, s, "count@example.com", "")
	for _, c := range []struct {
		name string
		op   func() error
	}{
		{"create", func() error { create(t, s, "count2@example.com", "k"); return nil }},
		{"get", func() error { _, err := s.Get(ctx, l.ID); return err }},
		{"update", func() error {
			_, err := s.Update(ctx, l.ID, func(l *licence.Licence) { l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at) })
			return err
		}},
		{"history", func() error { _, err := s.History(ctx, l.ID); return err }},
		{"delete", func() error { return s.Delete(ctx, l.ID) }},
	} {
		before := counter.n.Load()
		if err := c.op(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := counter.n.Load() - before
		t.Logf("%s: %d statements in one transaction (BEGIN and COMMIT included)", c.name, got)
		if got-2 > 3 {
			t.Errorf("%s ran %d statements besides BEGIN and COMMIT, want at most 3", c.name, got-2)
		}
	}
}

func TestMigrateWithIAMAuthMakesTheUserAnIAMUser(t *testing.T) {
	// Aurora has an rds_iam role; a local server stands in with one of its own.
	_, ownerURL, _ := newStore(t)
	ctx := context.Background()
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(t, owner)
	// Shared by the server: another test may have made it already.
	if _, err := owner.Exec(ctx, "DO $$ BEGIN CREATE ROLE rds_iam; EXCEPTION WHEN duplicate_object THEN NULL; END $$"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Migrate(ctx, owner, appUser, true); err != nil {
			t.Fatalf("migrate with IAM auth: %v", err)
		}
	}
	var member bool
	if err := owner.QueryRow(ctx, `SELECT pg_has_role($1, 'rds_iam', 'MEMBER')`, appUser).Scan(&member); err != nil || !member {
		t.Errorf("%s in rds_iam: %v, %v; want a member", appUser, member, err)
	}
	var super, createRole bool
	if err := owner.QueryRow(ctx, `SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1`, appUser).Scan(&super, &createRole); err != nil {
		t.Fatal(err)
	}
	if super || createRole {
		t.Errorf("%s is superuser %v, may create roles %v: want neither", appUser, super, createRole)
	}
}

// closeConn closes a connection a test opened, failing the test if it cannot.
func closeConn(t testing.TB, c *pgx.Conn) {
	t.Helper()
	if err := c.Close(context.Background()); err != nil {
		t.Error(err)
	}
}
