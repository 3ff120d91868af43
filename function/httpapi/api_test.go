package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/route/routetest"
)

// req is one request to the API; resp is its answer.
type req struct {
	method, path string
	header       map[string]string
	body         string
	// identity is the principal API Gateway authenticated; "" is clerk,
	// anonymous is none.
	identity string
}

const anonymous = "-"

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// The callers of the suite: clerk through API Gateway, local on the local
// server (named by its operator), mallory in headers no one should trust.
var (
	clerk   = licence.Actor{Principal: "arn:aws:sts::123456789012:assumed-role/licence-clerk/jo", Role: "arn:aws:iam::123456789012:role/licence-clerk"}
	local   = licence.Actor{Principal: "route-suite"}
	mallory = "arn:aws:iam::123456789012:user/mallory"
)

// mode is a way the handler runs: a transport to it, and how it is built.
type mode struct {
	name  string
	send  func(t testing.TB, h http.Handler, r req) resp
	opts  httpapi.Options
	actor licence.Actor // whom the changes are recorded as
}

var modes = []mode{
	{"http", overHTTP, httpapi.Options{Actor: httpapi.FixedActor(local)}, local},
	{"apigateway", throughAPIGateway, httpapi.Options{}, clerk},
}

// spoof is what a client may write to pass itself off as someone else.
var spoof = map[string]string{
	"X-Actor": mallory, "X-Amz-User-Arn": mallory, "X-Forwarded-User": mallory, "Authorization": "AWS4-HMAC-SHA256 Credential=mallory",
}

// overHTTP serves the handler as a plain HTTP server, as it runs locally.
func overHTTP(t testing.TB, h http.Handler, r req) resp {
	srv := httptest.NewServer(h)
	defer srv.Close()
	hr, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
	for k, v := range spoof {
		hr.Header.Set(k, v)
	}
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
// does behind the REST API, with the identity API Gateway authenticated.
func throughAPIGateway(t testing.TB, h http.Handler, r req) resp {
	path, query, _ := strings.Cut(r.path, "?")
	ev := events.APIGatewayProxyRequest{
		HTTPMethod:                      r.method,
		Path:                            path,
		Resource:                        path,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		Body:                            r.body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "gw-request-1", Stage: "dev", HTTPMethod: r.method, Path: "/dev" + path,
			Identity: events.APIGatewayRequestIdentity{UserArn: clerk.Principal, Caller: "AROAEXAMPLE:jo", AccountID: "123456789012"}},
	}
	switch r.identity {
	case "":
	case anonymous:
		ev.RequestContext.Identity = events.APIGatewayRequestIdentity{}
	default:
		ev.RequestContext.Identity.UserArn = r.identity
	}
	for _, kv := range strings.Split(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			ev.MultiValueQueryStringParameters[k] = append(ev.MultiValueQueryStringParameters[k], v)
		}
	}
	for k, v := range spoof {
		ev.MultiValueHeaders[k] = []string{v}
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

// handlerFor is the handler in mode m on l, with the suite's clock and a
// short request timeout, so outages answer quickly.
func handlerFor(m mode, l ledger) http.Handler {
	opts := m.opts
	opts.CORSAllowOrigin, opts.Logger = "*", quiet
	opts.RequestTimeout = time.Second
	opts.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) }
	return httpapi.New(l.store, l.eraser, opts)
}

// client sends requests in mode m and checks what every answer must be.
type client struct {
	t *testing.T
	m mode
	h http.Handler
	l ledger
}

// do sends r and holds the exchange to openapi.yaml.
func (c client) do(r req) resp {
	c.t.Helper()
	got := c.m.send(c.t, c.h, r)
	checkContract(c.t, r, got)
	return got
}

// contract is openapi.yaml, loaded once for the package's tests.
var contract = sync.OnceValues(routetest.Load)

// checkContract fails the test unless the exchange is one openapi.yaml
// allows (routetest.Contract.Check).
func checkContract(t testing.TB, r req, got resp) {
	t.Helper()
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	hr := httptest.NewRequest(r.method, "http://127.0.0.1:8080"+r.path, nil)
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if err := c.Check(hr, []byte(r.body), &http.Response{StatusCode: got.status, Header: got.header}, got.body); err != nil {
		t.Error(err)
	}
}

// expect sends r and fails the test unless it answers status, with CORS,
// and, for errors, a problem document.
func (c client) expect(what string, r req, status int) resp {
	c.t.Helper()
	got := c.do(r)
	if got.status != status {
		c.t.Fatalf("%s: status %d, want %d; body %s", what, got.status, status, got.body)
	}
	if got.header.Get("Access-Control-Allow-Origin") != "*" {
		c.t.Errorf("%s: no CORS header", what)
	}
	if status >= 400 {
		if ct := got.header.Get("Content-Type"); ct != "application/problem+json" {
			c.t.Errorf("%s: content type %q, want application/problem+json", what, ct)
		}
		if p := got.json(c.t); p["status"] != float64(status) || p["requestId"] == "" || p["title"] == "" {
			c.t.Errorf("%s: problem %v lacks status, title or request id", what, p)
		}
	}
	if status == http.StatusServiceUnavailable && got.header.Get("Retry-After") == "" {
		c.t.Errorf("%s: 503 without Retry-After", what)
	}
	return got
}

// each runs test on every engine in every mode.
func each(t *testing.T, test func(c client)) {
	for _, b := range backends {
		for _, m := range modes {
			t.Run(b.name+"/"+m.name, func(t *testing.T) {
				l := b.open(t)
				test(client{t, m, handlerFor(m, l), l})
			})
		}
	}
}

// actorOf reads the actor of an event or revision in a JSON answer.
func actorOf(v any) string {
	m, _ := v.(map[string]any)
	a, _ := m["actor"].(map[string]any)
	p, _ := a["principal"].(string)
	return p
}

func TestRoutes(t *testing.T) { each(t, routes) }

// routes runs every route's success and every listed error on one store.
func routes(c client) {
	t := c.t
	// Create.
	created := c.expect("create", req{method: "POST", path: "/licences", header: jsonHeader, body: jo}, 201)
	l := created.json(t)
	id, _ := l["id"].(string)
	if created.header.Get("Location") != "/licences/"+id || l["email"] != "jo@example.com" || l["telephone"] != "07700900123" {
		t.Fatalf("created %v with Location %q", l, created.header.Get("Location"))
	}
	if ev, _ := l["lastEvent"].(map[string]any); ev["kind"] != licence.Created || actorOf(ev) != c.m.actor.Principal {
		t.Errorf("created with last event %v, want LicenceCreated by %s", l["lastEvent"], c.m.actor.Principal)
	}
	c.expect("duplicate email", req{method: "POST", path: "/licences", header: jsonHeader, body: jo}, 409)
	c.expect("duplicate email, another case", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.Replace(jo, "jo@example.com", "JO@EXAMPLE.COM", 1)}, 409)

	// Idempotent create.
	ann := strings.ReplaceAll(jo, "jo@", "ann@")
	first := c.expect("create with key", req{method: "POST", path: "/licences", header: withKey("k-1"), body: ann}, 201).json(t)
	again := c.expect("retried create", req{method: "POST", path: "/licences", header: withKey("k-1"), body: ann}, 201)
	if again.json(t)["id"] != first["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry answered %s, want the first licence replayed", again.body)
	}
	c.expect("key reused, another name", req{method: "POST", path: "/licences", header: withKey("k-1"), body: strings.ReplaceAll(ann, "Jo", "Al")}, 422)
	c.expect("key reused, another email", req{method: "POST", path: "/licences", header: withKey("k-1"), body: strings.ReplaceAll(ann, "ann@", "bea@")}, 422)
	c.expect("the other email is still free", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.ReplaceAll(ann, "ann@", "bea@")}, 201)
	c.expect("bad key", req{method: "POST", path: "/licences", header: withKey("bad key with spaces"), body: ann}, 400)

	// Bad bodies.
	invalid := c.expect("invalid fields", req{method: "POST", path: "/licences", header: jsonHeader, body: `{"firstName":"","lastName":"B","email":"nope","telephone":"1","postcode":"!"}`}, 422)
	if errs, _ := invalid.json(t)["errors"].([]any); len(errs) != 4 {
		t.Errorf("invalid fields listed %v, want 4", errs)
	}
	for name, body := range map[string]string{
		"zero-width space in the email":  strings.Replace(jo, "jo@", `jo\u200b@`, 1),
		"zero-width space in the domain": strings.Replace(jo, "@example", `@exa\u200bmple`, 1),
		"bidi override in the email":     strings.Replace(jo, `"jo@`, `"\u202ejo@`, 1),
		"invisible first name":           strings.Replace(jo, `"Jo"`, `"\u200b\ufeff"`, 1),
		"private use in the last name":   strings.Replace(jo, "Bloggs", `Blo\ue000ggs`, 1),
	} {
		c.expect(name, req{method: "POST", path: "/licences", header: jsonHeader, body: body}, 422)
	}
	c.expect("malformed json", req{method: "POST", path: "/licences", header: jsonHeader, body: `{"firstName":`}, 400)
	c.expect("unknown field", req{method: "POST", path: "/licences", header: jsonHeader, body: `{"firstName":"Jo","admin":true}`}, 400)
	c.expect("an actor in the body", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.Replace(jo, "{", `{"actor":"`+mallory+`",`, 1)}, 400)
	c.expect("wrong type", req{method: "POST", path: "/licences", header: jsonHeader, body: `{"firstName":3}`}, 400)
	c.expect("empty body", req{method: "POST", path: "/licences", header: jsonHeader, body: ``}, 400)
	c.expect("two values", req{method: "POST", path: "/licences", header: jsonHeader, body: jo + jo}, 400)
	c.expect("not json", req{method: "POST", path: "/licences", header: map[string]string{"Content-Type": "text/plain"}, body: jo}, 415)
	c.expect("too large", req{method: "POST", path: "/licences", header: jsonHeader, body: `{"firstName":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`}, 413)

	// Read: the licence and its latest event only.
	got := c.expect("get", req{method: "GET", path: "/licences/" + id}, 200).json(t)
	if got["id"] != id || got["penaltyPoints"] != float64(0) || got["lastEvent"] == nil || got["events"] != nil {
		t.Errorf("get = %v", got)
	}
	c.expect("get unknown", req{method: "GET", path: "/licences/AAAAAAAAAAAAAAAAAAAAAA"}, 404)
	c.expect("get malformed id", req{method: "GET", path: "/licences/short"}, 404)
	c.expect("get id with symbols", req{method: "GET", path: "/licences/AAAAAAAAAAAAAAAAAAAA%24%24"}, 404)

	// Contact.
	changed := c.expect("contact", req{method: "PUT", path: "/licences/" + id + "/contact", header: jsonHeader, body: `{"postcode":"ec1a 1bb"}`}, 200).json(t)
	if changed["postcode"] != "EC1A 1BB" || changed["telephone"] != "07700900123" {
		t.Errorf("contact change = %v", changed)
	}
	c.expect("empty contact", req{method: "PUT", path: "/licences/" + id + "/contact", header: jsonHeader, body: `{}`}, 422)
	c.expect("contact unknown", req{method: "PUT", path: "/licences/AAAAAAAAAAAAAAAAAAAAAA/contact", header: jsonHeader, body: `{"postcode":"EC1A 1BB"}`}, 404)

	// Points.
	points := c.expect("add points", req{method: "POST", path: "/licences/" + id + "/penalty-points", header: jsonHeader, body: `{"points":3,"reason":"speeding"}`}, 200).json(t)
	if points["penaltyPoints"] != float64(3) {
		t.Errorf("after adding 3: %v", points["penaltyPoints"])
	}
	points = c.expect("remove points", req{method: "POST", path: "/licences/" + id + "/penalty-points", header: jsonHeader, body: `{"points":-5,"reason":"appeal"}`}, 200).json(t)
	if ev, _ := points["lastEvent"].(map[string]any); points["penaltyPoints"] != float64(0) || ev["points"] != float64(3) || ev["reason"] != "appeal" {
		t.Errorf("after removing 5 of 3: %v", points)
	}
	c.expect("zero points", req{method: "POST", path: "/licences/" + id + "/penalty-points", header: jsonHeader, body: `{"points":0,"reason":"x"}`}, 422)
	c.expect("fractional points", req{method: "POST", path: "/licences/" + id + "/penalty-points", header: jsonHeader, body: `{"points":1.5,"reason":"x"}`}, 400)

	// History, paged.
	hist := c.expect("history", req{method: "GET", path: "/licences/" + id + "/history"}, 200).json(t)
	revs, _ := hist["revisions"].([]any)
	kinds := []string{licence.Created, licence.ContactUpdated, licence.PenaltyPointsAdded, licence.PenaltyPointsRemoved}
	if len(revs) != len(kinds) || hist["next"] != nil {
		t.Fatalf("history has %d revisions and next %v, want %d and none", len(revs), hist["next"], len(kinds))
	}
	for i, r := range revs {
		rev := r.(map[string]any)
		ev, _ := rev["event"].(map[string]any)
		if rev["version"] != float64(i) || rev["transactionId"] == "" || rev["transactionTime"] == "" || rev["hash"] == "" {
			t.Errorf("revision %d = %v", i, rev)
		}
		if ev["kind"] != kinds[i] || actorOf(rev) != c.m.actor.Principal || actorOf(ev) != c.m.actor.Principal {
			t.Errorf("revision %d: event %v by %q, want %s by %s", i, ev, actorOf(rev), kinds[i], c.m.actor.Principal)
		}
	}
	page := c.expect("history page", req{method: "GET", path: "/licences/" + id + "/history?limit=3"}, 200).json(t)
	next, _ := page["next"].(string)
	if r, _ := page["revisions"].([]any); len(r) != 3 || next == "" {
		t.Fatalf("a page of 3: %v", page)
	}
	rest := c.expect("next page", req{method: "GET", path: "/licences/" + id + "/history?limit=3&next=" + next}, 200).json(t)
	if r, _ := rest["revisions"].([]any); len(r) != 1 || rest["next"] != nil || r[0].(map[string]any)["version"] != float64(3) {
		t.Errorf("the next page: %v", rest)
	}
	for name, q := range map[string]string{"limit 0": "?limit=0", "limit 101": "?limit=101", "limit x": "?limit=x", "limit 1.5": "?limit=1.5",
		"forged cursor": "?next=bm9wZQ", "another licence's cursor": "?next=" + base64.RawURLEncoding.EncodeToString([]byte("AAAAAAAAAAAAAAAAAAAAAA.3")),
		"a cursor with a sign": "?next=" + base64.RawURLEncoding.EncodeToString([]byte(id+".-1")), "a padded cursor": "?next=" + base64.RawURLEncoding.EncodeToString([]byte(id+".03")),
		"a cursor past any version": "?next=" + base64.RawURLEncoding.EncodeToString([]byte(id+".2147483648")),
		"a cursor past int64":       "?next=" + base64.RawURLEncoding.EncodeToString([]byte(id+".99999999999999999999"))} {
		c.expect("history "+name, req{method: "GET", path: "/licences/" + id + "/history" + q}, 400)
	}
	c.expect("history unknown", req{method: "GET", path: "/licences/AAAAAAAAAAAAAAAAAAAAAA/history"}, 404)
	// A well-formed cursor for a licence that never existed is still 404,
	// not an empty page.
	c.expect("history unknown from a cursor", req{method: "GET", path: "/licences/AAAAAAAAAAAAAAAAAAAAAA/history?next=" +
		base64.RawURLEncoding.EncodeToString([]byte("AAAAAAAAAAAAAAAAAAAAAA.3"))}, 404)
	// The highest version a cursor may name is served (an empty page).
	c.expect("history at the last version", req{method: "GET", path: "/licences/" + id + "/history?next=" +
		base64.RawURLEncoding.EncodeToString([]byte(id+".2147483647"))}, 200)

	// Routing.
	notAllowed := c.expect("wrong method", req{method: "PATCH", path: "/licences/" + id, header: jsonHeader, body: `{}`}, 405)
	if notAllowed.header.Get("Allow") != "DELETE, GET" {
		t.Errorf("Allow = %q", notAllowed.header.Get("Allow"))
	}
	c.expect("unknown route", req{method: "GET", path: "/nope"}, 404)

	// Delete, then erase.
	c.expect("erase a live licence", req{method: "POST", path: "/licences/" + id + "/erasure"}, 409)
	c.expect("delete", req{method: "DELETE", path: "/licences/" + id}, 204)
	c.expect("get deleted", req{method: "GET", path: "/licences/" + id}, 404)
	c.expect("delete again", req{method: "DELETE", path: "/licences/" + id}, 404)
	deleted := c.expect("history of deleted", req{method: "GET", path: "/licences/" + id + "/history"}, 200).json(t)
	if revs, _ := deleted["revisions"].([]any); len(revs) != 5 || revs[4].(map[string]any)["event"].(map[string]any)["kind"] != licence.Deleted || actorOf(revs[4]) != c.m.actor.Principal {
		t.Errorf("history after delete: %v, want 5 revisions ending in the deletion by %s", deleted, c.m.actor.Principal)
	}
	c.expect("erase unknown", req{method: "POST", path: "/licences/AAAAAAAAAAAAAAAAAAAAAA/erasure"}, 404)
	erased := c.erase(id)
	if e, _ := erased["erasure"].(map[string]any); actorOf(e) != c.m.actor.Principal || erased["revisions"] != float64(4) {
		t.Errorf("erasure = %v, want 4 revisions erased by %s", erased, c.m.actor.Principal)
	}
	c.erase(id) // twice is fine
	c.noPersonalData(id, "Jo", "Bloggs", "jo@example.com", "07700900123", "SW1A 1AA", "EC1A 1BB", "speeding", "appeal")
	c.expect("the erased email is free", req{method: "POST", path: "/licences", header: jsonHeader, body: jo}, 201)

	// The ledger failing.
	c.l.faults.busy(t)
	c.expect("ledger busy", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.ReplaceAll(jo, "jo@", "busy@")}, 503)
	c.l.faults.clear(t)
	c.l.faults.saturate(t)
	c.expect("ledger saturated", req{method: "GET", path: "/licences/" + first["id"].(string)}, 503)
	c.l.faults.clear(t)
	if err := c.l.proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	c.expect("ledger unreachable", req{method: "GET", path: "/licences/" + first["id"].(string)}, 503)
	c.expect("ledger unreachable, a write", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.ReplaceAll(jo, "jo@", "cut@")}, 503)
	if err := c.l.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	c.eventually("ledger back", req{method: "GET", path: "/licences/" + first["id"].(string)}, 200)
	c.l.faults.broken(t)
	broken := c.expect("ledger refuses", req{method: "GET", path: "/licences/" + first["id"].(string)}, 500)
	for _, word := range c.l.faults.internals() {
		if bytes.Contains(bytes.ToLower(broken.body), []byte(strings.ToLower(word))) {
			t.Errorf("500 leaks %q: %s", word, broken.body)
		}
	}
	c.l.faults.clear(t)
}

// erase erases the licence with id, answering 202 while the ledger
// completes it and 200 once done, and returns the final answer.
func (c client) erase(id string) map[string]any {
	c.t.Helper()
	for attempt := 0; ; attempt++ {
		r := c.do(req{method: "POST", path: "/licences/" + id + "/erasure"})
		switch {
		case r.status == http.StatusOK:
			return r.json(c.t)
		case r.status == http.StatusAccepted && attempt < 20 && c.l.settle != nil:
			if r.header.Get("Retry-After") == "" || r.json(c.t)["pending"] == float64(0) {
				c.t.Errorf("202 without Retry-After or pending: %s", r.body)
			}
			c.l.settle()
		default:
			c.t.Fatalf("erase %s: %d %s", id, r.status, r.body)
		}
	}
}

// noPersonalData walks the licence's history page by page and fails the
// test if any page holds one of the strings.
func (c client) noPersonalData(id string, personal ...string) {
	c.t.Helper()
	next := ""
	for pages := 0; ; pages++ {
		path := "/licences/" + id + "/history?limit=2"
		if next != "" {
			path += "&next=" + next
		}
		r := c.expect("history after erasure", req{method: "GET", path: path}, 200)
		page := r.json(c.t)
		for _, p := range personal {
			if bytes.Contains(r.body, []byte(`"`+p+`"`)) || bytes.Contains(r.body, []byte(p+`"`)) {
				c.t.Errorf("page %d after erasure holds %q: %s", pages, p, r.body)
			}
		}
		for _, rv := range page["revisions"].([]any) {
			rev := rv.(map[string]any)
			ev, _ := rev["event"].(map[string]any)
			if ev["kind"] == licence.Deleted {
				continue
			}
			if e, _ := rev["erased"].(map[string]any); rev["licence"] != nil || rev["event"] != nil || actorOf(e) != c.m.actor.Principal || rev["hash"] == "" {
				c.t.Errorf("revision after erasure: %v, want no data and the erasure by %s", rev, c.m.actor.Principal)
			}
		}
		next, _ = page["next"].(string)
		if next == "" {
			return
		}
	}
}

// eventually sends r until it answers status, for a ledger coming back.
func (c client) eventually(what string, r req, status int) resp {
	c.t.Helper()
	var got resp
	for range 50 {
		if got = c.do(r); got.status == status {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s: status %d, want %d; body %s", what, got.status, status, got.body)
	return got
}

// In Lambda a request that API Gateway did not authenticate is refused,
// whatever the route, and changes nothing; no header stands in for the
// identity.
func TestAnUnauthenticatedRequestIs403AndChangesNothing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			m := modes[1]
			c := client{t, m, handlerFor(m, b.open(t)), ledger{}}
			id := c.expect("create", req{method: "POST", path: "/licences", header: jsonHeader, body: jo}, 201).json(t)["id"].(string)
			for _, r := range []req{
				{method: "POST", path: "/licences", header: jsonHeader, body: strings.ReplaceAll(jo, "jo@", "anon@")},
				{method: "GET", path: "/licences/" + id},
				{method: "DELETE", path: "/licences/" + id},
				{method: "POST", path: "/licences/" + id + "/penalty-points", header: jsonHeader, body: `{"points":3,"reason":"x"}`},
				{method: "POST", path: "/licences/" + id + "/erasure"},
				{method: "GET", path: "/nope"},
			} {
				for _, identity := range []string{anonymous, "anonymous", "arn:aws:iam::123456789012:user/a b", mallory + "<"} {
					r.identity = identity
					c.expect(r.method+" "+r.path+" as "+identity, r, 403)
				}
			}
			if got := c.expect("after the refusals", req{method: "GET", path: "/licences/" + id}, 200).json(t); got["penaltyPoints"] != float64(0) {
				t.Errorf("a refused request changed the licence: %v", got)
			}
			c.expect("the refused create made nothing", req{method: "POST", path: "/licences", header: jsonHeader, body: strings.ReplaceAll(jo, "jo@", "anon@")}, 201)
		})
	}
}

func TestAPIGatewayRequestIDIsUsed(t *testing.T) {
	l := openQLDB(t)
	r := throughAPIGateway(t, handlerFor(modes[1], l), req{method: "GET", path: "/nope"})
	if r.json(t)["requestId"] != "gw-request-1" {
		t.Errorf("request id %v, want API Gateway's", r.json(t)["requestId"])
	}
}

// A function serves only its own capability's routes.
func TestAFunctionServesOnlyItsCapability(t *testing.T) {
	l := openQLDB(t)
	opts := httpapi.Options{Actor: httpapi.FixedActor(local), Logger: quiet}
	api, eraser := httpapi.New(l.store, nil, opts), httpapi.New(nil, l.eraser, opts)
	for _, c := range []struct {
		h      http.Handler
		method string
		path   string
		want   int
	}{
		{api, "POST", "/licences/AAAAAAAAAAAAAAAAAAAAAA/erasure", 404},
		{api, "GET", "/licences/AAAAAAAAAAAAAAAAAAAAAA", 404},
		{eraser, "GET", "/licences/AAAAAAAAAAAAAAAAAAAAAA", 404},
		{eraser, "POST", "/licences", 404},
		{eraser, "POST", "/licences/AAAAAAAAAAAAAAAAAAAAAA/erasure", 404},
	} {
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		if w.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest("POST", "/licences/AAAAAAAAAAAAAAAAAAAAAA/erasure", nil))
	if p := w.Body.String(); !strings.Contains(p, "no such route") {
		t.Errorf("the API function on the erasure route: %s, want no such route", p)
	}
}
