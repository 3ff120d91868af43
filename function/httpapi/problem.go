package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/privateledger/licences/function/licence"
)

// problem is an RFC 9457 problem document, the body of every error.
type problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	RequestID string               `json:"requestId,omitempty"`
	Errors    []licence.FieldError `json:"errors,omitempty"`
}

// writeProblem answers with a problem document for status.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string, fields []licence.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent: a failed write means the client went away, and
	// there is no one left to tell.
	_ = json.NewEncoder(w).Encode(problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		RequestID: requestID(r),
		Errors:    fields,
	})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // as in writeProblem
}

// retryAfter formats a duration as Retry-After's whole seconds, at least 1.
func retryAfter(seconds float64) string {
	if seconds < 1 {
		seconds = 1
	}
	return strconv.Itoa(int(seconds + 0.999))
}

// UndecodableBody answers a request whose body its transport could not
// decode (API Gateway's base64 that is not base64) with a 400 problem, as
// the API answers any malformed body, instead of failing the invocation.
func UndecodableBody() http.Handler {
	return withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusBadRequest, "the body is marked base64 but is not valid base64", nil)
	}))
}
