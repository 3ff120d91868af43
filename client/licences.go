package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/privateledger/licences/function/licence"
)

// Created is a create's answer.
type Created struct {
	Licence licence.Licence
	// Replayed says the Idempotency-Key named an earlier request, whose
	// licence this is.
	Replayed bool
	// Key is the Idempotency-Key the request carried.
	Key string
}

// Create creates a licence. The request carries key as its
// Idempotency-Key, or a random one when key is "", so that sending it
// again after a 503 or a lost answer replays the first request's licence
// instead of making a second; pass the same key to retry it yourself.
func (c *Client) Create(ctx context.Context, app licence.Application, key string) (Created, error) {
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24 and later)
		key = hex.EncodeToString(b)
	}
	out := Created{Key: key}
	a, err := c.do(ctx, call{method: http.MethodPost, path: "/licences", body: app,
		header: http.Header{"Idempotency-Key": {key}}, retry: true,
		want: []int{http.StatusCreated}, into: &out.Licence})
	out.Replayed = a.header.Get("Idempotent-Replayed") == "true"
	return out, err
}

// Get reads a licence as it is now.
func (c *Client) Get(ctx context.Context, id string) (licence.Licence, error) {
	var l licence.Licence
	if err := checkID(id); err != nil {
		return l, err
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/licences/" + id, retry: true, want: []int{http.StatusOK}, into: &l})
	return l, err
}

// ChangeContact changes a licence's telephone, postcode or both. Sending
// it again sets the same values.
func (c *Client) ChangeContact(ctx context.Context, id string, change licence.ContactChange) (licence.Licence, error) {
	var l licence.Licence
	if err := checkID(id); err != nil {
		return l, err
	}
	_, err := c.do(ctx, call{method: http.MethodPut, path: "/licences/" + id + "/contact", body: change, retry: true,
		want: []int{http.StatusOK}, into: &l})
	return l, err
}

// ChangePoints adds (positive) or removes (negative) penalty points. It is
// not sent again after a 503: the API's one 503 that may have taken effect
// is a connection lost while its commit was in flight, and a second change
// would count twice. Read the licence or its history first, then send it
// again yourself.
func (c *Client) ChangePoints(ctx context.Context, id string, change licence.PointsChange) (licence.Licence, error) {
	var l licence.Licence
	if err := checkID(id); err != nil {
		return l, err
	}
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/licences/" + id + "/penalty-points", body: change,
		want: []int{http.StatusOK}, into: &l})
	return l, err
}

// Delete deletes a licence; its history stays until it is erased.
func (c *Client) Delete(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, path: "/licences/" + id, retry: true, want: []int{http.StatusNoContent}})
	return err
}

// Erase erases a deleted licence's personal data. The result's Pending
// counts revisions the ledger is still erasing (QLDB); Erase again after
// RetryAfter to carry on, or use EraseAll.
func (c *Client) Erase(ctx context.Context, id string) (licence.ErasureResult, error) {
	var res licence.ErasureResult
	if err := checkID(id); err != nil {
		return res, err
	}
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/licences/" + id + "/erasure", retry: true,
		want: []int{http.StatusOK, http.StatusAccepted}, into: &res})
	return res, err
}

// Page is a page of a licence's history.
type Page struct {
	ID        string             `json:"id"`
	Revisions []licence.Revision `json:"revisions"`
	// Next is the cursor of the next page; "" on the last.
	Next string `json:"next,omitempty"`
}

// HistoryPage reads one page of a licence's history: limit revisions (0
// for the API's default) from the cursor next ("" for the first page).
func (c *Client) HistoryPage(ctx context.Context, id string, limit int, next string) (Page, error) {
	var p Page
	if err := checkID(id); err != nil {
		return p, err
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if next != "" {
		q.Set("next", next)
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/licences/" + id + "/history", query: q, retry: true,
		want: []int{http.StatusOK}, into: &p})
	return p, err
}

// checkID refuses what cannot be a licence id before it is put in a path.
func checkID(id string) error {
	if !licence.ValidID(id) {
		return fmt.Errorf("%q is not a licence id (22 letters and digits)", id)
	}
	return nil
}
