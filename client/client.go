// Package client speaks the licence API: typed requests and answers,
// problem documents as errors, requests signed with AWS Signature Version 4
// by the AWS SDK's own signer, waits for a 503's Retry-After within the
// caller's deadline, and a history that follows its pages. openapi.yaml
// (function/route) describes what it speaks.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxAnswerBytes bounds an answer the client reads: a page of 100
// revisions is under 1.6 MB (docs/api.md), and Lambda refuses answers
// over 6 MB.
const MaxAnswerBytes = 8 << 20

// DefaultWaitBudget is how long a request may spend waiting out 503s when
// its context has no deadline.
const DefaultWaitBudget = time.Minute

// Client is a licence API client. Its methods are safe to call at once.
type Client struct {
	base   *url.URL
	http   *http.Client
	signer Signer
	budget time.Duration
	onWait func(Wait)
}

// Wait is a pause the client makes before trying a request again: the
// answer it waits out, how long, and which attempt comes next.
type Wait struct {
	Problem *Problem
	For     time.Duration
	Attempt int
}

// Signer signs a request before it is sent; the body's SHA-256 is given
// in hex. SigV4 is one; nil sends requests unsigned (the local server).
type Signer interface {
	Sign(ctx context.Context, r *http.Request, payloadHash string) error
}

// Option configures a Client.
type Option func(*Client)

// WithSigner signs every request with s.
func WithSigner(s Signer) Option { return func(c *Client) { c.signer = s } }

// WithHTTPClient sends requests through h instead of a client with a
// 30-second timeout per attempt.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithWaitBudget bounds the time a request spends waiting out 503s when
// its context has no deadline of its own.
func WithWaitBudget(d time.Duration) Option { return func(c *Client) { c.budget = d } }

// OnWait is called before each wait, so a caller can show it.
func OnWait(f func(Wait)) Option { return func(c *Client) { c.onWait = f } }

// New returns a client of the API at base, such as a stage's apiUrl or
// http://127.0.0.1:8080.
func New(base string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the API's URL %q is not an http or https URL without query", base)
	}
	c := &Client{base: u, http: &http.Client{Timeout: 30 * time.Second}, budget: DefaultWaitBudget}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// call is one operation: its request and what it answers with.
type call struct {
	method, path string
	query        url.Values
	header       http.Header
	body         any
	// retry: the operation may be sent again after a 503 (each but a
	// points change is safe to repeat; see ChangePoints).
	retry bool
	// want is the success statuses, into decodes a success's JSON body.
	want []int
	into any
}

// answer is what a call got.
type answer struct {
	header http.Header
}

// do sends c, waiting out 503s with Retry-After while the deadline allows,
// and decodes the answer.
func (cl *Client) do(ctx context.Context, c call) (answer, error) {
	var body []byte
	if c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			return answer{}, fmt.Errorf("encode the request: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cl.budget)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		a, err := cl.send(ctx, c, body)
		var p *Problem
		if !c.retry || !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || p.RetryAfter <= 0 {
			return a, err
		}
		if d, _ := ctx.Deadline(); time.Until(d) < p.RetryAfter {
			return a, err
		}
		if cl.onWait != nil {
			cl.onWait(Wait{Problem: p, For: p.RetryAfter, Attempt: attempt + 1})
		}
		t := time.NewTimer(p.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return a, err
		case <-t.C:
		}
	}
}

// send makes one attempt.
func (cl *Client) send(ctx context.Context, c call, body []byte) (answer, error) {
	u := *cl.base
	u.Path += c.path
	u.RawPath = ""
	if len(c.query) > 0 {
		u.RawQuery = c.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("build the request: %w", err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if cl.signer != nil {
		if err := cl.signer.Sign(ctx, req, payloadHash(body)); err != nil {
			return answer{}, fmt.Errorf("sign the request: %w", err)
		}
	}
	res, err := cl.http.Do(req)
	if err != nil {
		return answer{}, &UnreachableError{Err: err}
	}
	defer func() { _ = res.Body.Close() }() // read in full below
	raw, err := io.ReadAll(io.LimitReader(res.Body, MaxAnswerBytes+1))
	if err != nil {
		return answer{}, &UnreachableError{Err: fmt.Errorf("read the answer: %w", err)}
	}
	if len(raw) > MaxAnswerBytes {
		return answer{}, fmt.Errorf("%s %s: the answer is over %d bytes", c.method, c.path, MaxAnswerBytes)
	}
	a := answer{header: res.Header}
	for _, s := range c.want {
		if res.StatusCode != s {
			continue
		}
		if c.into != nil && len(raw) > 0 {
			if err := json.Unmarshal(raw, c.into); err != nil {
				return a, fmt.Errorf("%s %s: answered %d with a body that is not what the API describes: %w", c.method, c.path, res.StatusCode, err)
			}
		}
		return a, nil
	}
	return a, problemOf(res, raw)
}

// UnreachableError reports that no answer came: the API could not be
// reached, or the connection failed. A change sent may or may not have
// taken effect.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "the API did not answer: " + e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// retryAfter reads Retry-After's whole seconds; 0 when absent or not
// seconds.
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
