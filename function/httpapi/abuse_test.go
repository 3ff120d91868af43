package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// call sends one request straight to the handler, as the local server
// would, for tests that send many.
func call(h http.Handler, method, path, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func application(email string) string {
	return strings.Replace(jo, "jo@example.com", email, 1)
}

// localHandler is the handler as the local server runs it, on l.
func localHandler(l ledger) http.Handler { return handlerFor(modes[0], l) }

// 32 requests at once share one Idempotency-Key, each with another email:
// exactly one licence is made and the rest are 422, on both engines.
func TestAReusedKeyMakesOneLicenceUnderConcurrency(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := localHandler(b.open(t))
			const n = 32
			codes := make(chan int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						w := call(h, "POST", "/licences", "shared-key", application(fmt.Sprintf("racer%d@example.com", i)))
						if w.Code != http.StatusServiceUnavailable {
							codes <- w.Code
							return
						}
					}
				}()
			}
			wg.Wait()
			close(codes)
			count := map[int]int{}
			for c := range codes {
				count[c]++
			}
			if count[201] != 1 || count[422] != n-1 {
				t.Errorf("answers %v, want one 201 and %d 422", count, n-1)
			}
			// Only one email holds a licence: creating them all again
			// without the key finds exactly one taken.
			taken := 0
			for i := range n {
				switch w := call(h, "POST", "/licences", "", application(fmt.Sprintf("racer%d@example.com", i))); w.Code {
				case 409:
					taken++
				case 201:
				default:
					t.Fatalf("create racer%d again: %d %s", i, w.Code, w.Body)
				}
			}
			if taken != 1 {
				t.Errorf("%d emails hold a licence, want 1", taken)
			}
		})
	}
}

// Creates of an email race deletes of the licence holding it: every
// answer is 201, 409 or 204, never a 5xx.
func TestACreateRacingADeleteIsNever500(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := localHandler(b.open(t))
			for round := range 25 {
				email := fmt.Sprintf("race%d@example.com", round)
				w := call(h, "POST", "/licences", "", application(email))
				if w.Code != 201 {
					t.Fatalf("create: %d %s", w.Code, w.Body)
				}
				var l struct{ ID string }
				if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				answers := make(chan string, 5)
				wg.Add(5)
				go func() {
					defer wg.Done()
					if w := call(h, "DELETE", "/licences/"+l.ID, "", ""); w.Code != 204 {
						answers <- fmt.Sprintf("delete: %d %s", w.Code, w.Body)
					}
				}()
				for range 4 {
					go func() {
						defer wg.Done()
						if w := call(h, "POST", "/licences", "", application(email)); w.Code != 201 && w.Code != 409 {
							answers <- fmt.Sprintf("create: %d %s", w.Code, w.Body)
						}
					}()
				}
				wg.Wait()
				close(answers)
				for a := range answers {
					t.Errorf("round %d: %s", round, a)
				}
			}
		})
	}
}

// A thousand changes to one licence: its stored form stays the size of
// one change and under the bound, every page of its history is under
// 1 MB, and walking next returns every revision exactly once, in order.
func TestAThousandChangesStayBounded(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			l := b.open(t)
			h := localHandler(l)
			w := call(h, "POST", "/licences", "", application("long@example.com"))
			var created struct{ ID string }
			if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || w.Code != 201 {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			id := created.ID
			first := l.storedBytes(t, id)
			const changes = 1000
			reason := strings.Repeat("a long reason ", 35) // near the limit of 500 characters
			for i := range changes {
				points := 1 - 2*(i%2)
				if w := call(h, "POST", "/licences/"+id+"/penalty-points", "", fmt.Sprintf(`{"points":%d,"reason":%q}`, points, reason)); w.Code != 200 {
					t.Fatalf("change %d: %d %s", i, w.Code, w.Body)
				}
			}
			last := l.storedBytes(t, id)
			t.Logf("stored licence: %d bytes after creation, %d after %d changes (bound %d)", first, last, changes, licence.MaxDocumentBytes)
			if last > licence.MaxDocumentBytes || last > first+len(reason)+64 {
				t.Errorf("the stored licence grew from %d to %d bytes", first, last)
			}
			seen, next, pages, largest := 0, "", 0, 0
			for {
				path := "/licences/" + id + "/history?limit=100"
				if next != "" {
					path += "&next=" + next
				}
				w := call(h, "GET", path, "", "")
				if w.Code != 200 {
					t.Fatalf("history page %d: %d %s", pages, w.Code, w.Body)
				}
				pages++
				largest = max(largest, w.Body.Len())
				if w.Body.Len() >= 1<<20 {
					t.Errorf("history page %d is %d bytes, want under 1 MB", pages, w.Body.Len())
				}
				var page struct {
					Revisions []licence.Revision
					Next      string
				}
				if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Revisions {
					if r.Version != seen {
						t.Fatalf("page %d: version %d where %d was due", pages, r.Version, seen)
					}
					seen++
				}
				if next = page.Next; next == "" {
					break
				}
			}
			t.Logf("%d revisions over %d pages, the largest %d bytes", seen, pages, largest)
			if seen != changes+1 {
				t.Errorf("walking the history returned %d revisions, want %d", seen, changes+1)
			}
		})
	}
}

// While the ledger cannot be reached for as long as Aurora Serverless
// takes to resume from 0 ACU (scaled down here), every request is
// answered at once with 503 and Retry-After, none waits out the timeout;
// once it is back, requests succeed.
func TestAPauseTheLengthOfAResumeIs503(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			l := b.open(t)
			h := localHandler(l)
			w := call(h, "POST", "/licences", "", application("paused@example.com"))
			var created struct{ ID string }
			if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
				t.Fatal(err)
			}
			if err := l.proxy.Cut(); err != nil {
				t.Fatal(err)
			}
			pause := time.Now().Add(1500 * time.Millisecond)
			served := 0
			for time.Now().Before(pause) {
				start := time.Now()
				w := call(h, "GET", "/licences/"+created.ID, "", "")
				if w.Code != 503 || w.Header().Get("Retry-After") == "" {
					t.Fatalf("while paused: %d (Retry-After %q) %s", w.Code, w.Header().Get("Retry-After"), w.Body)
				}
				if took := time.Since(start); took > 900*time.Millisecond {
					t.Errorf("a request waited %s for a ledger that is away", took)
				}
				served++
				time.Sleep(50 * time.Millisecond)
			}
			if err := l.proxy.Restore(); err != nil {
				t.Fatal(err)
			}
			client{t, modes[0], h, l}.eventually("after the pause", req{method: "GET", path: "/licences/" + created.ID}, 200)
			t.Logf("%d requests answered 503 during the pause", served)
		})
	}
}

// A commit still running when the request's deadline passes is waited for
// (licence.CommitWait), so the answer says what happened: the change is
// answered 200 and recorded once, never 503 for a change that took effect,
// which a client would send again.
func TestACommitRunningPastTheDeadlineIsWaitedFor(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			l := b.open(t)
			h := localHandler(l) // a request may take a second
			w := call(h, "POST", "/licences", "", application("slow@example.com"))
			var created struct{ ID string }
			if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
				t.Fatal(err)
			}
			l.faults.slowCommits(t, 1300*time.Millisecond)
			start := time.Now()
			w = call(h, "POST", "/licences/"+created.ID+"/penalty-points", "", `{"points":3,"reason":"a slow commit"}`)
			if w.Code != http.StatusOK {
				t.Fatalf("a commit that outlived the deadline by 0.3 s: %d %s, want 200", w.Code, w.Body)
			}
			t.Logf("answered after %s", time.Since(start).Round(time.Millisecond))
			l.faults.clear(t)
			w = call(h, "GET", "/licences/"+created.ID+"/history", "", "")
			var page struct{ Revisions []licence.Revision }
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				t.Fatal(err)
			}
			changes := 0
			for _, r := range page.Revisions {
				if r.Event != nil && r.Event.Reason == "a slow commit" {
					changes++
				}
			}
			if changes != 1 || page.Revisions[len(page.Revisions)-1].Licence.PenaltyPoints != 3 {
				t.Errorf("history holds the change %d times, points %d; want once, 3", changes, page.Revisions[len(page.Revisions)-1].Licence.PenaltyPoints)
			}
		})
	}
}
