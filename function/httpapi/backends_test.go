package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/function/qldbstore"
	"github.com/privateledger/licences/testdouble/localpg"
	"github.com/privateledger/licences/testdouble/localqldb"
)

// backend is a store the route suite runs on, unchanged, and the ledger
// failures it can cause.
type backend struct {
	name string
	open func(t testing.TB) (http.Handler, ledgerFaults)
}

// ledgerFaults makes the store fail as a ledger does.
type ledgerFaults interface {
	busy(t testing.TB)   // writes fail as "try again later"
	broken(t testing.TB) // reads fail for no fault of the client
	clear(t testing.TB)
	internals() []string // what a 500 must not reveal
}

var backends = []backend{{"qldb", openQLDB}, {"postgres", openPostgres}}

var pg *localpg.Server

// TestMain starts one local PostgreSQL for the package's tests.
func TestMain(m *testing.M) {
	s, err := localpg.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "the route tests need a PostgreSQL server:", err)
		os.Exit(1)
	}
	pg = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the PostgreSQL server:", err)
	}
	os.Exit(code)
}

func handler(store licence.Store) http.Handler {
	return httpapi.New(store, httpapi.Options{CORSAllowOrigin: "*", Logger: quiet, Now: func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) }})
}

// openQLDB is the handler on the QLDB store against a fresh local ledger.
func openQLDB(t testing.TB) (http.Handler, ledgerFaults) {
	t.Helper()
	srv := localqldb.New(localqldb.Options{LedgerName: "licences-test"})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	store, err := qldbstore.Open(context.Background(), qldbstore.Config{LedgerName: "licences-test", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	if _, err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return handler(store), qldbFaults{srv}
}

type qldbFaults struct{ srv *localqldb.Server }

func (f qldbFaults) busy(testing.TB) {
	f.srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict})
}
func (f qldbFaults) broken(testing.TB) {
	f.srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: "AccessDeniedException"})
}
func (f qldbFaults) clear(testing.TB)    { f.srv.ClearFaults() }
func (f qldbFaults) internals() []string { return []string{"AccessDenied", "qldb"} }

// openPostgres is the handler on the PostgreSQL store, connected as the
// least-privileged application user to a fresh, migrated database.
func openPostgres(t testing.TB) (http.Handler, ledgerFaults) {
	t.Helper()
	ctx := context.Background()
	ownerURL, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := owner.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if err := pgstore.Migrate(ctx, owner, "licences_api", false); err != nil {
		t.Fatal(err)
	}
	// A write that waits for a lock gives up quickly, as a busy database
	// makes it; the route suite's "busy" relies on it.
	if _, err := owner.Exec(ctx, "ALTER ROLE licences_api IN DATABASE "+owner.Config().Database+" SET lock_timeout = '300ms'"); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(strings.Replace(ownerURL, "postgres@", "licences_api@", 1))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return handler(pgstore.New(pool)), &pgFaults{owner: owner}
}

type pgFaults struct {
	owner *pgx.Conn
	lock  pgx.Tx
}

// busy holds the licence table locked, so writes time out waiting.
func (f *pgFaults) busy(t testing.TB) {
	tx, err := f.owner.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "LOCK TABLE licences IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	f.lock = tx
}

// broken takes the application's rights away.
func (f *pgFaults) broken(t testing.TB) {
	if _, err := f.owner.Exec(context.Background(), "REVOKE ALL ON licences FROM licences_api"); err != nil {
		t.Fatal(err)
	}
}

func (f *pgFaults) clear(t testing.TB) {
	if f.lock != nil {
		if err := f.lock.Rollback(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.lock = nil
	}
	if err := pgstore.Migrate(context.Background(), f.owner, "licences_api", false); err != nil {
		t.Fatal(err)
	}
}

func (f *pgFaults) internals() []string { return []string{"permission", "licences_api", "42501"} }
