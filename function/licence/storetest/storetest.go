// Package storetest is the conformance suite every licence.Store passes:
// the same behaviour from every engine, checked by the same tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// At is the time the suite's changes happen at.
var At = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Clerk is the actor of the suite's changes; Officer erases.
var (
	Clerk   = licence.Actor{Principal: "arn:aws:sts::123456789012:assumed-role/licence-clerk/jo", Role: "arn:aws:iam::123456789012:role/licence-clerk"}
	Officer = licence.Actor{Principal: "arn:aws:iam::123456789012:user/privacy-officer"}
)

// Application is a valid application for email.
func Application(email string) licence.Application {
	return licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: email, Telephone: "07700900123", Postcode: "SW1A 1AA"}
}

// Key is an idempotency key bound to the application for email.
func Key(key, email string) licence.IdempotencyKey {
	if key == "" {
		return licence.IdempotencyKey{}
	}
	return licence.IdempotencyKey{Key: key, RequestHash: Application(email).Hash()}
}

// Create creates a licence for email, failing the test if it cannot.
func Create(t testing.TB, s licence.Store, email, key string) licence.Licence {
	t.Helper()
	l, _, err := s.Create(context.Background(), licence.New("", Application(email), At, Clerk), Key(key, email))
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return l
}

// AddPoints adds points to the licence with id, failing the test if it
// cannot.
func AddPoints(t testing.TB, s licence.Store, id string, points int, reason string) licence.Licence {
	t.Helper()
	l, err := s.Update(context.Background(), id, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: points, Reason: reason}, At, Clerk)
	})
	if err != nil {
		t.Fatalf("add points to %s: %v", id, err)
	}
	return l
}

// Walk reads the whole history of the licence with id, page by page of
// limit, and fails the test if a page breaks the paging contract.
func Walk(t testing.TB, s licence.Store, id string, limit int) []licence.Revision {
	t.Helper()
	var all []licence.Revision
	for from := 0; ; {
		page, err := history(s, id, from, limit)
		if err != nil {
			t.Fatalf("history of %s from %d: %v", id, from, err)
		}
		if len(page.Revisions) > limit || (page.More && len(page.Revisions) == 0) {
			t.Fatalf("history of %s from %d: %d revisions, more %v, limit %d", id, from, len(page.Revisions), page.More, limit)
		}
		all = append(all, page.Revisions...)
		if !page.More {
			return all
		}
		from = page.Revisions[len(page.Revisions)-1].Version + 1
	}
}

// attempts bounds how often the suite asks again after an answer of
// "unavailable", as a client does after a 503.
const attempts = 50

// history reads a page, asking again while the store answers unavailable:
// reading is safe to repeat.
func history(s licence.Store, id string, from, limit int) (licence.HistoryPage, error) {
	for attempt := 0; ; attempt++ {
		page, err := s.History(context.Background(), id, from, limit)
		if err == nil || !unavailable(err) || attempt == attempts {
			return page, err
		}
	}
}

// addPointsAt changes the points of the licence with id, whose next
// revision is version, as a careful client does under outages: an answer
// of "unavailable" may come after the change committed (a connection lost
// during the commit), so before sending it again the client reads whether
// that revision exists.
func addPointsAt(t testing.TB, s licence.Store, id string, version, points int, reason string, at time.Time, by licence.Actor) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		_, err := s.Update(context.Background(), id, func(l *licence.Licence) {
			l.ChangePoints(licence.PointsChange{Points: points, Reason: reason}, at, by)
		})
		if err == nil {
			return
		}
		if !unavailable(err) || attempt == attempts {
			t.Fatalf("add points to %s: %v", id, err)
		}
		page, herr := history(s, id, version, 1)
		if herr == nil && len(page.Revisions) == 1 {
			return // it committed before the answer was lost
		}
	}
}

// Subject is a store under test, as the suite needs it.
type Subject struct {
	Store  licence.Store
	Eraser licence.Eraser
	// StoredBytes is the size of the licence with id as the ledger keeps it.
	StoredBytes func(t testing.TB, id string) int
	// Settle lets a ledger that erases asynchronously finish what it was
	// asked; nil for one that erases at once.
	Settle func()
}

// Run runs the suite; open returns a fresh, migrated subject for each test.
func Run(t *testing.T, open func(t *testing.T) Subject) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Subject)
	}{
		{"Lifecycle", Lifecycle},
		{"Errors", Errors},
		{"RetriedCreate", RetriedCreate},
		{"KeyReusedConcurrently", KeyReusedConcurrently},
		{"IdempotentCreatesRace", IdempotentCreatesRace},
		{"CreateRacesDelete", CreateRacesDelete},
		{"ConcurrentPoints", func(t *testing.T, s Subject) { ConcurrentPoints(t, s.Store) }},
		{"LongHistory", LongHistory},
		{"Erasure", Erasure},
		{"RacingErasures", RacingErasures},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// Lifecycle creates, reads, changes and deletes a licence, and finds every
// revision in its history with the event that made it and who made it.
func Lifecycle(t *testing.T, sub Subject) {
	s, ctx := sub.Store, context.Background()
	l := Create(t, s, "jo@example.com", "")
	if !licence.ValidID(l.ID) || l.Email != "jo@example.com" || l.LastEvent == nil || l.LastEvent.Actor != Clerk {
		t.Fatalf("created %+v", l)
	}
	got, err := s.Get(ctx, l.ID)
	if err != nil || got.Email != l.Email || got.LastEvent == nil || got.LastEvent.Kind != licence.Created || !got.LastEvent.At.Equal(At) || got.LastEvent.Actor != Clerk {
		t.Fatalf("get = %+v, %v", got, err)
	}
	updated := AddPoints(t, s, l.ID, 3, "speeding")
	if updated.PenaltyPoints != 3 || updated.LastEvent.Kind != licence.PenaltyPointsAdded {
		t.Fatalf("update = %+v", updated)
	}
	if got, _ := s.Get(ctx, l.ID); got.PenaltyPoints != 3 || got.LastEvent.Reason != "speeding" {
		t.Errorf("after update get = %+v", got)
	}
	officer := licence.Actor{Principal: "arn:aws:iam::123456789012:user/officer"}
	if _, err := s.Update(ctx, l.ID, func(l *licence.Licence) {
		tel := "07700900999"
		l.ChangeContact(licence.ContactChange{Telephone: &tel}, At.Add(time.Minute), officer)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, l.ID, licence.Deletion(At.Add(time.Hour), Clerk)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, l.ID); !errors.Is(err, licence.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	revs := Walk(t, s, l.ID, licence.MaxHistoryLimit)
	want := []struct {
		kind  string
		actor licence.Actor
	}{{licence.Created, Clerk}, {licence.PenaltyPointsAdded, Clerk}, {licence.ContactUpdated, officer}, {licence.Deleted, Clerk}}
	if len(revs) != len(want) {
		t.Fatalf("history has %d revisions, want %d: %+v", len(revs), len(want), revs)
	}
	for i, r := range revs {
		if r.Version != i || r.TransactionID == "" || r.TransactionAt.IsZero() || r.Hash == "" {
			t.Errorf("revision %d = %+v, want version %d with its transaction and hash", i, r, i)
		}
		if r.Event == nil || r.Event.Kind != want[i].kind || r.Actor == nil || *r.Actor != want[i].actor || r.Event.Actor != want[i].actor {
			t.Errorf("revision %d: event %+v actor %+v, want %s by %v", i, r.Event, r.Actor, want[i].kind, want[i].actor)
		}
		if (r.Licence == nil) != (i == 3) {
			t.Errorf("revision %d: licence %+v", i, r.Licence)
		}
		if r.Licence != nil && (r.Licence.ID != l.ID || r.Licence.LastEvent != nil) {
			t.Errorf("revision %d: licence %+v, want the id and no last event (that is the revision's event)", i, r.Licence)
		}
	}
	if revs[1].Licence.PenaltyPoints != 3 || revs[1].Event.Points != 3 || revs[1].Event.Reason != "speeding" {
		t.Errorf("revision 1 = %+v %+v", revs[1].Licence, revs[1].Event)
	}
}

// Errors checks every error a store reports.
func Errors(t *testing.T, sub Subject) {
	s, ctx := sub.Store, context.Background()
	Create(t, s, "taken@example.com", "k1")
	if _, _, err := s.Create(ctx, licence.New("", Application("taken@example.com"), At, Clerk), licence.IdempotencyKey{}); !errors.Is(err, licence.ErrEmailTaken) {
		t.Errorf("duplicate email: %v, want ErrEmailTaken", err)
	}
	other := Application("taken@example.com")
	other.FirstName = "Someone"
	if _, _, err := s.Create(ctx, licence.New("", other, At, Clerk), licence.IdempotencyKey{Key: "k1", RequestHash: other.Hash()}); !errors.Is(err, licence.ErrKeyReused) {
		t.Errorf("key reused for another application: %v, want ErrKeyReused", err)
	}
	// The key with a different email: not a new licence, a refusal.
	if _, _, err := s.Create(ctx, licence.New("", Application("else@example.com"), At, Clerk), Key("k1", "else@example.com")); !errors.Is(err, licence.ErrKeyReused) {
		t.Errorf("key reused with another email: %v, want ErrKeyReused", err)
	}
	const missing = "AAAAAAAAAAAAAAAAAAAAAA"
	for name, err := range map[string]error{
		"get":                   func() error { _, err := s.Get(ctx, missing); return err }(),
		"update":                func() error { _, err := s.Update(ctx, missing, func(*licence.Licence) {}); return err }(),
		"delete":                s.Delete(ctx, missing, licence.Deletion(At, Clerk)),
		"history":               func() error { _, err := s.History(ctx, missing, 0, 10); return err }(),
		"history from a cursor": func() error { _, err := s.History(ctx, missing, 5, 10); return err }(),
		"erase": func() error {
			_, err := sub.Eraser.Erase(ctx, missing, licence.Erasure{At: At, Actor: Officer})
			return err
		}(),
	} {
		if !errors.Is(err, licence.ErrNotFound) {
			t.Errorf("%s of a missing licence: %v, want ErrNotFound", name, err)
		}
	}
}

// RetriedCreate: a create retried with the same key returns the first
// licence and leaves one.
func RetriedCreate(t *testing.T, sub Subject) {
	s := sub.Store
	first := Create(t, s, "retry@example.com", "key-1")
	again, replayed, err := s.Create(context.Background(), licence.New("", Application("retry@example.com"), At.Add(time.Second), Clerk), Key("key-1", "retry@example.com"))
	if err != nil || !replayed || again.ID != first.ID || !again.LastEvent.At.Equal(At) {
		t.Fatalf("retry = %+v replayed %v err %v, want the first licence replayed", again, replayed, err)
	}
	if revs := Walk(t, s, first.ID, 10); len(revs) != 1 {
		t.Errorf("%d revisions after a retried create, want 1", len(revs))
	}
}

// KeyReusedConcurrently: 32 creates at once share one key, each with
// another email; exactly one licence is made, the rest are refused.
func KeyReusedConcurrently(t *testing.T, sub Subject) {
	s := sub.Store
	const n = 32
	var wg sync.WaitGroup
	results := make(chan error, n)
	ids := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("racer%d@example.com", i)
			for attempt := 0; ; attempt++ {
				l, replayed, err := s.Create(context.Background(), licence.New("", Application(email), At, Clerk), Key("shared", email))
				var u *licence.UnavailableError
				if errors.As(err, &u) && attempt < 50 {
					continue
				}
				if err == nil && !replayed {
					ids <- l.ID
				}
				results <- err
				return
			}
		}()
	}
	wg.Wait()
	close(results)
	close(ids)
	created, refused := 0, 0
	for err := range results {
		switch {
		case err == nil:
			created++
		case errors.Is(err, licence.ErrKeyReused):
			refused++
		default:
			t.Errorf("create with a shared key: %v", err)
		}
	}
	if created != 1 || refused != n-1 || len(ids) != 1 {
		t.Errorf("%d created, %d refused, %d new licences; want 1, %d, 1", created, refused, len(ids), n-1)
	}
}

// IdempotentCreatesRace: 32 creates racing with one key and one body make
// one licence, and every one answers it (the rest as replays); 32 racing
// with one key and one email but different bodies make one, and the rest
// are refused as a reused key, never as a taken email.
func IdempotentCreatesRace(t *testing.T, sub Subject) {
	const n = 32
	race := func(email string, app func(i int) licence.Application, request func(i int) string) (ids map[string]int, replays int, errs []error) {
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		ids = map[string]int{}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for attempt := 0; ; attempt++ {
					l, replayed, err := sub.Store.Create(context.Background(), licence.New("", app(i), At, Clerk), Key("same-"+email, request(i)))
					if unavailable(err) && attempt < 50 {
						continue
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
						return
					}
					ids[l.ID]++
					if replayed {
						replays++
					}
					return
				}
			}()
		}
		wg.Wait()
		return ids, replays, errs
	}
	ids, replays, errs := race("same@example.com", func(int) licence.Application { return Application("same@example.com") },
		func(int) string { return "same@example.com" })
	if len(errs) != 0 || len(ids) != 1 || replays != n-1 {
		t.Errorf("one key, one body: licences %v, %d replays, errors %v; want one licence, %d replays, no errors", ids, replays, errs, n-1)
	}
	ids, _, errs = race("bodies@example.com", func(i int) licence.Application {
		a := Application("bodies@example.com")
		a.FirstName = fmt.Sprintf("Racer%c", 'A'+i)
		return a
	}, func(i int) string { return fmt.Sprintf("bodies@example.com, Racer%c", 'A'+i) })
	reused := 0
	for _, err := range errs {
		if errors.Is(err, licence.ErrKeyReused) {
			reused++
		} else {
			t.Errorf("one key, other bodies: %v, want ErrKeyReused", err)
		}
	}
	if len(ids) != 1 || reused != n-1 {
		t.Errorf("one key, other bodies: licences %v, %d refused as a reused key; want one licence, %d", ids, reused, n-1)
	}
}

// CreateRacesDelete: creates of an email race deletes of the licence that
// holds it; each create either makes a licence or finds the email taken,
// and never fails otherwise.
func CreateRacesDelete(t *testing.T, sub Subject) {
	s, ctx := sub.Store, context.Background()
	const rounds = 30
	for round := range rounds {
		email := fmt.Sprintf("race%d@example.com", round)
		l := Create(t, s, email, "")
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		wg.Add(5)
		go func() {
			defer wg.Done()
			if err := s.Delete(ctx, l.ID, licence.Deletion(At, Clerk)); err != nil && !unavailable(err) {
				errs <- fmt.Errorf("delete: %w", err)
			}
		}()
		for range 4 {
			go func() {
				defer wg.Done()
				_, _, err := s.Create(ctx, licence.New("", Application(email), At, Clerk), licence.IdempotencyKey{})
				if err != nil && !errors.Is(err, licence.ErrEmailTaken) && !unavailable(err) {
					errs <- fmt.Errorf("create: %w", err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

func unavailable(err error) bool {
	var u *licence.UnavailableError
	return errors.As(err, &u)
}

// ConcurrentPoints: 50 concurrent point additions to one licence leave the
// total equal to their sum, each kept as a revision. A change answered
// "unavailable" is retried, as a client does with 503.
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
					l.ChangePoints(licence.PointsChange{Points: 1 + i%3, Reason: fmt.Sprint("offence ", i)}, At, Clerk)
				})
				if unavailable(err) && attempt < 100 {
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
	revs := Walk(t, s, l.ID, licence.MaxHistoryLimit)
	if got.PenaltyPoints != want || len(revs) != n+1 {
		t.Errorf("points %d, %d revisions; want %d, %d", got.PenaltyPoints, len(revs), want, n+1)
	}
}

// LongHistory: a thousand changes to one licence leave its stored form
// the size of one change, and its history, walked page by page, returns
// every revision exactly once, in order. The largest licences the limits
// allow are stored under the bound.
func LongHistory(t *testing.T, sub Subject) {
	s := sub.Store
	l := Create(t, s, "long@example.com", "")
	first := sub.StoredBytes(t, l.ID)
	const changes = 1000
	for i := range changes {
		points := 1
		if i%2 == 1 {
			points = -1
		}
		addPointsAt(t, s, l.ID, i+1, points, fmt.Sprintf("change %d", i), At, Clerk)
	}
	last := sub.StoredBytes(t, l.ID)
	t.Logf("stored licence: %d bytes after creation, %d after %d changes (bound %d)", first, last, changes, licence.MaxDocumentBytes)
	if last > first+64 || last > licence.MaxDocumentBytes {
		t.Errorf("stored licence grew from %d to %d bytes over %d changes", first, last, changes)
	}
	for _, limit := range []int{1, 7, licence.DefaultHistoryLimit, licence.MaxHistoryLimit} {
		revs := Walk(t, s, l.ID, limit)
		if len(revs) != changes+1 {
			t.Fatalf("walking pages of %d returned %d revisions, want %d", limit, len(revs), changes+1)
		}
		for i, r := range revs {
			if r.Version != i {
				t.Fatalf("walking pages of %d: revision %d has version %d", limit, i, r.Version)
			}
		}
	}
	page, err := history(s, l.ID, changes-1, licence.MaxHistoryLimit)
	if err != nil || len(page.Revisions) != 2 || page.More {
		t.Errorf("the last page: %d revisions, more %v, %v; want 2 and no more", len(page.Revisions), page.More, err)
	}
	page, err = history(s, l.ID, changes+1, licence.MaxHistoryLimit)
	if err != nil || len(page.Revisions) != 0 || page.More {
		t.Errorf("past the end: %d revisions, more %v, %v; want none", len(page.Revisions), page.More, err)
	}
	for i, big := range Largest() {
		// Made as the domain makes it: created, then its points changed
		// with the longest reason, so its history replays. With its
		// idempotency key the create is safe to send again.
		made := big
		made.PenaltyPoints, made.LastEvent = 0, &licence.Event{Kind: licence.Created, At: big.LastEvent.At, Actor: big.LastEvent.Actor}
		var stored licence.Licence
		var err error
		for attempt := 0; attempt == 0 || unavailable(err) && attempt <= attempts; attempt++ {
			stored, _, err = s.Create(context.Background(), made, licence.IdempotencyKey{Key: strings.Repeat("k", 255), RequestHash: strings.Repeat("h", 64)})
		}
		if err != nil {
			t.Fatalf("largest licence %d: %v", i, err)
		}
		change := *big.LastEvent
		addPointsAt(t, s, stored.ID, 1, big.PenaltyPoints, change.Reason, change.At, change.Actor)
		size := sub.StoredBytes(t, stored.ID)
		t.Logf("largest licence %d: %d bytes stored (bound %d)", i, size, licence.MaxDocumentBytes)
		if size > licence.MaxDocumentBytes {
			t.Errorf("largest licence %d is stored in %d bytes, over the bound of %d", i, size, licence.MaxDocumentBytes)
		}
		// A delete answered unavailable may have committed: asked again,
		// the licence is then gone.
		err = s.Delete(context.Background(), stored.ID, licence.Deletion(At, Clerk))
		for attempt := 0; unavailable(err) && attempt < attempts; attempt++ {
			if err = s.Delete(context.Background(), stored.ID, licence.Deletion(At, Clerk)); errors.Is(err, licence.ErrNotFound) {
				err = nil
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Personal is what erasure must remove from every revision (long enough
// that no hash or id holds one by chance).
var Personal = []string{"Bloggs", "erase@example.com", "07700900123", "07700900777", "SW1A 1AA", "EC1A 1BB", "confidential reason"}

// Erasure: create, change, delete and erase a licence; no revision then
// holds personal data, each says it was erased, when and by whom, and keeps
// its version, hash, time and transaction. Erasing a live licence is
// refused; erasing twice is fine and keeps the first erasure.
func Erasure(t *testing.T, sub Subject) {
	s, e, ctx := sub.Store, sub.Eraser, context.Background()
	l := Create(t, s, "erase@example.com", "erase-key")
	AddPoints(t, s, l.ID, 3, "confidential reason")
	if _, err := s.Update(ctx, l.ID, func(l *licence.Licence) {
		tel, pc := "07700900777", "EC1A 1BB"
		l.ChangeContact(licence.ContactChange{Telephone: &tel, Postcode: &pc}, At, Clerk)
	}); err != nil {
		t.Fatal(err)
	}
	erasure := licence.Erasure{At: At.Add(48 * time.Hour), Actor: Officer}
	if _, err := e.Erase(ctx, l.ID, erasure); !errors.Is(err, licence.ErrStillLive) {
		t.Fatalf("erasing a live licence: %v, want ErrStillLive", err)
	}
	before := Walk(t, s, l.ID, 2)
	if err := s.Delete(ctx, l.ID, licence.Deletion(At.Add(time.Hour), Clerk)); err != nil {
		t.Fatal(err)
	}
	other := Create(t, s, "keep@example.com", "")

	res := eraseUntilDone(t, sub, l.ID, erasure)
	if res.Revisions != len(before) || !res.Erasure.At.Equal(erasure.At) || res.Erasure.Actor != Officer {
		t.Errorf("erasure = %+v, want %d revisions erased at %v by %v", res, len(before), erasure.At, Officer)
	}
	again := eraseUntilDone(t, sub, l.ID, licence.Erasure{At: erasure.At.Add(time.Hour), Actor: Clerk})
	if !again.Erasure.At.Equal(erasure.At) || again.Erasure.Actor != Officer || again.Revisions != len(before) {
		t.Errorf("second erasure = %+v, want the first one's record", again)
	}

	after := Walk(t, s, l.ID, 2)
	if len(after) != len(before)+1 {
		t.Fatalf("%d revisions after erasure, want %d", len(after), len(before)+1)
	}
	for i, r := range after[:len(before)] {
		b := before[i]
		if r.Version != b.Version || r.Hash != b.Hash || r.TransactionID != b.TransactionID || !r.TransactionAt.Equal(b.TransactionAt) {
			t.Errorf("revision %d changed its proof: %+v, was %+v", i, r, b)
		}
		if r.Licence != nil || r.Event != nil || r.Actor != nil || r.Erased == nil || r.Erased.Actor != Officer || !r.Erased.At.Equal(erasure.At) {
			t.Errorf("revision %d after erasure: %+v, want no data and erased at %v by %v", i, r, erasure.At, Officer)
		}
	}
	if d := after[len(before)]; d.Event == nil || d.Event.Kind != licence.Deleted || d.Licence != nil {
		t.Errorf("the deleting revision after erasure: %+v, want its event kept", d)
	}
	for _, r := range after {
		text := fmt.Sprintf("%+v %+v %+v", r.Licence, r.Event, r.Actor)
		for _, p := range Personal {
			if strings.Contains(text, p) {
				t.Errorf("revision %d still holds %q: %s", r.Version, p, text)
			}
		}
	}
	// Another licence is untouched, and the email is free again.
	if got, err := s.Get(ctx, other.ID); err != nil || got.FirstName != "Jo" {
		t.Errorf("another licence after erasure: %+v, %v", got, err)
	}
	if revs := Walk(t, s, other.ID, 10); revs[0].Licence == nil || revs[0].Erased != nil {
		t.Errorf("another licence's history after erasure: %+v", revs[0])
	}
	Create(t, s, "erase@example.com", "")
}

// eraseUntilDone erases, lets the ledger settle, and erases again until
// nothing is pending.
// RacingErasures: several erasures of one deleted licence at once each
// answer as an erasure does (done or pending, never an error), all record
// the first erasure, and the licence ends erased.
func RacingErasures(t *testing.T, sub Subject) {
	s, ctx := sub.Store, context.Background()
	l := Create(t, s, "race-erase@example.com", "")
	for i := range 3 {
		AddPoints(t, s, l.ID, 1, fmt.Sprintf("reason %d", i))
	}
	if err := s.Delete(ctx, l.ID, licence.Deletion(At.Add(time.Hour), Clerk)); err != nil {
		t.Fatal(err)
	}
	const racers = 4
	results := make([]licence.ErasureResult, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = sub.Eraser.Erase(ctx, l.ID, licence.Erasure{At: At.Add(time.Duration(48+i) * time.Hour), Actor: Officer})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !unavailable(err) {
			t.Errorf("racing erasure %d: %v, want it answered as an erasure", i, err)
		}
	}
	first := eraseUntilDone(t, sub, l.ID, licence.Erasure{At: At.Add(72 * time.Hour), Actor: Clerk})
	for i, r := range results {
		if errs[i] == nil && !r.Erasure.At.Equal(first.Erasure.At) {
			t.Errorf("racing erasure %d recorded %v, the ledger %v: want one erasure", i, r.Erasure.At, first.Erasure.At)
		}
	}
	for _, rev := range Walk(t, s, l.ID, 2) {
		if rev.Licence != nil {
			t.Errorf("revision %d still holds %+v after the erasures", rev.Version, rev.Licence)
		}
	}
}

func eraseUntilDone(t *testing.T, sub Subject, id string, e licence.Erasure) licence.ErasureResult {
	t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := sub.Eraser.Erase(context.Background(), id, e)
		if err != nil {
			if unavailable(err) && attempt < 20 {
				continue
			}
			t.Fatalf("erase %s: %v", id, err)
		}
		if res.Pending == 0 {
			return res
		}
		if attempt > 20 || sub.Settle == nil {
			t.Fatalf("erasure of %s still pending after %d attempts: %+v", id, attempt, res)
		}
		sub.Settle()
	}
}
