package qldbstore

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
	"github.com/privateledger/licences/testdouble/localqldb"
)

// newStore returns a migrated Store on a fresh local ledger.
func newStore(t testing.TB) (*localqldb.Server, *Store) {
	t.Helper()
	srv := localqldb.New(localqldb.Options{LedgerName: "licences-test"})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s, err := Open(context.Background(), Config{LedgerName: "licences-test", Endpoint: hs.URL, MaxRetries: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv, s
}

var (
	at          = storetest.At
	application = storetest.Application
	create      = func(t testing.TB, s *Store, email, key string) licence.Licence {
		return storetest.Create(t, s, email, key)
	}
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) licence.Store { _, s := newStore(t); return s })
}

func TestConcurrentPointAdditionsUnderFaults(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(localqldb.Fault{Command: "ExecuteStatement", Error: localqldb.InvalidSession, Probability: 0.02})
	srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: localqldb.CapacityExceeded, Probability: 0.02})
	srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict, Probability: 0.05})
	storetest.ConcurrentPoints(t, s)
}

// The faults the README gives for running against a misbehaving ledger
// from the command line (cmd/localqldb -fault …): the store's conformance
// suite holds under them.
func TestConformanceUnderCommandLineFaults(t *testing.T) {
	specs := []string{
		"command=CommitTransaction,error=OccConflictException,p=0.2",
		"command=ExecuteStatement,error=InvalidSessionException,p=0.05",
		"command=StartTransaction,error=CapacityExceededException,p=0.05",
		"command=ExecuteStatement,delay=2ms,p=0.5",
	}
	storetest.Run(t, func(t *testing.T) licence.Store {
		srv, s := newStore(t)
		for _, spec := range specs {
			f, err := localqldb.ParseFault(spec)
			if err != nil {
				t.Fatal(err)
			}
			srv.Inject(f)
		}
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	_, s := newStore(t) // migrated once already
	m, err := s.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.CreatedTable || len(m.CreatedIndexes) != 0 {
		t.Errorf("second migration created %+v, want nothing", m)
	}
}

func TestMigrateCreatesTableAndIndexes(t *testing.T) {
	srv := localqldb.New(localqldb.Options{LedgerName: "fresh"})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	s, err := Open(context.Background(), Config{LedgerName: "fresh", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	m, err := s.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !m.CreatedTable || len(m.CreatedIndexes) != 1 || m.CreatedIndexes[0] != "email" {
		t.Errorf("migration = %+v, want the table and the email index", m)
	}
}

func TestExhaustedRetriesAreUnavailable(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict})
	_, _, err := s.Create(context.Background(), licence.New("", application("occ@example.com"), at), "")
	var u *licence.UnavailableError
	if !errors.As(err, &u) || u.RetryAfter <= 0 {
		t.Fatalf("err = %v, want UnavailableError with a retry-after", err)
	}
	srv.ClearFaults()
	srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: localqldb.CapacityExceeded})
	if _, err := s.Get(context.Background(), "x"); !errors.As(err, &u) {
		t.Fatalf("capacity exceeded throughout: %v, want UnavailableError", err)
	}
}

func TestWritesSurviveFaultsExactlyOnce(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict, Probability: 0.3})
	srv.Inject(localqldb.Fault{Command: "ExecuteStatement", Error: localqldb.InvalidSession, Probability: 0.1})
	srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: localqldb.CapacityExceeded, Probability: 0.1})
	srv.Inject(localqldb.Fault{Command: "StartTransaction", Error: localqldb.InternalFailure, Probability: 0.1})
	ctx := context.Background()
	acknowledged := map[string]string{} // email → id
	for i := range 40 {
		email := "driver" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		for attempt := 0; ; attempt++ {
			l, _, err := s.Create(ctx, licence.New("", application(email), at), "key-"+email)
			if err == nil {
				acknowledged[email] = l.ID
				break
			}
			var u *licence.UnavailableError
			if !errors.As(err, &u) || attempt > 20 {
				t.Fatalf("create %s: %v", email, err)
			}
		}
	}
	calls := srv.Calls()
	t.Logf("%d creates acknowledged over %d SendCommand calls (%d commits)", len(acknowledged), calls["Total"], calls["CommitTransaction"])
	if calls["CommitTransaction"] <= len(acknowledged) {
		t.Errorf("%d commits for %d creates: the faults never hit", calls["CommitTransaction"], len(acknowledged))
	}
	srv.ClearFaults()
	for email, id := range acknowledged {
		got, err := s.Get(ctx, id)
		if err != nil || got.Email != email {
			t.Errorf("acknowledged %s (%s): %+v, %v", email, id, got, err)
		}
		revs, err := s.History(ctx, id)
		if err != nil || len(revs) != 1 {
			t.Errorf("%s has %d revisions, want exactly 1 (%v)", email, len(revs), err)
		}
	}
}

func TestSendCommandsPerOperationOnAWarmSession(t *testing.T) {
	srv, s := newStore(t)
	ctx := context.Background()
	warm := create(t, s, "warm@example.com", "")
	count := func(name string, op func() error) int {
		srv.ResetCalls()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return srv.Calls()["Total"]
	}
	var id string
	for _, c := range []struct {
		name string
		max  int
		op   func() error
	}{
		{"create", 4, func() error { id = create(t, s, "count@example.com", "k").ID; return nil }},
		{"get", 3, func() error { _, err := s.Get(ctx, warm.ID); return err }},
		{"update", 4, func() error {
			_, err := s.Update(ctx, warm.ID, func(l *licence.Licence) { l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at) })
			return err
		}},
		{"history", 3, func() error { _, err := s.History(ctx, warm.ID); return err }},
		{"delete", 3, func() error { return s.Delete(ctx, id) }},
	} {
		got := count(c.name, c.op)
		t.Logf("%s: %d SendCommand calls", c.name, got)
		if got > c.max {
			t.Errorf("%s took %d SendCommand calls, want at most %d", c.name, got, c.max)
		}
	}
}

func TestSlowLedgerPastTheDeadlineIsUnavailable(t *testing.T) {
	srv, s := newStore(t)
	l := create(t, s, "slow@example.com", "")
	srv.Inject(localqldb.Fault{Command: "ExecuteStatement", Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Get(ctx, l.ID)
	var u *licence.UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want UnavailableError when the ledger answers after the deadline", err)
	}
}
