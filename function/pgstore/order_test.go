package pgstore

import (
	"cmp"
	"context"
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
	timed := func(key func() (string, error)) bool {
		start := time.Now()
		k, err := key()
		if err != nil {
			t.Error(err)
			return false
		}
		record(raced{key: k, start: start, end: time.Now()})
		return true
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
