package pgstore

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"
)

// batchRows is about how many revisions a checker takes at once: whole
// licences, so a licence's chain is checked by one checker.
const batchRows = 512

// batch is whole licences' revisions, in licence and version order, and
// where their tally goes.
type batch struct {
	rows   []historyRow
	result chan<- tally
}

// tally is what checking a batch found: its counts up to the first broken
// place, and that place.
type tally struct {
	licences, live, revisions, redacted int
	broken                              *BrokenLink
}

// verifyChains reads the scope's history in one query, in licence order,
// and checks each licence's chain (checkChains).
func verifyChains(ctx context.Context, q Querier, sc scope, es *entries, rep *Report) error {
	rows, err := queryHistory(ctx, q, sc)
	if err != nil {
		return err
	}
	defer rows.Close()
	return checkChains(historyRows(rows), es, rep)
}

// queryHistory reads the scope's revisions in licence and version order,
// each with whether it is its licence's head and, if so, the live row.
func queryHistory(ctx context.Context, q Querier, sc scope) (pgx.Rows, error) {
	rows, err := q.Query(ctx, `SELECT x.licence_id, x.version, x.tx_id, x.tx_time, x.formula, x.doc::text, x.event::text,
			x.content_hash, x.erased IS NOT NULL, x.erased::text, x.ledger_seq, x.prev_hash, x.hash, x.head, l.id IS NOT NULL, CASE WHEN x.head THEN l.doc::text END
		FROM (SELECT h.*, h.version = max(h.version) OVER (PARTITION BY h.licence_id) AS head FROM licence_history h`+sc.history()+`) x
		LEFT JOIN licences l ON l.id = x.licence_id
		ORDER BY x.licence_id, x.version`, sc.args()...)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return rows, nil
}

// historyRows yields verifyChains' rows, then the error that ended them.
func historyRows(rows pgx.Rows) iter.Seq2[historyRow, error] {
	return func(yield func(historyRow, error) bool) {
		for rows.Next() {
			var r historyRow
			if err := rows.Scan(&r.id, &r.version, &r.tx, &r.at, &r.formula, &r.doc, &r.event, &r.content,
				&r.erased, &r.erasedRecord, &r.seq, &r.prev, &r.hash, &r.head, &r.live, &r.liveDoc); err != nil {
				yield(r, fmt.Errorf("read history: %w", err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(historyRow{}, fmt.Errorf("read history: %w", err))
		}
	}
}

// checkChains checks each licence's chain (chain.take) in history, which
// holds revisions in licence and version order. Checking (hashes, JSON,
// the replay) costs more than reading, so whole licences go in batches to
// one checker per core. The batches' tallies are taken in the order they
// were read: the first broken place reported, and the counts up to it, are
// those one checker would report. At most two batches per checker are in
// flight, so memory does not grow with the ledger.
func checkChains(history iter.Seq2[historyRow, error], es *entries, rep *Report) error {
	// stop ends the reading at the first broken place. (A cancelled
	// context would close the connection under the query.)
	stop := make(chan struct{})
	checkers := runtime.GOMAXPROCS(0)
	work := make(chan batch)
	tallies := make(chan chan tally, 2*checkers)
	var checking sync.WaitGroup
	for range checkers {
		checking.Go(func() {
			for b := range work {
				b.result <- b.check(es)
			}
		})
	}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for next := range tallies {
			t := <-next
			if rep.Broken != nil {
				continue // the first broken place is reported
			}
			rep.Licences += t.licences
			rep.Live += t.live
			rep.Revisions += t.revisions
			rep.Redacted += t.redacted
			rep.Read += t.revisions
			if t.broken != nil {
				rep.Broken = t.broken
				close(stop)
			}
		}
	}()
	err := batches(history, stop, work, tallies)
	close(tallies)
	close(work)
	checking.Wait()
	<-collected
	if rep.Broken != nil {
		return nil // reading stopped because of it
	}
	return err
}

// batches cuts history into batches of whole licences and hands each to a
// checker, its tally's place first in tallies, until history ends or stop
// closes.
func batches(history iter.Seq2[historyRow, error], stop <-chan struct{}, work chan<- batch, tallies chan<- chan tally) error {
	send := func(b []historyRow) bool {
		result := make(chan tally, 1)
		select {
		case tallies <- result:
		case <-stop:
			return false
		}
		select {
		case work <- batch{b, result}:
			return true
		case <-stop:
			result <- tally{} // its place is taken: fill it
			return false
		}
	}
	b := make([]historyRow, 0, batchRows)
	for r, err := range history {
		if err != nil {
			return err
		}
		if len(b) >= batchRows && r.id != b[len(b)-1].id {
			if !send(b) {
				return nil
			}
			b = make([]historyRow, 0, batchRows)
		}
		b = append(b, r)
	}
	if len(b) > 0 {
		send(b)
	}
	return nil
}

// check walks the batch's chains; a licence's erasure entry is counted
// (entries.checkErased) only by the one checker that holds the licence.
func (b batch) check(es *entries) tally {
	var (
		t      tally
		lastID string
		c      chain
	)
	for _, r := range b.rows {
		if r.id != lastID {
			lastID, c = r.id, chain{lastHash: []byte{}}
			t.licences++
			if r.live {
				t.live++
			}
		}
		if reason := c.take(r, es); reason != "" {
			t.broken = &BrokenLink{LicenceID: r.id, Version: r.version, Reason: reason}
			return t
		}
		if r.erased {
			t.redacted++
		}
		t.revisions++
	}
	return t
}
