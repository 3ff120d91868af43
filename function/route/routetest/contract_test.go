package routetest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"

	"github.com/privateledger/licences/function/route"
)

func load(t *testing.T) *Contract {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exchange is one request and its answer, as the route suite sees them.
func exchange(method, target, reqBody string, status int, header http.Header, resBody string) (*http.Request, *http.Response) {
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, nil)
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-Request-Id", "r1")
	return req, &http.Response{StatusCode: status, Header: header}
}

const (
	id        = "J1ksizaGe7X1M87b5HKExk"
	licenceOK = `{"id":"` + id + `","firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700900123","postcode":"SW1A 1AA","penaltyPoints":0}`
	notFound  = `{"type":"about:blank","title":"Not Found","status":404,"detail":"no licence has this id","requestId":"r1"}`
)

func jsonHeader(ct string) http.Header { return http.Header{"Content-Type": {ct}} }

// The checks fail on what the document does not allow: an undocumented
// status, a body of another shape, a missing header, a request the
// document refuses but the handler accepted, an unknown route answered
// with anything but a problem; and pass on what it documents.
func TestTheContractRefusesWhatTheDocumentDoesNotAllow(t *testing.T) {
	c := load(t)
	for _, x := range []struct {
		name                 string
		method, target, body string
		status               int
		header               http.Header
		answer               string
		fails                string
	}{
		{"a documented answer", "GET", "/licences/" + id, "", 200, jsonHeader("application/json"), licenceOK, ""},
		{"a documented problem", "GET", "/licences/" + id, "", 404, jsonHeader("application/problem+json"), notFound, ""},
		{"an undocumented status", "GET", "/licences/" + id, "", 418, jsonHeader("application/problem+json"), strings.Replace(notFound, "404", "418", 1), "does not allow"},
		{"a 409 where the route has none", "GET", "/licences/" + id, "", 409, jsonHeader("application/problem+json"), strings.Replace(notFound, "404", "409", 1), "does not allow"},
		{"an answer of another shape", "GET", "/licences/" + id, "", 200, jsonHeader("application/json"), `{"id":"` + id + `","penaltyPoints":-1}`, "does not allow"},
		{"an answer with a field the document does not name", "GET", "/licences/" + id, "", 200, jsonHeader("application/json"), strings.Replace(licenceOK, `"penaltyPoints"`, `"secret":1,"penaltyPoints"`, 1), "does not allow"},
		{"a problem as JSON", "GET", "/licences/" + id, "", 404, jsonHeader("application/json"), notFound, "does not allow"},
		{"a 503 without Retry-After", "GET", "/licences/" + id, "", 503, jsonHeader("application/problem+json"), strings.Replace(notFound, "404", "503", 1), "does not allow"},
		{"a refused request accepted", "GET", "/licences/" + id + "/history?limit=500", "", 200, jsonHeader("application/json"), `{"id":"` + id + `","revisions":[]}`, "does not allow"},
		{"a refused request refused", "GET", "/licences/" + id + "/history?limit=500", "", 400, jsonHeader("application/problem+json"), strings.Replace(notFound, "404", "400", 1), ""},
		{"an unknown route's problem", "GET", "/nope", "", 404, jsonHeader("application/problem+json"), notFound, ""},
		{"an unknown route answered 200", "GET", "/nope", "", 200, jsonHeader("application/json"), `{}`, "want 404 or 405"},
		{"a wrong method without Allow", "PATCH", "/licences/" + id, "", 405, jsonHeader("application/problem+json"), strings.Replace(notFound, "404", "405", 1), "without Allow"},
	} {
		t.Run(x.name, func(t *testing.T) {
			req, res := exchange(x.method, x.target, x.body, x.status, x.header, x.answer)
			err := c.Check(req, []byte(x.body), res, []byte(x.answer))
			switch {
			case x.fails == "" && err != nil:
				t.Errorf("a documented exchange fails: %v", err)
			case x.fails != "" && (err == nil || !strings.Contains(err.Error(), x.fails)):
				t.Errorf("check = %v, want a failure saying %q", err, x.fails)
			}
		})
	}
}

// The document has one operation per route, named by the route's
// operation, and no other.
func TestTheDocumentHasEveryRouteAndNoOther(t *testing.T) {
	doc, err := libopenapi.NewDocument(route.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = op.OperationId
		}
	}
	for _, r := range route.Routes() {
		if got := documented[r.Pattern()]; got != string(r.Operation) {
			t.Errorf("%s: operationId %q, want %q", r.Pattern(), got, r.Operation)
		}
		delete(documented, r.Pattern())
	}
	for op := range documented {
		t.Errorf("%s is documented but is no route", op)
	}
}
