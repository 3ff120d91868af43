// Package storetest is the conformance suite every licence.Store passes:
// the same behaviour from every engine, checked by the same tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// At is the time the suite's changes happen at.
var At = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Application is a valid application for email.
func Application(email string) licence.Application {
	return licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: email, Telephone: "07700900123", Postcode: "SW1A 1AA"}
}

// Create creates a licence for email, failing the test if it cannot.
func Create(t testing.TB, s licence.Store, email, key string) licence.Licence {
	t.Helper()
	l, _, err := s.Create(context.Background(), licence.New("", Application(email), At), key)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return l
}

// Run runs the suite; open returns a fresh, migrated store for each test.
func Run(t *testing.T, open func(t *testing.T) licence.Store) {
	t.Run("Lifecycle", func(t *testing.T) { Lifecycle(t, open(t)) })
	t.Run("Errors", func(t *testing.T) { Errors(t, open(t)) })
	t.Run("RetriedCreate", func(t *testing.T) { RetriedCreate(t, open(t)) })
	t.Run("ConcurrentPoints", func(t *testing.T) { ConcurrentPoints(t, open(t)) })
}

// Lifecycle creates, reads, changes and deletes a licence, and finds every
// revision in its history.
func Lifecycle(t *testing.T, s licence.Store) {
	ctx := context.Background()
	l := Create(t, s, "jo@example.com", "")
	if !licence.ValidID(l.ID) || l.Email != "jo@example.com" {
		t.Fatalf("created %+v", l)
	}
	got, err := s.Get(ctx, l.ID)
	if err != nil || got.Email != l.Email || len(got.Events) != 1 || !got.Events[0].At.Equal(At) {
		t.Fatalf("get = %+v, %v", got, err)
	}
	updated, err := s.Update(ctx, l.ID, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: 3, Reason: "speeding"}, At)
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
	if len(revs) != 3 || revs[0].Licence == nil || revs[1].Licence == nil || revs[1].Licence.PenaltyPoints != 3 || revs[2].Licence != nil {
		t.Fatalf("history = %+v, want created, updated, deleted", revs)
	}
	for i, r := range revs {
		if r.Version != i || r.TransactionID == "" || r.TransactionAt.IsZero() {
			t.Errorf("revision %d = %+v, want version %d with its transaction", i, r, i)
		}
	}
}

// Errors checks every error a store reports.
func Errors(t *testing.T, s licence.Store) {
	ctx := context.Background()
	Create(t, s, "taken@example.com", "k1")
	if _, _, err := s.Create(ctx, licence.New("", Application("taken@example.com"), At), ""); !errors.Is(err, licence.ErrEmailTaken) {
		t.Errorf("duplicate email: %v, want ErrEmailTaken", err)
	}
	other := Application("taken@example.com")
	other.FirstName = "Someone"
	if _, _, err := s.Create(ctx, licence.New("", other, At), "k1"); !errors.Is(err, licence.ErrKeyReused) {
		t.Errorf("key reused for another application: %v, want ErrKeyReused", err)
	}
	const missing = "AAAAAAAAAAAAAAAAAAAAAA"
	for name, err := range map[string]error{
		"get":     func() error { _, err := s.Get(ctx, missing); return err }(),
		"update":  func() error { _, err := s.Update(ctx, missing, func(*licence.Licence) {}); return err }(),
		"delete":  s.Delete(ctx, missing),
		"history": func() error { _, err := s.History(ctx, missing); return err }(),
	} {
		if !errors.Is(err, licence.ErrNotFound) {
			t.Errorf("%s of a missing licence: %v, want ErrNotFound", name, err)
		}
	}
}

// RetriedCreate: a create retried with the same key returns the first
// licence and leaves one.
func RetriedCreate(t *testing.T, s licence.Store) {
	first := Create(t, s, "retry@example.com", "key-1")
	again, replayed, err := s.Create(context.Background(), licence.New("", Application("retry@example.com"), At), "key-1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry = %+v replayed %v err %v, want the first licence replayed", again, replayed, err)
	}
	if revs, err := s.History(context.Background(), first.ID); err != nil || len(revs) != 1 {
		t.Errorf("%d revisions after a retried create (%v), want 1", len(revs), err)
	}
}

// ConcurrentPoints: 50 concurrent point additions to one licence leave the
// total equal to their sum, each kept as an event and a revision. A change
// answered "unavailable" is retried, as a client does with 503.
func ConcurrentPoints(t *testing.T, s licence.Store) {
	l := Create(t, s, "busy@example.com", "")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 0; ; attempt++ {
				_, err := s.Update(context.Background(), l.ID, func(l *licence.Licence) {
					l.ChangePoints(licence.PointsChange{Points: 1 + i%3, Reason: fmt.Sprint("offence ", i)}, At)
				})
				var u *licence.UnavailableError
				if errors.As(err, &u) && attempt < 100 {
					continue
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
	revs, _ := s.History(context.Background(), l.ID)
	if got.PenaltyPoints != want || len(got.Events) != n+1 || len(revs) != n+1 {
		t.Errorf("points %d, %d events, %d revisions; want %d, %d, %d", got.PenaltyPoints, len(got.Events), len(revs), want, n+1, n+1)
	}
}
