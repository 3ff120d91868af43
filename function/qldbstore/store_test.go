package qldbstore

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/qldblocal"
)

// newStore returns a migrated Store on a fresh local ledger.
func newStore(t testing.TB) (*qldblocal.Server, *Store) {
	t.Helper()
	srv := qldblocal.New(qldblocal.Options{LedgerName: "licences-test"})
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

var at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func application(email string) licence.Application {
	return licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: email, Telephone: "07700900123", Postcode: "SW1A 1AA"}
}

func create(t testing.TB, s *Store, email, key string) licence.Licence {
	t.Helper()
	l, _, err := s.Create(context.Background(), licence.New("", application(email), at), key)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return l
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
	srv := qldblocal.New(qldblocal.Options{LedgerName: "fresh"})
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

func TestLifecycle(t *testing.T) {
	_, s := newStore(t)
	ctx := context.Background()
	l := create(t, s, "jo@example.com", "")
	if l.ID == "" || l.Email != "jo@example.com" {
		t.Fatalf("created %+v", l)
	}
	got, err := s.Get(ctx, l.ID)
	if err != nil || got.Email != l.Email || len(got.Events) != 1 || !got.Events[0].At.Equal(at) {
		t.Fatalf("get = %+v, %v", got, err)
	}
	updated, err := s.Update(ctx, l.ID, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: 3, Reason: "speeding"}, at)
	})
	if err != nil || updated.PenaltyPoints != 3 {
		t.Fatalf("update = %+v, %v", updated, err)
	}
	if got, _ := s.Get(ctx, l.ID); got.PenaltyPoints != 3 || len(got.Events) != 2 {
		t.Errorf("after update get = %+v", got)
	}
	if err := s.Delete(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, l.ID); !errors.Is(err, licence.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	revs, err := s.History(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 3 || revs[0].Version != 0 || revs[1].Licence.PenaltyPoints != 3 || revs[2].Licence != nil {
		t.Errorf("history = %+v, want created, updated, deleted", revs)
	}
	for _, r := range revs {
		if r.TransactionID == "" || r.TransactionAt.IsZero() {
			t.Errorf("revision %+v lacks its transaction", r)
		}
	}
}

func TestErrors(t *testing.T) {
	_, s := newStore(t)
	ctx := context.Background()
	create(t, s, "taken@example.com", "k1")
	if _, _, err := s.Create(ctx, licence.New("", application("taken@example.com"), at), ""); !errors.Is(err, licence.ErrEmailTaken) {
		t.Errorf("duplicate email: %v, want ErrEmailTaken", err)
	}
	other := application("taken@example.com")
	other.FirstName = "Someone"
	if _, _, err := s.Create(ctx, licence.New("", other, at), "k1"); !errors.Is(err, licence.ErrKeyReused) {
		t.Errorf("key reused for another application: %v, want ErrKeyReused", err)
	}
	for name, err := range map[string]error{
		"get":     func() error { _, err := s.Get(ctx, "nosuchdocument0000000"); return err }(),
		"update":  func() error { _, err := s.Update(ctx, "nosuchdocument0000000", func(*licence.Licence) {}); return err }(),
		"delete":  s.Delete(ctx, "nosuchdocument0000000"),
		"history": func() error { _, err := s.History(ctx, "nosuchdocument0000000"); return err }(),
	} {
		if !errors.Is(err, licence.ErrNotFound) {
			t.Errorf("%s of a missing licence: %v, want ErrNotFound", name, err)
		}
	}
}

func TestIdempotentCreateReturnsTheFirstLicence(t *testing.T) {
	_, s := newStore(t)
	first := create(t, s, "retry@example.com", "key-1")
	again, replayed, err := s.Create(context.Background(), licence.New("", application("retry@example.com"), at), "key-1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry = %+v replayed %v err %v, want the first licence replayed", again, replayed, err)
	}
}

func TestExhaustedRetriesAreUnavailable(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(qldblocal.Fault{Command: "CommitTransaction", Error: qldblocal.OCCConflict})
	_, _, err := s.Create(context.Background(), licence.New("", application("occ@example.com"), at), "")
	var u *licence.UnavailableError
	if !errors.As(err, &u) || u.RetryAfter <= 0 {
		t.Fatalf("err = %v, want UnavailableError with a retry-after", err)
	}
	srv.ClearFaults()
	srv.Inject(qldblocal.Fault{Command: "StartTransaction", Error: qldblocal.CapacityExceeded})
	if _, err := s.Get(context.Background(), "x"); !errors.As(err, &u) {
		t.Fatalf("capacity exceeded throughout: %v, want UnavailableError", err)
	}
}

func TestWritesSurviveFaultsExactlyOnce(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(qldblocal.Fault{Command: "CommitTransaction", Error: qldblocal.OCCConflict, Probability: 0.3})
	srv.Inject(qldblocal.Fault{Command: "ExecuteStatement", Error: qldblocal.InvalidSession, Probability: 0.1})
	srv.Inject(qldblocal.Fault{Command: "StartTransaction", Error: qldblocal.CapacityExceeded, Probability: 0.1})
	srv.Inject(qldblocal.Fault{Command: "StartTransaction", Error: qldblocal.InternalFailure, Probability: 0.1})
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

func TestConcurrentPointAdditionsKeepTheSum(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(qldblocal.Fault{Command: "ExecuteStatement", Error: qldblocal.InvalidSession, Probability: 0.02})
	srv.Inject(qldblocal.Fault{Command: "StartTransaction", Error: qldblocal.CapacityExceeded, Probability: 0.02})
	l := create(t, s, "busy@example.com", "")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			points := 1 + i%3
			for {
				_, err := s.Update(context.Background(), l.ID, func(l *licence.Licence) {
					l.ChangePoints(licence.PointsChange{Points: points, Reason: "test"}, at)
				})
				var u *licence.UnavailableError
				if errors.As(err, &u) {
					continue // what a client does with 503 and Retry-After
				}
				errs <- err
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := 0
	for i := range n {
		want += 1 + i%3
	}
	got, err := s.Get(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PenaltyPoints != want || len(got.Events) != n+1 {
		t.Errorf("points %d with %d events, want %d with %d", got.PenaltyPoints, len(got.Events), want, n+1)
	}
}

func TestSendCommandsPerOperationOnAWarmSession(t *testing.T) {
	srv, s := newStore(t)
	ctx := context.Background()
	warm := create(t, s, "warm@example.com", "")
	count := func(op func()) int {
		srv.ResetCalls()
		op()
		return srv.Calls()["Total"]
	}
	var id string
	for _, c := range []struct {
		name string
		max  int
		op   func()
	}{
		{"create", 4, func() { id = create(t, s, "count@example.com", "k").ID }},
		{"get", 3, func() { s.Get(ctx, warm.ID) }},
		{"update", 4, func() {
			s.Update(ctx, warm.ID, func(l *licence.Licence) { l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at) })
		}},
		{"history", 3, func() { s.History(ctx, warm.ID) }},
		{"delete", 3, func() { s.Delete(ctx, id) }},
	} {
		got := count(c.op)
		t.Logf("%s: %d SendCommand calls", c.name, got)
		if got > c.max {
			t.Errorf("%s took %d SendCommand calls, want at most %d", c.name, got, c.max)
		}
	}
}

func TestSlowLedgerPastTheDeadlineIsUnavailable(t *testing.T) {
	srv, s := newStore(t)
	l := create(t, s, "slow@example.com", "")
	srv.Inject(qldblocal.Fault{Command: "ExecuteStatement", Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Get(ctx, l.ID)
	var u *licence.UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want UnavailableError when the ledger answers after the deadline", err)
	}
}
