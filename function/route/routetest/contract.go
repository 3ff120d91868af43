// Package routetest holds answers to the API's OpenAPI document
// (route.OpenAPI), with a maintained validator (pb33f's
// libopenapi-validator): the route suite checks every request it sends
// and every answer it gets, so the document cannot drift from the
// handler.
package routetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/privateledger/licences/function/route"
)

// Contract is the OpenAPI document, ready to check exchanges against.
type Contract struct {
	v   validator.Validator
	mux *http.ServeMux
}

// Load reads route.OpenAPI and checks that it is a valid OpenAPI 3.1
// document.
func Load() (*Contract, error) {
	doc, err := libopenapi.NewDocument(route.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("read openapi.yaml: %w", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("openapi.yaml is OpenAPI %s, want 3.1", v)
	}
	// Signatures are API Gateway's to check (infra, testdouble/apigateway);
	// the function never sees an unsigned request on AWS.
	v, errs := validator.NewValidator(doc, config.WithoutSecurityValidation(), config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi.yaml: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %s", describe(verrs))
	}
	mux := http.NewServeMux()
	for _, r := range route.Routes() {
		mux.Handle(r.Pattern(), http.NotFoundHandler())
	}
	return &Contract{v: v, mux: mux}, nil
}

// Check holds one exchange to the document. A request to a documented
// operation must get an answer the operation documents, status, headers
// and body; a request the document does not allow must be refused (4xx).
// A request to no documented operation must get 404, or 405 with Allow,
// as a problem document.
func (c *Contract) Check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	res.Request = req
	if _, pattern := c.mux.Handler(req); pattern == "" {
		return undocumented(req, res, resBody)
	}
	okReq, reqErrs := c.v.ValidateHttpRequest(req)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	if ok, errs := c.v.ValidateHttpResponse(req, res); !ok {
		return fmt.Errorf("%s %s answered %d, which openapi.yaml does not allow: %s", req.Method, req.URL.RequestURI(), res.StatusCode, describe(errs))
	}
	if !okReq && (res.StatusCode < 400 || res.StatusCode >= 500) {
		return fmt.Errorf("%s %s is a request openapi.yaml does not allow (%s), but it answered %d", req.Method, req.URL.RequestURI(), describe(reqErrs), res.StatusCode)
	}
	return nil
}

// undocumented checks the answer to a request no operation documents.
func undocumented(req *http.Request, res *http.Response, body []byte) error {
	what := fmt.Sprintf("%s %s (no operation of openapi.yaml)", req.Method, req.URL.RequestURI())
	switch {
	case res.StatusCode == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "":
		return fmt.Errorf("%s answered 405 without Allow", what)
	case res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != http.StatusForbidden:
		return fmt.Errorf("%s answered %d, want 404 or 405 (403 behind API Gateway)", what, res.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/problem+json" {
		return fmt.Errorf("%s answered %q, not a problem document", what, mt)
	}
	var p struct {
		Type      string `json:"type"`
		Title     string `json:"title"`
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		RequestID string `json:"requestId"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Type != "about:blank" || p.Title == "" || p.Status != res.StatusCode || p.RequestID == "" {
		return fmt.Errorf("%s answered %s, not the API's problem document", what, body)
	}
	return nil
}

// describe lists validation errors in a line each.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s: %s", s.FieldPath, s.Reason)
		}
	}
	return b.String()
}
