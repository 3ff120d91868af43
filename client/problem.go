package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// Problem is an answer the API refused or could not serve, from its RFC
// 9457 problem document (or, where the answer was not one, its status).
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	RequestID string               `json:"requestId,omitempty"`
	Errors    []licence.FieldError `json:"errors,omitempty"`
	// RetryAfter is the answer's Retry-After: how long to wait before
	// asking again (503, and 202 from an erasure still under way).
	RetryAfter time.Duration `json:"-"`
}

func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s", p.Status, p.Title)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	for _, f := range p.Errors {
		s += fmt.Sprintf("; %s %s", f.Field, f.Message)
	}
	if p.RequestID != "" {
		s += " (request " + p.RequestID + ")"
	}
	return s
}

// Unavailable says the API could not serve the request now (5xx): try
// again later. Otherwise the request itself was refused (4xx).
func (p *Problem) Unavailable() bool { return p.Status >= 500 }

// problemOf reads a refusal: the problem document when the answer is one,
// otherwise a problem made from its status (API Gateway's own answers,
// a proxy's).
func problemOf(res *http.Response, raw []byte) *Problem {
	p := &Problem{}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "application/problem+json" || json.Unmarshal(raw, p) != nil || p.Status != res.StatusCode {
		p = &Problem{Type: "about:blank", Title: http.StatusText(res.StatusCode), Status: res.StatusCode}
		if msg := gatewayMessage(raw); msg != "" {
			p.Detail = msg
		}
	}
	if p.RequestID == "" {
		p.RequestID = res.Header.Get("X-Request-Id")
	}
	p.RetryAfter = retryAfter(res.Header)
	return p
}

// gatewayMessage is the message of an answer in API Gateway's own form,
// {"message": "..."}; "" otherwise.
func gatewayMessage(raw []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return m.Message
}
