package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/function/qldbstore"
	"github.com/privateledger/licences/testdouble/localpg"
	"github.com/privateledger/licences/testdouble/localqldb"
	"github.com/privateledger/licences/testdouble/tcpproxy"
)

// backend is an engine the route suite runs on, unchanged.
type backend struct {
	name string
	open func(t testing.TB) ledger
}

// ledger is a store on one engine, reached through a proxy the test can
// cut, and the failures the engine can be made to show.
type ledger struct {
	store  licence.Store
	eraser licence.Eraser
	faults ledgerFaults
	proxy  *tcpproxy.Proxy
	// settle lets a ledger that erases asynchronously finish.
	settle func()
	// storedBytes is the size of the licence with id as the ledger keeps it.
	storedBytes func(t testing.TB, id string) int
}

// ledgerFaults makes the store fail as a ledger does.
type ledgerFaults interface {
	busy(t testing.TB)     // writes fail as "try again later"
	saturate(t testing.TB) // every session or connection is taken for longer than a request may wait
	broken(t testing.TB)   // reads fail for no fault of the client
	// slowCommits makes every commit of a change take d, the change
	// taking effect at its end.
	slowCommits(t testing.TB, d time.Duration)
	clear(t testing.TB)
	internals() []string // what a 500 must not reveal
}

var backends = []backend{{"qldb", openQLDB}, {"postgres", openPostgres}}

var pg *localpg.Server

// TestMain starts one local PostgreSQL for the package's tests.
func TestMain(m *testing.M) { os.Exit(localpg.Main(m, &pg)) }

// proxyTo starts a proxy to addr, closed when the test ends.
func proxyTo(t testing.TB, addr string) *tcpproxy.Proxy {
	t.Helper()
	p, err := tcpproxy.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// openQLDB is the QLDB store against a fresh local ledger.
func openQLDB(t testing.TB) ledger {
	t.Helper()
	const redactionDelay = 20 * time.Millisecond
	srv := localqldb.New(localqldb.Options{LedgerName: "licences-test", RedactionDelay: redactionDelay})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	proxy := proxyTo(t, hs.Listener.Addr().String())
	store, err := qldbstore.Open(context.Background(), qldbstore.Config{LedgerName: "licences-test", Endpoint: "http://" + proxy.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	if _, err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ledger{
		store: store, eraser: store, faults: qldbFaults{srv}, proxy: proxy,
		settle: func() { time.Sleep(redactionDelay + 5*time.Millisecond) },
		storedBytes: func(t testing.TB, id string) int {
			t.Helper()
			n, err := srv.DocumentBytes("Licences", id)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	}
}

type qldbFaults struct{ srv *localqldb.Server }

func (f qldbFaults) busy(testing.TB) {
	f.srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict})
}
func (f qldbFaults) saturate(testing.TB) {
	f.srv.Inject(localqldb.Fault{Command: "StartTransaction", Delay: 3 * time.Second})
}
func (f qldbFaults) broken(testing.TB) {
	f.srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: "AccessDeniedException"})
}
func (f qldbFaults) slowCommits(_ testing.TB, d time.Duration) {
	f.srv.Inject(localqldb.Fault{Command: "CommitTransaction", Delay: d})
}
func (f qldbFaults) clear(testing.TB)    { f.srv.ClearFaults() }
func (f qldbFaults) internals() []string { return []string{"AccessDenied", "qldb"} }

// poolSize is the API's connections in the route suite: the saturation
// fault takes them all.
const poolSize = 4

// openPostgres is the PostgreSQL store on a fresh, migrated database,
// connected as the least-privileged API user, and erasing as the eraser.
func openPostgres(t testing.TB) ledger {
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
	users := pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}
	if err := pgstore.Migrate(ctx, owner, users, false); err != nil {
		t.Fatal(err)
	}
	// A write that waits for a lock gives up quickly, as a busy database
	// makes it; the route suite's "busy" relies on it.
	if _, err := owner.Exec(ctx, "ALTER ROLE licences_api IN DATABASE "+owner.Config().Database+" SET lock_timeout = '300ms'"); err != nil {
		t.Fatal(err)
	}
	proxy := proxyTo(t, net.JoinHostPort(owner.Config().Host, fmt.Sprint(owner.Config().Port)))
	open := func(user string, size int32) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(ownerURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ConnConfig.User = user
		host, port, err := net.SplitHostPort(proxy.Addr())
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(n)
		cfg.MaxConns = size
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	api := open(users.API, poolSize)
	return ledger{
		store: pgstore.New(api), eraser: pgstore.New(open(users.Eraser, 2)),
		faults: &pgFaults{owner: owner, users: users, api: api}, proxy: proxy,
		storedBytes: func(t testing.TB, id string) int {
			t.Helper()
			var n int
			if err := owner.QueryRow(context.Background(), `SELECT pg_column_size(doc) FROM licences WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	}
}

type pgFaults struct {
	owner *pgx.Conn
	users pgstore.Users
	api   *pgxpool.Pool
	lock  pgx.Tx
	held  []*pgxpool.Conn
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

// saturate takes every connection of the API's pool.
func (f *pgFaults) saturate(t testing.TB) {
	for range poolSize {
		c, err := f.api.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.held = append(f.held, c)
	}
}

// broken takes the application's rights away.
func (f *pgFaults) broken(t testing.TB) {
	if _, err := f.owner.Exec(context.Background(), "REVOKE ALL ON licences FROM licences_api"); err != nil {
		t.Fatal(err)
	}
}

// slowCommits adds a deferred trigger that sleeps d at COMMIT: a change
// to a licence takes effect only when it returns.
func (f *pgFaults) slowCommits(t testing.TB, d time.Duration) {
	ctx := context.Background()
	for _, stmt := range []string{
		fmt.Sprintf(`CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(%f); RETURN NULL; END $$`, d.Seconds()),
		`CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT OR UPDATE OR DELETE ON licences DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit()`,
	} {
		if _, err := f.owner.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *pgFaults) clear(t testing.TB) {
	for _, stmt := range []string{`DROP TRIGGER IF EXISTS test_slow_commit ON licences`, `DROP FUNCTION IF EXISTS test_slow_commit()`} {
		if _, err := f.owner.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	if f.lock != nil {
		if err := f.lock.Rollback(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.lock = nil
	}
	for _, c := range f.held {
		c.Release()
	}
	f.held = nil
	if err := pgstore.Migrate(context.Background(), f.owner, f.users, false); err != nil {
		t.Fatal(err)
	}
}

func (f *pgFaults) internals() []string { return []string{"permission", "licences_api", "42501"} }
