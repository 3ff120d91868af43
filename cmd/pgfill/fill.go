package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/latency"
)

// The actor and time of every change pgfill makes.
var (
	filler = licence.Actor{Principal: "pgfill"}
	at     = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

// sampled is how many licences' ids are kept to read and change at random:
// a bounded sample, so a run's memory does not grow with the ledger.
const sampled = 10000

// fill grows the ledger to s.licences through the store and writes a row
// of figures at each size.
func fill(ctx context.Context, l *ledger, s sizes, out io.Writer) error {
	long, err := longHistory(ctx, l.store, s.history)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "| licences | revisions | creates/s (%d clients) | create p50 / p99 | get p50 / p99 | %d points changes p50 / p99 | a history page of %d revisions p50 / p99 | full verification | incremental, after the changes |\n",
		s.clients, s.changes, s.history)
	fmt.Fprintln(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	ids := make([]string, 0, sampled)
	var (
		mu   sync.Mutex // over ids and seen
		seen int        // licences made, counted as their creates return
	)
	made := 0
	for _, size := range steps(s.licences) {
		creates, err := latency.Measure(ctx, s.clients, size-made, func(_, n int) error {
			app := licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: fmt.Sprintf("l%d@example.com", made+n),
				Telephone: "07700900123", Postcode: "SW1A 1AA"}
			c, _, err := l.store.Create(ctx, licence.New("", app, at, filler), licence.IdempotencyKey{})
			if err == nil {
				mu.Lock()
				ids = keep(ids, c.ID, seen)
				seen++
				mu.Unlock()
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("fill to %d licences: %w", size, err)
		}
		made = size
		r, err := measure(ctx, l, s, ids, long)
		if err != nil {
			return fmt.Errorf("at %d licences: %w", size, err)
		}
		fmt.Fprintf(out, "| %d | %d | %.0f | %s | %s | %s | %s | %s | %s |\n", size, r.full.Revisions, creates.Rate(), creates,
			r.gets, r.changes, r.pages, verified(r.fullTook, r.full), verified(r.sinceTook, r.since))
	}
	return nil
}

// steps are the sizes reported: 1,000, 10,000, … below n, and n.
func steps(n int) []int {
	var out []int
	for s := 1000; s < n; s *= 10 {
		out = append(out, s)
	}
	return append(out, n)
}

// keep adds id, the seen-th licence made (counting from 0), to a uniform
// sample of at most sampled ids (reservoir sampling).
func keep(ids []string, id string, seen int) []string {
	if len(ids) < sampled {
		return append(ids, id)
	}
	if j := rand.IntN(seen + 1); j < sampled { //nolint:gosec // G404: a sample, not a secret
		ids[j] = id
	}
	return ids
}

// longHistory makes the licence whose history pages are timed, with n
// revisions.
func longHistory(ctx context.Context, s *pgstore.Store, n int) (string, error) {
	app := licence.Application{FirstName: "Long", LastName: "History", Email: "long.history@example.com",
		Telephone: "07700900123", Postcode: "SW1A 1AA"}
	l, _, err := s.Create(ctx, licence.New("", app, at, filler), licence.IdempotencyKey{})
	if err != nil {
		return "", fmt.Errorf("make the long-lived licence: %w", err)
	}
	for i := 1; i < n; i++ {
		if _, err := s.Update(ctx, l.ID, change(i)); err != nil {
			return "", fmt.Errorf("give the long-lived licence revision %d: %w", i, err)
		}
	}
	return l.ID, nil
}

// change adds a point, or takes one away: a licence's points stay small
// however many changes it has.
func change(n int) func(*licence.Licence) {
	points := 1
	if n%2 == 0 {
		points = -1
	}
	return func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: points, Reason: fmt.Sprintf("change %d", n)}, at, filler)
	}
}

// figures are what measure found at one size.
type figures struct {
	gets, changes, pages latency.Sample
	full, since          pgstore.Report
	fullTook, sinceTook  time.Duration
}

// gets and pages are how many reads measure times at each size.
const (
	gets  = 2000
	pages = 200
)

// measure reads, verifies in full, changes points, verifies what changed,
// and reads a history page, timing each.
func measure(ctx context.Context, l *ledger, s sizes, ids []string, long string) (figures, error) {
	var f figures
	var err error
	if f.gets, err = latency.Measure(ctx, s.clients, gets, func(int, int) error {
		_, err := l.store.Get(ctx, ids[rand.IntN(len(ids))]) //nolint:gosec // G404: a sample, not a secret
		return err
	}); err != nil {
		return f, fmt.Errorf("get: %w", err)
	}
	start := time.Now()
	if f.full, err = pgstore.Verify(ctx, l.digest, nil); err != nil {
		return f, fmt.Errorf("verify: %w", err)
	}
	f.fullTook = time.Since(start)
	if f.full.Broken != nil {
		return f, fmt.Errorf("the ledger does not verify: %w", f.full.Broken)
	}
	if f.changes, err = latency.Measure(ctx, s.clients, s.changes, func(_, n int) error {
		_, err := l.store.Update(ctx, ids[rand.IntN(len(ids))], change(n)) //nolint:gosec // G404: a sample, not a secret
		return err
	}); err != nil {
		return f, fmt.Errorf("change points: %w", err)
	}
	start = time.Now()
	if f.since, err = pgstore.VerifySince(ctx, l.digest, f.full.Digest); err != nil {
		return f, fmt.Errorf("verify since the digest: %w", err)
	}
	f.sinceTook = time.Since(start)
	if f.pages, err = latency.Measure(ctx, 1, pages, func(int, int) error {
		_, err := l.store.History(ctx, long, 0, licence.DefaultHistoryLimit)
		return err
	}); err != nil {
		return f, fmt.Errorf("read a history page: %w", err)
	}
	if f.since.Broken != nil {
		return f, fmt.Errorf("the ledger does not verify since its digest: %w", f.since.Broken)
	}
	return f, nil
}

// verified is a verification's time and the rows it read.
func verified(took time.Duration, rep pgstore.Report) string {
	return fmt.Sprintf("%.2f s, %d rows", took.Seconds(), rep.Read)
}
