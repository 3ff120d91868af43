package localqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// wire is a client of the raw wire protocol, so tests can hold a
// transaction open, interleave two, and see every error as sent.
type wire struct {
	t     *testing.T
	url   string
	token string
}

// wireError is an error answer: its type (without the namespace) and text.
type wireError struct {
	Type, Message string
}

func (e *wireError) Error() string { return e.Type + ": " + e.Message }

func startWire(t *testing.T, opts Options) (*Server, func() *wire) {
	t.Helper()
	if opts.LedgerName == "" {
		opts.LedgerName = "test"
	}
	srv := New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, func() *wire {
		w := &wire{t: t, url: hs.URL}
		var out struct{ StartSession struct{ SessionToken string } }
		if err := w.call(map[string]any{"StartSession": map[string]any{"LedgerName": opts.LedgerName}}, &out); err != nil {
			t.Fatal(err)
		}
		w.token = out.StartSession.SessionToken
		return w
	}
}

// call sends one signed SendCommand and decodes the answer or the error.
func (w *wire) call(body map[string]any, out any) *wireError {
	w.t.Helper()
	if w.token != "" {
		body["SessionToken"] = w.token
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "QLDBSession.SendCommand")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	sum := sha256.Sum256(b)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "qldb", "eu-west-2", time.Now()); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			w.t.Fatalf("error answer %d is not JSON: %v", resp.StatusCode, err)
		}
		return &wireError{Type: e.Type[strings.LastIndex(e.Type, "#")+1:], Message: e.Message}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		w.t.Fatal(err)
	}
	return nil
}

// wireTx is a transaction on the wire, with its commit digest computed
// as a driver computes it.
type wireTx struct {
	w      *wire
	id     string
	digest *digest
}

func (w *wire) begin() *wireTx {
	w.t.Helper()
	var out struct {
		StartTransaction struct{ TransactionId string }
	}
	if err := w.call(map[string]any{"StartTransaction": map[string]any{}}, &out); err != nil {
		w.t.Fatal(err)
	}
	d, err := newDigest(out.StartTransaction.TransactionId)
	if err != nil {
		w.t.Fatal(err)
	}
	return &wireTx{w: w, id: out.StartTransaction.TransactionId, digest: d}
}

// exec runs a statement with parameters given as Ion text, and returns
// every row (paging through them).
func (x *wireTx) exec(statement string, params ...string) ([]*value, *wireError) {
	x.w.t.Helper()
	var holders []map[string]any
	var binaries [][]byte
	for _, p := range params {
		v, err := parseIon([]byte(p))
		if err != nil {
			x.w.t.Fatalf("parameter %s: %v", p, err)
		}
		b, err := v.binary()
		if err != nil {
			x.w.t.Fatal(err)
		}
		binaries = append(binaries, b)
		holders = append(holders, map[string]any{"IonBinary": b})
	}
	type page struct {
		Values        []struct{ IonBinary []byte }
		NextPageToken *string
	}
	var out struct{ ExecuteStatement struct{ FirstPage page } }
	if err := x.w.call(map[string]any{"ExecuteStatement": map[string]any{"TransactionId": x.id, "Statement": statement, "Parameters": holders}}, &out); err != nil {
		return nil, err
	}
	if err := x.digest.addStatement(statement, binaries); err != nil {
		x.w.t.Fatal(err)
	}
	var rows []*value
	p := out.ExecuteStatement.FirstPage
	for {
		for _, h := range p.Values {
			v, err := parseIon(h.IonBinary)
			if err != nil {
				x.w.t.Fatal(err)
			}
			rows = append(rows, v)
		}
		if p.NextPageToken == nil {
			return rows, nil
		}
		var next struct{ FetchPage struct{ Page page } }
		if err := x.w.call(map[string]any{"FetchPage": map[string]any{"TransactionId": x.id, "NextPageToken": *p.NextPageToken}}, &next); err != nil {
			return nil, err
		}
		p = next.FetchPage.Page
	}
}

// must is exec for a statement that must succeed.
func (x *wireTx) must(statement string, params ...string) []*value {
	x.w.t.Helper()
	rows, err := x.exec(statement, params...)
	if err != nil {
		x.w.t.Fatalf("%s: %v", statement, err)
	}
	return rows
}

func (x *wireTx) commit() *wireError {
	x.w.t.Helper()
	var out struct{}
	return x.w.call(map[string]any{"CommitTransaction": map[string]any{"TransactionId": x.id, "CommitDigest": x.digest.sum}}, &out)
}

// run runs statements in one transaction and commits it.
func (w *wire) run(statements ...string) {
	w.t.Helper()
	x := w.begin()
	for _, s := range statements {
		x.must(s)
	}
	if err := x.commit(); err != nil {
		w.t.Fatal(err)
	}
}

// text is a value in Ion text, for messages and comparisons.
func text(t *testing.T, v *value) string {
	t.Helper()
	if v == nil {
		return "MISSING"
	}
	var b strings.Builder
	w := ion.NewTextWriter(&b)
	if err := v.write(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}
