package qldbstore

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
	"github.com/privateledger/licences/testdouble/localqldb"
)

// redactionDelay is how long the local ledger takes to complete a
// redaction in these tests: long enough that an erasure is first pending.
const redactionDelay = 30 * time.Millisecond

// newStore returns a migrated Store on a fresh local ledger.
func newStore(t testing.TB) (*localqldb.Server, *Store) {
	t.Helper()
	srv := localqldb.New(localqldb.Options{LedgerName: "licences-test", RedactionDelay: redactionDelay})
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

// subject is the store as the conformance suite takes it.
func subject(s *Store) storetest.Subject {
	return storetest.Subject{
		Store: s, Eraser: s,
		StoredBytes: func(t testing.TB, id string) int { return storedBytes(t, s, id) },
		Settle:      func() { time.Sleep(redactionDelay + 5*time.Millisecond) },
	}
}

// storedBytes is the size in Ion binary of the licence document with id as
// the ledger returns it (with its document id beside it).
func storedBytes(t testing.TB, s *Store, id string) int {
	t.Helper()
	out, err := s.execute(context.Background(), func(txn qldbdriver.Transaction) (any, error) {
		r, err := txn.Execute(stmtByID, id)
		if err != nil {
			return nil, err
		}
		if !r.Next(txn) {
			return nil, errors.Join(errors.New("no such document"), r.Err())
		}
		return len(r.GetCurrentData()), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.(int)
}

var (
	at     = storetest.At
	clerk  = storetest.Clerk
	create = func(t testing.TB, s *Store, email, key string) licence.Licence {
		return storetest.Create(t, s, email, key)
	}
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject { _, s := newStore(t); return subject(s) })
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
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		srv, s := newStore(t)
		for _, spec := range specs {
			f, err := localqldb.ParseFault(spec)
			if err != nil {
				t.Fatal(err)
			}
			srv.Inject(f)
		}
		return subject(s)
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	_, s := newStore(t) // migrated once already
	m, err := s.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.CreatedTables) != 0 || len(m.CreatedIndexes) != 0 {
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
	if !slices.Equal(m.CreatedTables, []string{"Licences", "Deletions"}) || !slices.Equal(m.CreatedIndexes, []string{"Licences.email", "Licences.idempotencyKey", "Deletions.licenceId"}) {
		t.Errorf("migration = %+v, want both tables and their three indexes", m)
	}
}

func TestExhaustedRetriesAreUnavailable(t *testing.T) {
	srv, s := newStore(t)
	srv.Inject(localqldb.Fault{Command: "CommitTransaction", Error: localqldb.OCCConflict})
	_, _, err := s.Create(context.Background(), licence.New("", storetest.Application("occ@example.com"), at, clerk), licence.IdempotencyKey{})
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
			l, _, err := s.Create(ctx, licence.New("", storetest.Application(email), at, clerk), storetest.Key("key-"+email, email))
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
		page, err := s.History(ctx, id, 0, 10)
		if err != nil || len(page.Revisions) != 1 {
			t.Errorf("%s has %d revisions, want exactly 1 (%v)", email, len(page.Revisions), err)
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
		{"create", 4, func() error { id = create(t, s, "count@example.com", "").ID; return nil }},
		{"create with a key", 5, func() error { create(t, s, "count2@example.com", "k"); return nil }},
		{"get", 3, func() error { _, err := s.Get(ctx, warm.ID); return err }},
		{"update", 4, func() error { storetest.AddPoints(t, s, warm.ID, 1, "x"); return nil }},
		{"history page", 4, func() error { _, err := s.History(ctx, warm.ID, 0, 50); return err }},
		{"delete", 4, func() error { return s.Delete(ctx, id, licence.Deletion(at, clerk)) }},
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

// A transaction whose request ends before the driver commits commits
// nothing: only a commit already sent outlives the request (commitGuard).
func TestARequestEndedBeforeItsCommitChangesNothing(t *testing.T) {
	_, s := newStore(t)
	l := create(t, s, "late@example.com", "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Update(ctx, l.ID, func(l *licence.Licence) {
		time.Sleep(200 * time.Millisecond) // the request ends meanwhile
		l.PenaltyPoints += 3
		l.LastEvent = &licence.Event{Kind: licence.PenaltyPointsAdded, Points: 3, Reason: "too late", At: time.Now(), Actor: l.LastEvent.Actor}
	})
	var u *licence.UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want UnavailableError for a request that ended before its commit", err)
	}
	got, err := s.Get(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PenaltyPoints != 0 {
		t.Errorf("points %d after a request that ended before its commit, want 0", got.PenaltyPoints)
	}
}

// halfThenPause answers with half of each response, then pauses before
// the rest: a ledger whose answer is still arriving.
type halfThenPause struct {
	ledger http.Handler
	pause  time.Duration
}

type buffered struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (b *buffered) Write(p []byte) (int, error) { return b.body.Write(p) }

func (h halfThenPause) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := &buffered{ResponseWriter: w}
	h.ledger.ServeHTTP(b, r)
	body := b.body.Bytes()
	_, _ = w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	time.Sleep(h.pause)
	_, _ = w.Write(body[len(body)/2:])
}

// The "failed to decode response body … use of closed network connection"
// failures seen under load were requests whose context ended (the client
// gave up) while the SDK was reading the ledger's answer: the transport
// closes the connection under the reader. Such a request is unavailable,
// not a server error.
func TestARequestEndedMidAnswerIsUnavailable(t *testing.T) {
	srv := localqldb.New(localqldb.Options{LedgerName: "mid-answer"})
	hs := httptest.NewServer(halfThenPause{srv, 200 * time.Millisecond})
	t.Cleanup(hs.Close)
	s, err := Open(context.Background(), Config{LedgerName: "mid-answer", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond) // mid-way through the second answer
	defer cancel()
	_, err = s.Get(ctx, "AAAAAAAAAAAAAAAAAAAAAA")
	var u *licence.UnavailableError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "failed to decode response body") {
		t.Fatalf("err = %v, want UnavailableError for an answer cut off mid-way", err)
	}
}

// BenchmarkConcurrentWrites measures writes at 1 to 128 clients at once on
// the local QLDB (storetest.ConcurrentWrites): the store's own limit on
// transactions in flight and the ledger's optimistic concurrency, not
// AWS's service, which this double does not time.
func BenchmarkConcurrentWrites(b *testing.B) {
	storetest.ConcurrentWrites(b, func(b *testing.B) licence.Store { _, s := newStore(b); return s })
}

// BenchmarkReads measures a get and history pages at 100 and 10,000
// revisions (storetest.Reads) against the local double.
func BenchmarkReads(b *testing.B) {
	storetest.Reads(b, func(b *testing.B) licence.Store { _, s := newStore(b); return s })
}
