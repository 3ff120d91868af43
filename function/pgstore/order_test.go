package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
)

// A write the race below made: what finds its ledger entry, and when its
// call began and returned.
type raced struct {
	key        string
	start, end time.Time
	position   int64
}

// Writers race on a few shared licences and on their own (made, deleted,
// erased) while digests are taken. A revision takes the ledger's tip only
// as its transaction commits; this is what must still hold:
//   - the ledger verifies, with every write in it once;
//   - every digest taken during the race is a prefix of the final ledger:
//     no entry that committed after a digest took a position it covers;
//   - positions follow commit order: a write whose call returned before
//     another's began holds the lower position.
func TestConcurrentWritersKeepCommitOrderAndDigests(t *testing.T) {
	const writers, rounds, shared = 12, 15, 3
	ctx := context.Background()
	d := newDB(t)
	ids := make([]string, shared)
	for i := range ids {
		ids[i] = create(t, d.api, fmt.Sprintf("shared%d@example.com", i), "").ID
	}

	var (
		mu      sync.Mutex
		writes  []raced
		digests []Digest
		wg      sync.WaitGroup
	)
	record := func(w raced) {
		mu.Lock()
		defer mu.Unlock()
		writes = append(writes, w)
	}
	// A write answered "unavailable" committed nothing (so the tests
	// below): it is sent again, as a client does with 503, and counts from
	// its first attempt.
	timed := func(key func() (string, error)) bool {
		start := time.Now()
		for {
			k, err := key()
			var u *licence.UnavailableError
			if errors.As(err, &u) {
				continue
			}
			if err != nil {
				t.Error(err)
				return false
			}
			record(raced{key: k, start: start, end: time.Now()})
			return true
		}
	}
	stop := make(chan struct{})
	digester := make(chan struct{})
	go func() {
		defer close(digester)
		for {
			select {
			case <-stop:
				return
			default:
			}
			dg, err := TakeDigest(ctx, d.digest.pool)
			if err != nil {
				t.Error(err)
				return
			}
			digests = append(digests, dg)
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				reason := fmt.Sprintf("writer %d round %d", w, r)
				if !timed(func() (string, error) {
					_, err := d.api.Update(ctx, ids[(w+r)%shared], func(l *licence.Licence) {
						l.ChangePoints(licence.PointsChange{Points: 1, Reason: reason}, at, clerk)
					})
					return reason, err
				}) {
					return
				}
				if r%5 != 0 {
					continue
				}
				var id string
				app := licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: fmt.Sprintf("w%d-r%d@example.com", w, r),
					Telephone: "07700900123", Postcode: "SW1A 1AA"}
				if !timed(func() (string, error) {
					l, _, err := d.api.Create(ctx, licence.New("", app, at, clerk), licence.IdempotencyKey{})
					id = l.ID
					return id + "/0", err
				}) || !timed(func() (string, error) {
					return id + "/1", d.api.Delete(ctx, id, licence.Deletion(at, clerk))
				}) || !timed(func() (string, error) {
					_, err := d.eraser.Erase(ctx, id, licence.Erasure{At: at, Actor: storetest.Officer})
					return "erasure of " + id, err
				}) {
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-digester
	if t.Failed() {
		return
	}

	rep := d.verify(t, nil)
	if rep.Broken != nil || rep.Revisions != shared+len(writes)-rep.Erasures || rep.Erasures != writers*((rounds+4)/5) {
		t.Fatalf("after the race: %+v; want it verified with %d writes", rep, len(writes))
	}
	// Digests at distinct positions, up to 25 spread over the race: each
	// verification reads the whole ledger.
	digests = slices.CompactFunc(digests, func(a, b Digest) bool { return a.Seq == b.Seq })
	if len(digests) < 2 {
		t.Fatalf("%d distinct digests taken during the race, want several", len(digests))
	}
	step := max(1, len(digests)/25)
	for i := 0; i < len(digests); i += step {
		dg := digests[i]
		if rep := d.verify(t, &dg); rep.Broken != nil {
			t.Fatalf("the digest at position %d, taken during the race: %+v", dg.Seq, rep.Broken)
		}
	}

	positions := d.positions(t)
	for i := range writes {
		p, ok := positions[writes[i].key]
		if !ok {
			t.Fatalf("no ledger entry for %q", writes[i].key)
		}
		writes[i].position = p
	}
	slices.SortFunc(writes, func(a, b raced) int { return cmp.Compare(a.position, b.position) })
	// Scanning from the ledger's end: the earliest return among the later
	// positions must not come before this write began.
	later := writes[len(writes)-1]
	for i := len(writes) - 2; i >= 0; i-- {
		if later.end.Before(writes[i].start) {
			t.Errorf("%q (position %d) returned before %q (position %d) began", later.key, later.position, writes[i].key, writes[i].position)
		}
		if writes[i].end.Before(later.end) {
			later = writes[i]
		}
	}
	t.Logf("%d writes, %d digests taken during them", len(writes), len(digests))
}

// positions maps each entry of the ledger to its position: a revision by
// its points change's reason, or else "licence/version"; an erasure as
// "erasure of licence".
func (d *db) positions(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := d.owner.Query(context.Background(), `
		SELECT ledger_seq, coalesce(event->>'reason', licence_id || '/' || version) FROM licence_history
		UNION ALL SELECT ledger_seq, 'erasure of ' || (body->>'licenceId') FROM ledger_entries WHERE kind = 'erasure'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			seq int64
			key string
		)
		if err := rows.Scan(&seq, &key); err != nil {
			t.Fatal(err)
		}
		out[key] = seq
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A transaction takes the ledger's tip only as it commits: one left open
// after its change does not hold back another writer's commit, which
// takes the earlier position, and a digest taken meanwhile covers it.
// (Before, the open transaction's statement held the tip until it
// committed, and the other writer waited on it to its deadline.)
func TestAnOpenTransactionDoesNotHoldTheTip(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	open := create(t, d.api, "open@example.com", "")
	other := create(t, d.api, "other@example.com", "")
	tx, err := d.asRole(t, "licences_api").Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // committed below
	if _, err := tx.Exec(ctx, `UPDATE licences SET doc = jsonb_set(jsonb_set(doc, '{penaltyPoints}', '3'), '{lastEvent}',
		'{"kind":"PenaltyPointsAdded","points":3,"reason":"left open","at":"2026-12-01T09:00:00Z","actor":{"principal":"clerk"}}') WHERE id = $1`, open.ID); err != nil {
		t.Fatal(err)
	}
	// A bound on what would otherwise wait for ever, not a speed.
	bounded, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := d.api.Update(bounded, other.ID, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: 1, Reason: "committed first"}, at, clerk)
	}); err != nil {
		t.Fatalf("a change while another transaction is open after its own: %v", err)
	}
	digest, err := TakeDigest(ctx, d.digest.pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	positions := d.positions(t)
	if first, last := positions["committed first"], positions["left open"]; digest.Seq != first || last != first+1 {
		t.Errorf("the first commit at position %d, the open one's at %d, the digest between them at %d", first, last, digest.Seq)
	}
	if rep := d.verify(t, &digest); rep.Broken != nil {
		t.Errorf("against the digest taken while a transaction was open: %v", rep.Broken)
	}
}

// A commit waits for the ledger's tip for a bounded time, well inside
// licence.CommitWait: when it cannot have it, it fails and rolls back
// while the store still listens, so a change answered "unavailable" is
// never committed behind that answer (and then made again by the client's
// retry).
func TestACommitThatCannotHaveTheTipRollsBackWhileTheStoreListens(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	l := create(t, d.api, "queued@example.com", "")
	hold := func() {
		t.Helper()
		if _, err := d.owner.Exec(ctx, `SELECT seq FROM ledger_tip FOR UPDATE`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.owner.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	hold()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err := d.api.Update(short, l.ID, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: 3, Reason: "queued"}, at, clerk)
	})
	cancel()
	var u *licence.UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("a change whose commit cannot have the tip: %v, want unavailable", err)
	}
	if _, err := d.owner.Exec(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	// Taking the tip again waits for any commit queued on it to end.
	hold()
	got, err := d.api.Get(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep := d.verify(t, nil); got.PenaltyPoints != 0 || rep.Revisions != 1 || rep.Broken != nil {
		t.Errorf("after the change answered unavailable: %d points, %+v; want nothing changed", got.PenaltyPoints, rep)
	}
}

// An erasure made in the transaction that deleted its licence (the owner
// may; the store never does) still follows the deletion in the ledger: the
// deletion takes its position before the erasure takes its own, and Verify
// holds an erasure to coming after the deletion it needs.
func TestAnErasureInTheDeletionsTransactionFollowsIt(t *testing.T) {
	d := newDB(t)
	l := create(t, d.api, "together@example.com", "")
	d.tamper(t, `BEGIN`,
		`SELECT set_config('licences.deletion_event', '{"kind":"LicenceDeleted","at":"2026-12-01T09:00:00Z","actor":{"principal":"clerk"}}', true)`,
		`DELETE FROM licences WHERE id = '`+l.ID+`'`,
		`SELECT licence_erase('`+l.ID+`', '{"at":"2026-12-01T10:00:00Z","actor":{"principal":"officer"}}')`,
		`COMMIT`)
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Erasures != 1 || rep.Redacted != 1 {
		t.Fatalf("after deleting and erasing in one transaction: %+v", rep)
	}
	positions := d.positions(t)
	if deletion, erasure := positions[l.ID+"/1"], positions["erasure of "+l.ID]; deletion == 0 || erasure != deletion+1 {
		t.Errorf("the deletion at position %d, its erasure at %d; want the erasure next after it", deletion, erasure)
	}
}
