package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/privateledger/licences/client"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/testdouble/localapi"
	"github.com/privateledger/licences/testdouble/localpg"
)

var pg *localpg.Server

func TestMain(m *testing.M) { os.Exit(localpg.Main(m, &pg)) }

var jo = licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: "jo@example.com", Telephone: "07700 900123", Postcode: "sw1a 1aa"}

func ptr[T any](v T) *T { return &v }

// asProblem is err's problem, failing the test unless it is one of status.
func asProblem(t *testing.T, what string, err error, status int) client.Problem {
	t.Helper()
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != status || p.RequestID == "" {
		t.Fatalf("%s: %v, want a problem %d with a request id", what, err, status)
	}
	return *p
}

// Every operation against the local server on each engine: typed answers,
// problems as errors, idempotent creates, and a history followed to its
// end a page at a time.
func TestTheClientSpeaksTheAPIOnEachEngine(t *testing.T) {
	for _, engine := range localapi.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			srv := localapi.Serve(t, localapi.Open(t, engine, pg), "client-test")
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			made, err := c.Create(ctx, jo, "")
			if err != nil || made.Replayed || made.Licence.Telephone != "07700900123" || made.Licence.Postcode != "SW1A 1AA" || made.Key == "" {
				t.Fatalf("create: %+v, %v", made, err)
			}
			again, err := c.Create(ctx, jo, made.Key)
			if err != nil || !again.Replayed || again.Licence.ID != made.Licence.ID {
				t.Fatalf("create again with its key: %+v, %v; want the first licence, replayed", again, err)
			}
			other := jo
			other.FirstName = "Al"
			_, err = c.Create(ctx, other, made.Key)
			asProblem(t, "the key with another body", err, http.StatusUnprocessableEntity)
			_, err = c.Create(ctx, jo, "")
			asProblem(t, "the email again", err, http.StatusConflict)
			bad := jo
			bad.Telephone = "call me"
			_, err = c.Create(ctx, bad, "")
			if p := asProblem(t, "a bad telephone", err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "telephone" {
				t.Errorf("a bad telephone: %+v, want the field named", p)
			}
			id := made.Licence.ID
			if l, err := c.ChangeContact(ctx, id, licence.ContactChange{Postcode: ptr("ec1a 1bb")}); err != nil || l.Postcode != "EC1A 1BB" {
				t.Fatalf("contact: %+v, %v", l, err)
			}
			for i, n := range []int{3, 2, -1, 4} {
				if l, err := c.ChangePoints(ctx, id, licence.PointsChange{Points: n, Reason: fmt.Sprint("change ", i)}); err != nil || l.LastEvent == nil {
					t.Fatalf("points %d: %+v, %v", n, l, err)
				}
			}
			if l, err := c.Get(ctx, id); err != nil || l.PenaltyPoints != 8 || l.LastEvent.Actor.Principal != "client-test" {
				t.Fatalf("get: %+v, %v", l, err)
			}
			var versions []int
			for r, err := range c.History(ctx, id, 2) {
				if err != nil {
					t.Fatal(err)
				}
				versions = append(versions, r.Version)
			}
			if fmt.Sprint(versions) != "[0 1 2 3 4 5]" {
				t.Errorf("history a page of 2 at a time: versions %v, want 0 to 5", versions)
			}
			if _, err := c.Erase(ctx, id); err == nil {
				t.Fatal("a live licence erased")
			} else {
				asProblem(t, "erase a live licence", err, http.StatusConflict)
			}
			if err := c.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			asProblem(t, "get a deleted licence", func() error { _, err := c.Get(ctx, id); return err }(), http.StatusNotFound)
			res, err := c.Erase(ctx, id)
			for err == nil && res.Pending > 0 {
				res, err = c.Erase(ctx, id)
			}
			if err != nil || res.Revisions != 6 || res.Erasure.Actor.Principal != "client-test" {
				t.Fatalf("erase: %+v, %v; want 6 revisions erased by client-test", res, err)
			}
			if _, err := c.Get(ctx, "not an id"); err == nil {
				t.Error("a malformed id was sent")
			}
		})
	}
}

// A 503 is waited out for as long as its Retry-After says, and said; one
// whose wait would pass the deadline is answered at once; a points change
// is never sent twice.
func TestUnavailableAnswersAreWaitedOutWithinTheDeadline(t *testing.T) {
	var (
		mu       sync.Mutex
		requests int
	)
	busyFor := 2
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n <= busyFor {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"requestId":"r%d"}`, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"J1ksizaGe7X1M87b5HKExk","firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700900123","postcode":"SW1A 1AA","penaltyPoints":0}`)
	})
	srv := newServer(t, api)
	var waits []client.Wait
	c, err := client.New(srv.URL, client.OnWait(func(w client.Wait) { waits = append(waits, w) }))
	if err != nil {
		t.Fatal(err)
	}
	const id = "J1ksizaGe7X1M87b5HKExk"
	if l, err := c.Get(context.Background(), id); err != nil || l.ID != id {
		t.Fatalf("after two 503s: %+v, %v", l, err)
	}
	if len(waits) != 2 || waits[0].For.Seconds() != 1 || waits[1].Attempt != 3 || waits[0].Problem.RequestID != "r1" {
		t.Errorf("waits %+v, want two of 1s, before attempts 2 and 3", waits)
	}

	requests, busyFor, waits = 0, 5, nil
	ctx, cancel := context.WithTimeout(context.Background(), 500*millisecond)
	defer cancel()
	_, err = c.Get(ctx, id)
	if p := asProblem(t, "a deadline shorter than Retry-After", err, http.StatusServiceUnavailable); p.RetryAfter.Seconds() != 1 || len(waits) != 0 || requests != 1 {
		t.Errorf("%+v after %d requests and %d waits; want the 503 at once", p, requests, len(waits))
	}

	requests, waits = 0, nil
	_, err = c.ChangePoints(context.Background(), id, licence.PointsChange{Points: 1, Reason: "x"})
	asProblem(t, "a points change", err, http.StatusServiceUnavailable)
	if requests != 1 || len(waits) != 0 {
		t.Errorf("a points change was sent %d times, want once", requests)
	}
}
