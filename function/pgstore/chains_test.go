package pgstore

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"testing"

	"github.com/privateledger/licences/function/licence/storetest"
)

// Checking is spread over checkers, a batch of whole licences each, yet
// the report is the one a single checker gives: with two licences broken
// many batches apart, the first in licence order is reported, and the
// counts are those of the revisions before it, every time.
func TestVerifyReportsTheFirstBrokenPlaceWhateverTheCheckers(t *testing.T) {
	const licences, first, second = 3000, 100, 2900
	d := newDB(t)
	fillLedger(t, d, licences) // two revisions each, ids in order
	d.tamper(t,
		fmt.Sprintf(`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '9') WHERE licence_id = lpad('%d', 22, '0') AND version = 1`, first),
		fmt.Sprintf(`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '9') WHERE licence_id = lpad('%d', 22, '0') AND version = 1`, second))
	want := fmt.Sprintf("%022d", first)
	for range 5 {
		rep := d.verify(t, nil)
		if rep.Broken == nil || rep.Broken.LicenceID != want || rep.Broken.Version != 1 {
			t.Fatalf("reported %+v, want licence %s at version 1", rep.Broken, want)
		}
		// The licences before it whole, and its first revision.
		if rep.Licences != first || rep.Revisions != 2*(first-1)+1 || rep.Read != rep.Revisions {
			t.Fatalf("counted %d licences, %d revisions, %d rows read; want %d, %d and as many rows", rep.Licences, rep.Revisions, rep.Read, first, 2*(first-1)+1)
		}
	}
}

// Two neighbouring batches, each broken at its edge (the last revision of
// the first, the first of the second), checked at once by 1 to 8
// checkers: whichever finishes first, the first batch's break is the one
// reported, with the counts before it.
func TestCheckChainsReportsInTheOrderItRead(t *testing.T) {
	d := newDB(t)
	fillLedger(t, d, 3000)
	// A third revision for the first licence: licences no longer fit a
	// batch exactly, so a batch that cut one in two would show.
	storetest.AddPoints(t, d.api, fmt.Sprintf("%022d", 1), 1, "odd")
	history, es := d.history(t)
	edge := batchRows // the first row of the second batch: a licence's first revision
	for history[edge].id == history[edge-1].id {
		edge++
	}
	broken := slices.Clone(history)
	for _, i := range []int{edge - 1, edge} {
		broken[i].hash = append([]byte{^history[i].hash[0]}, history[i].hash[1:]...)
	}
	// One batch of every row, checked by one checker: a single walk.
	single := batch{rows: broken}.check(es)
	want, good := single.broken, single.revisions
	if want == nil || want.LicenceID != history[edge-1].id || good != edge-1 {
		t.Fatalf("one walk over the rows finds %+v after %d revisions; want licence %s after %d", want, good, history[edge-1].id, edge-1)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, checkers := range []int{1, 2, 4, 8} {
		runtime.GOMAXPROCS(checkers)
		for range 10 {
			var rep Report
			if err := checkChains(rowsOf(broken), es, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Broken == nil || *rep.Broken != *want || rep.Revisions != good {
				t.Fatalf("%d checkers: reported %+v after %d revisions; one walk finds %+v after %d", checkers, rep.Broken, rep.Revisions, want, good)
			}
		}
	}
}

// history reads d's whole history as verification does, with its entries.
func (d *db) history(t testing.TB) ([]historyRow, *entries) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.digest.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // read only
	es, err := readEntries(ctx, tx, everything, &Report{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := queryHistory(ctx, tx, everything)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var history []historyRow
	for r, err := range historyRows(rows) {
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, r)
	}
	return history, es
}

// rowsOf yields history as the database's rows would be.
func rowsOf(history []historyRow) iter.Seq2[historyRow, error] {
	return func(yield func(historyRow, error) bool) {
		for _, r := range history {
			if !yield(r, nil) {
				return
			}
		}
	}
}
