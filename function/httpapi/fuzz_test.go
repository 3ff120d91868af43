package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/httpapi"
)

// FuzzRequest sends arbitrary requests to the handler. Whatever the input,
// it must not panic, must not answer 5xx (the store here never fails, so a
// 5xx could only be the handler's own fault), and must answer JSON.
func FuzzRequest(f *testing.F) {
	f.Add("POST", "/licences", "application/json", "", jo)
	f.Add("POST", "/licences", "application/json", "key-1", `{"firstName":"","email":"x"}`)
	f.Add("POST", "/licences", "text/plain", "", "hello")
	f.Add("PUT", "/licences/0000000000000000000001/contact", "application/json", "", `{"telephone":null}`)
	f.Add("POST", "/licences/0000000000000000000001/penalty-points", "application/json", "", `{"points":-99999999999999999999,"reason":"x"}`)
	f.Add("GET", "/licences/0000000000000000000001/history", "", "", "")
	f.Add("DELETE", "/licences/%00", "", "", "")
	f.Add("GET", "/licences/0000000000000000000001/history?limit=0&next=%ff", "", "", "")
	f.Add("POST", "/licences/0000000000000000000001/erasure", "", "", "")
	store := newMemStore()
	h := httpapi.New(store, store, httpapi.Options{CORSAllowOrigin: "*", Logger: quiet, Actor: httpapi.FixedActor(clerk)})
	seed := httptest.NewRecorder()
	h.ServeHTTP(seed, httptest.NewRequest("POST", "/licences", strings.NewReader(jo)))

	f.Fuzz(func(t *testing.T, method, path, contentType, key, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#") || method == "" || strings.ContainsAny(method, " \r\n/()<>@,;:\\\"[]?={}") {
			return // not an HTTP request line a client could send
		}
		r, err := http.NewRequest(method, "http://api.test"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s (%q, key %q) %q answered %d: %s", method, path, contentType, key, body, w.Code, w.Body)
		}
		if w.Code != http.StatusNoContent && w.Code != http.StatusTemporaryRedirect && w.Code != http.StatusMovedPermanently && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s answered %d with a body that is not JSON: %q", method, path, w.Code, w.Body)
		}
	})
}
