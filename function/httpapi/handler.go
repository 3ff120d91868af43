// Package httpapi serves the licence API over net/http: routing, the
// caller's identity, decoding, validation and errors as
// application/problem+json. The same handler runs behind API Gateway,
// through the Lambda adapter, and as a plain HTTP server locally. It
// speaks to the ledger only through licence.Store and licence.Eraser.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/route"
)

// Options configures the handler.
type Options struct {
	// CORSAllowOrigin is sent as Access-Control-Allow-Origin; empty means none.
	CORSAllowOrigin string
	// Actor says who sent a request; nil means GatewayActor, the
	// principal API Gateway authenticated.
	Actor ActorFunc
	// RequestTimeout bounds each request's work; 0 means
	// DefaultRequestTimeout. A deadline the request already has (Lambda's)
	// is kept, less a margin to answer in.
	RequestTimeout time.Duration
	// Now is the clock for event times; nil means time.Now.
	Now func() time.Time
	// Logger receives server errors; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultRequestTimeout bounds a request's work outside Lambda.
const DefaultRequestTimeout = 10 * time.Second

// answerMargin is kept from a deadline the request arrives with: time for
// the store to wait for a commit it has sent (licence.CommitWait) and to
// answer before Lambda ends the invocation.
const answerMargin = licence.CommitWait + 500*time.Millisecond

type api struct {
	store   licence.Store
	eraser  licence.Eraser
	now     func() time.Time
	log     *slog.Logger
	actor   ActorFunc
	timeout time.Duration
}

// New returns the API's handler. It serves the routes of each capability
// it is given a backend for: store for route.Licences, eraser for
// route.Erasure; nil leaves that capability's routes unserved (404), as in
// a function that holds only the other.
func New(store licence.Store, eraser licence.Eraser, opts Options) http.Handler {
	a := &api{store: store, eraser: eraser, now: opts.Now, log: opts.Logger, actor: opts.Actor, timeout: opts.RequestTimeout}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.actor == nil {
		a.actor = GatewayActor
	}
	if a.timeout <= 0 {
		a.timeout = DefaultRequestTimeout
	}
	served := map[route.Capability]bool{route.Licences: store != nil, route.Erasure: eraser != nil}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, r := range route.Routes() {
		if !served[r.Capability] {
			continue
		}
		h, ok := a.handler(r.Operation)
		if !ok {
			h = notImplemented
		}
		mux.Handle(r.Pattern(), h)
		allowed[r.Path] = append(allowed[r.Path], r.Method)
	}
	for path, methods := range allowed {
		sort.Strings(methods)
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+allow, nil)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such route", nil)
	})
	h := a.withActor(a.withDeadline(mux))
	if opts.CORSAllowOrigin != "" {
		h = withCORS(opts.CORSAllowOrigin, h)
	}
	return withRequestID(h)
}

// handler is the code of an operation, and false for an operation this
// handler does not know (a route added to function/route without its code
// here): New serves that route 501, never a panic, and
// TestEveryRouteHasItsCode keeps it from shipping.
func (a *api) handler(op route.Operation) (http.HandlerFunc, bool) {
	switch op {
	case route.Create:
		return a.create, true
	case route.Get:
		return a.get, true
	case route.Delete:
		return a.delete, true
	case route.ChangeContact:
		return a.changeContact, true
	case route.ChangePoints:
		return a.changePoints, true
	case route.History:
		return a.history, true
	case route.Erase:
		return a.erase, true
	}
	return nil, false
}

func notImplemented(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotImplemented, "this route has no code in this handler", nil)
}

func withCORS(origin string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if origin != "*" {
			w.Header().Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// withDeadline bounds the request's work: its own timeout, or the
// deadline it arrived with less a margin to answer in, whichever is
// sooner. A ledger that cannot answer by then is answered 503.
func (a *api) withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(a.timeout)
		if d, ok := r.Context().Deadline(); ok && d.Add(-answerMargin).Before(deadline) {
			deadline = d.Add(-answerMargin)
		}
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// licenceID returns the path's licence id, or answers 404 for one that
// cannot be a licence id, without asking the ledger.
func licenceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !licence.ValidID(id) {
		writeProblem(w, r, http.StatusNotFound, "no licence has this id", nil)
		return "", false
	}
	return id, true
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !keyPattern.MatchString(key) {
		writeProblem(w, r, http.StatusBadRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters", nil)
		return
	}
	var app licence.Application
	if !a.decodeValid(w, r, &app, func() error { return app.Validate() }) {
		return
	}
	idem := licence.IdempotencyKey{}
	if key != "" {
		idem = licence.IdempotencyKey{Key: key, RequestHash: app.Hash()}
	}
	l, replayed, err := a.store.Create(r.Context(), licence.New("", app, a.now().UTC(), actorOf(r)), idem)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/licences/"+l.ID)
	writeJSON(w, http.StatusCreated, l)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	id, ok := licenceID(w, r)
	if !ok {
		return
	}
	l, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := licenceID(w, r)
	if !ok {
		return
	}
	if err := a.store.Delete(r.Context(), id, licence.Deletion(a.now().UTC(), actorOf(r))); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) changeContact(w http.ResponseWriter, r *http.Request) {
	var c licence.ContactChange
	a.update(w, r, &c, func() error { return c.Validate() }, func(l *licence.Licence, at time.Time, by licence.Actor) { l.ChangeContact(c, at, by) })
}

func (a *api) changePoints(w http.ResponseWriter, r *http.Request) {
	var c licence.PointsChange
	a.update(w, r, &c, func() error { return c.Validate() }, func(l *licence.Licence, at time.Time, by licence.Actor) { l.ChangePoints(c, at, by) })
}

// update decodes a change into change, validates it with validate (a
// closure over change, so it sees what was decoded), applies it with apply
// in one ledger transaction and answers the licence as changed.
func (a *api) update(w http.ResponseWriter, r *http.Request, change any, validate func() error, apply func(*licence.Licence, time.Time, licence.Actor)) {
	id, ok := licenceID(w, r)
	if !ok || !a.decodeValid(w, r, change, validate) {
		return
	}
	by := actorOf(r)
	l, err := a.store.Update(r.Context(), id, func(l *licence.Licence) { apply(l, a.now().UTC(), by) })
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// decodeValid decodes the body into v and validates it, answering 4xx and
// returning false when either fails.
func (a *api) decodeValid(w http.ResponseWriter, r *http.Request, v any, validate func() error) bool {
	if err := decode(w, r, v); err != nil {
		var bad *errBadBody
		errors.As(err, &bad)
		writeProblem(w, r, bad.status, bad.msg, nil)
		return false
	}
	if err := validate(); err != nil {
		var ve *licence.ValidationError
		if errors.As(err, &ve) {
			writeProblem(w, r, http.StatusUnprocessableEntity, "the request has invalid fields", ve.Fields)
			return false
		}
		writeProblem(w, r, http.StatusBadRequest, err.Error(), nil)
		return false
	}
	return true
}

// fail answers a store error: the domain's as 404, 409 or 422, "try again"
// as 503 with Retry-After, and anything else as a 500 that shows only the
// request id while the log keeps the cause.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var unavailable *licence.UnavailableError
	switch {
	case errors.Is(err, licence.ErrNotFound):
		writeProblem(w, r, http.StatusNotFound, "no licence has this id", nil)
	case errors.Is(err, licence.ErrEmailTaken):
		writeProblem(w, r, http.StatusConflict, "a licence already exists for this email", nil)
	case errors.Is(err, licence.ErrKeyReused):
		writeProblem(w, r, http.StatusUnprocessableEntity, "this Idempotency-Key was used for a different request", nil)
	case errors.Is(err, licence.ErrStillLive):
		writeProblem(w, r, http.StatusConflict, "the licence still exists: delete it before erasing it", nil)
	case errors.As(err, &unavailable):
		a.log.WarnContext(r.Context(), "ledger unavailable", "requestId", requestID(r), "error", err)
		w.Header().Set("Retry-After", retryAfter(unavailable.RetryAfter.Seconds()))
		writeProblem(w, r, http.StatusServiceUnavailable, "the ledger is busy or unreachable; try again shortly", nil)
	default:
		a.log.ErrorContext(r.Context(), "request failed", "requestId", requestID(r), "error", err)
		writeProblem(w, r, http.StatusInternalServerError, "the request failed; quote the request id if you report it", nil)
	}
}
