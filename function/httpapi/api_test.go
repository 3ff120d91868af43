package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privateledger/licences/function/httpapi"
)

// req is one request to the API; resp is its answer.
type req struct {
	method, path string
	header       map[string]string
	body         string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// transport sends a request to the handler one way or another.
type transport func(t *testing.T, h http.Handler, r req) resp

// overHTTP serves the handler as a plain HTTP server, as it runs locally.
func overHTTP(t *testing.T, h http.Handler, r req) resp {
	srv := httptest.NewServer(h)
	defer srv.Close()
	hr, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err := errors.Join(err, res.Body.Close()); err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// throughAPIGateway hands the handler an API Gateway proxy event, as Lambda
// does behind the REST API.
func throughAPIGateway(t *testing.T, h http.Handler, r req) resp {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod:        r.method,
		Path:              r.path,
		Resource:          r.path,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		Body:              r.body,
		RequestContext:    events.APIGatewayProxyRequestContext{RequestID: "gw-request-1", Stage: "dev", HTTPMethod: r.method, Path: "/dev" + r.path},
	}
	for k, v := range r.header {
		ev.Headers[k] = v
		ev.MultiValueHeaders[k] = []string{v}
	}
	out, err := httpadapter.New(h).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	for k, v := range out.Headers {
		hdr.Set(k, v)
	}
	for k, vs := range out.MultiValueHeaders {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	return resp{out.StatusCode, hdr, []byte(out.Body)}
}

// quiet drops the handler's logs: the tests assert on answers.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var jsonHeader = map[string]string{"Content-Type": "application/json"}

func withKey(key string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}
}

const jo = `{"firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700 900123","postcode":"SW1A 1AA"}`

func TestRoutes(t *testing.T) {
	for _, b := range backends {
		for name, send := range map[string]transport{"http": overHTTP, "apigateway": throughAPIGateway} {
			t.Run(b.name+"/"+name, func(t *testing.T) {
				h, faults := b.open(t)
				routes(t, send, h, faults)
			})
		}
	}
}

// routes runs every route's success and every listed error on one store.
func routes(t *testing.T, send transport, h http.Handler, faults ledgerFaults) {
	do := func(r req) resp { t.Helper(); return send(t, h, r) }
	expect := func(what string, got resp, status int) resp {
		t.Helper()
		if got.status != status {
			t.Fatalf("%s: status %d, want %d; body %s", what, got.status, status, got.body)
		}
		if got.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", what)
		}
		if status >= 400 {
			if ct := got.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q, want application/problem+json", what, ct)
			}
			if p := got.json(t); p["status"] != float64(status) || p["requestId"] == "" || p["title"] == "" {
				t.Errorf("%s: problem %v lacks status, title or request id", what, p)
			}
		}
		return got
	}

	// Create.
	created := expect("create", do(req{"POST", "/licences", jsonHeader, jo}), 201)
	l := created.json(t)
	id, _ := l["id"].(string)
	if created.header.Get("Location") != "/licences/"+id || l["email"] != "jo@example.com" || l["telephone"] != "07700900123" {
		t.Fatalf("created %v with Location %q", l, created.header.Get("Location"))
	}
	expect("duplicate email", do(req{"POST", "/licences", jsonHeader, jo}), 409)

	// Idempotent create.
	ann := strings.ReplaceAll(jo, "jo@", "ann@")
	first := expect("create with key", do(req{"POST", "/licences", withKey("k-1"), ann}), 201).json(t)
	again := expect("retried create", do(req{"POST", "/licences", withKey("k-1"), ann}), 201)
	if again.json(t)["id"] != first["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry answered %s, want the first licence replayed", again.body)
	}
	expect("key reused", do(req{"POST", "/licences", withKey("k-1"), strings.ReplaceAll(ann, "Jo", "Al")}), 422)
	expect("bad key", do(req{"POST", "/licences", withKey("bad key with spaces"), ann}), 400)

	// Bad bodies.
	invalid := expect("invalid fields", do(req{"POST", "/licences", jsonHeader, `{"firstName":"","lastName":"B","email":"nope","telephone":"1","postcode":"!"}`}), 422)
	if errs, _ := invalid.json(t)["errors"].([]any); len(errs) != 4 {
		t.Errorf("invalid fields listed %v, want 4", errs)
	}
	expect("malformed json", do(req{"POST", "/licences", jsonHeader, `{"firstName":`}), 400)
	expect("unknown field", do(req{"POST", "/licences", jsonHeader, `{"firstName":"Jo","admin":true}`}), 400)
	expect("wrong type", do(req{"POST", "/licences", jsonHeader, `{"firstName":3}`}), 400)
	expect("empty body", do(req{"POST", "/licences", jsonHeader, ``}), 400)
	expect("two values", do(req{"POST", "/licences", jsonHeader, jo + jo}), 400)
	expect("not json", do(req{"POST", "/licences", map[string]string{"Content-Type": "text/plain"}, jo}), 415)
	expect("too large", do(req{"POST", "/licences", jsonHeader, `{"firstName":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`}), 413)

	// Read.
	got := expect("get", do(req{"GET", "/licences/" + id, nil, ""}), 200).json(t)
	if got["id"] != id || got["penaltyPoints"] != float64(0) {
		t.Errorf("get = %v", got)
	}
	expect("get unknown", do(req{"GET", "/licences/AAAAAAAAAAAAAAAAAAAAAA", nil, ""}), 404)
	expect("get malformed id", do(req{"GET", "/licences/short", nil, ""}), 404)
	expect("get id with symbols", do(req{"GET", "/licences/AAAAAAAAAAAAAAAAAAAA%24%24", nil, ""}), 404)

	// Contact.
	changed := expect("contact", do(req{"PUT", "/licences/" + id + "/contact", jsonHeader, `{"postcode":"ec1a 1bb"}`}), 200).json(t)
	if changed["postcode"] != "EC1A 1BB" || changed["telephone"] != "07700900123" {
		t.Errorf("contact change = %v", changed)
	}
	expect("empty contact", do(req{"PUT", "/licences/" + id + "/contact", jsonHeader, `{}`}), 422)
	expect("contact unknown", do(req{"PUT", "/licences/AAAAAAAAAAAAAAAAAAAAAA/contact", jsonHeader, `{"postcode":"EC1A 1BB"}`}), 404)

	// Points.
	points := expect("add points", do(req{"POST", "/licences/" + id + "/penalty-points", jsonHeader, `{"points":3,"reason":"speeding"}`}), 200).json(t)
	if points["penaltyPoints"] != float64(3) {
		t.Errorf("after adding 3: %v", points["penaltyPoints"])
	}
	points = expect("remove points", do(req{"POST", "/licences/" + id + "/penalty-points", jsonHeader, `{"points":-5,"reason":"appeal"}`}), 200).json(t)
	if points["penaltyPoints"] != float64(0) {
		t.Errorf("after removing 5 of 3: %v, want 0", points["penaltyPoints"])
	}
	expect("zero points", do(req{"POST", "/licences/" + id + "/penalty-points", jsonHeader, `{"points":0,"reason":"x"}`}), 422)
	expect("fractional points", do(req{"POST", "/licences/" + id + "/penalty-points", jsonHeader, `{"points":1.5,"reason":"x"}`}), 400)

	// History.
	hist := expect("history", do(req{"GET", "/licences/" + id + "/history", nil, ""}), 200).json(t)
	revs, _ := hist["revisions"].([]any)
	if len(revs) != 4 {
		t.Fatalf("history has %d revisions, want 4 (create, contact, +3, -3)", len(revs))
	}
	for i, r := range revs {
		rev := r.(map[string]any)
		if rev["version"] != float64(i) || rev["transactionId"] == "" || rev["transactionTime"] == "" {
			t.Errorf("revision %d = %v", i, rev)
		}
	}
	expect("history unknown", do(req{"GET", "/licences/AAAAAAAAAAAAAAAAAAAAAA/history", nil, ""}), 404)

	// Routing.
	notAllowed := expect("wrong method", do(req{"PATCH", "/licences/" + id, jsonHeader, `{}`}), 405)
	if notAllowed.header.Get("Allow") != "DELETE, GET" {
		t.Errorf("Allow = %q", notAllowed.header.Get("Allow"))
	}
	expect("unknown route", do(req{"GET", "/nope", nil, ""}), 404)

	// Delete.
	expect("delete", do(req{"DELETE", "/licences/" + id, nil, ""}), 204)
	expect("get deleted", do(req{"GET", "/licences/" + id, nil, ""}), 404)
	expect("delete again", do(req{"DELETE", "/licences/" + id, nil, ""}), 404)
	if revs, _ := expect("history of deleted", do(req{"GET", "/licences/" + id + "/history", nil, ""}), 200).json(t)["revisions"].([]any); len(revs) != 5 {
		t.Errorf("history after delete has %d revisions, want 5", len(revs))
	}

	// The ledger failing.
	faults.busy(t)
	busy := expect("ledger busy", do(req{"POST", "/licences", jsonHeader, strings.ReplaceAll(jo, "jo@", "busy@")}), 503)
	if busy.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	faults.clear(t)
	faults.broken(t)
	broken := expect("ledger refuses", do(req{"GET", "/licences/" + first["id"].(string), nil, ""}), 500)
	for _, word := range faults.internals() {
		if bytes.Contains(bytes.ToLower(broken.body), []byte(strings.ToLower(word))) {
			t.Errorf("500 leaks %q: %s", word, broken.body)
		}
	}
	faults.clear(t)
}

func TestAPIGatewayRequestIDIsUsed(t *testing.T) {
	h, _ := openQLDB(t)
	r := throughAPIGateway(t, h, req{"GET", "/nope", nil, ""})
	if r.json(t)["requestId"] != "gw-request-1" {
		t.Errorf("request id %v, want API Gateway's", r.json(t)["requestId"])
	}
}
