package localqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"
)

// send posts one SendCommand body and decodes the answer.
func send(t *testing.T, url string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "QLDBSession.SendCommand")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	sum := sha256.Sum256(b)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "qldb", "eu-west-2", time.Now()); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// do sends a request and decodes its JSON answer.
func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	err = json.NewDecoder(resp.Body).Decode(&out)
	if err := errors.Join(err, resp.Body.Close()); err != nil {
		t.Fatalf("the answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

func TestCommitWithWrongDigestIsRefused(t *testing.T) {
	hs := httptest.NewServer(New(Options{LedgerName: "test"}))
	defer hs.Close()
	_, out := send(t, hs.URL, map[string]any{"StartSession": map[string]any{"LedgerName": "test"}})
	token := out["StartSession"].(map[string]any)["SessionToken"].(string)
	_, out = send(t, hs.URL, map[string]any{"SessionToken": token, "StartTransaction": map[string]any{}})
	txID := out["StartTransaction"].(map[string]any)["TransactionId"].(string)
	status, out := send(t, hs.URL, map[string]any{"SessionToken": token,
		"ExecuteStatement": map[string]any{"TransactionId": txID, "Statement": "CREATE TABLE T"}})
	if status != http.StatusOK {
		t.Fatalf("execute: %d %v", status, out)
	}
	status, out = send(t, hs.URL, map[string]any{"SessionToken": token,
		"CommitTransaction": map[string]any{"TransactionId": txID, "CommitDigest": bytes.Repeat([]byte{1}, 32)}})
	if status != http.StatusBadRequest || !strings.Contains(out["__type"].(string), "BadRequestException") {
		t.Fatalf("commit with a wrong digest: %d %v, want 400 BadRequestException", status, out)
	}
}

func TestUnknownLedgerAndSession(t *testing.T) {
	hs := httptest.NewServer(New(Options{LedgerName: "test"}))
	defer hs.Close()
	if status, _ := send(t, hs.URL, map[string]any{"StartSession": map[string]any{"LedgerName": "other"}}); status != http.StatusBadRequest {
		t.Errorf("unknown ledger: %d, want 400", status)
	}
	status, out := send(t, hs.URL, map[string]any{"SessionToken": "nope", "StartTransaction": map[string]any{}})
	if status != http.StatusBadRequest || !strings.Contains(out["__type"].(string), "InvalidSessionException") {
		t.Errorf("unknown session: %d %v, want InvalidSessionException", status, out)
	}
}

func TestCapacityExceededReachesTheCaller(t *testing.T) {
	// The driver turns off the SDK's retries and retries only OCC conflicts,
	// invalid sessions and 500/503 internal errors, so a capacity error
	// reaches the caller, and nothing is committed.
	srv, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE People")
	srv.Inject(Fault{Command: "CommitTransaction", Error: CapacityExceeded, Times: 1})
	_, err := d.Execute(context.Background(), func(txn qldbdriver.Transaction) (any, error) {
		return txn.Execute("INSERT INTO People ?", person{"gus", 1})
	})
	if err == nil || !strings.Contains(err.Error(), CapacityExceeded) {
		t.Fatalf("err = %v, want %s", err, CapacityExceeded)
	}
	if rows := exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "gus"); len(rows) != 0 {
		t.Errorf("%d rows after a refused commit, want 0", len(rows))
	}
}

func TestInvalidSessionAndInternalFailuresAreSurvived(t *testing.T) {
	srv, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE People")
	srv.Inject(Fault{Command: "ExecuteStatement", Error: InvalidSession, Times: 1})
	srv.Inject(Fault{Command: "StartTransaction", Error: InternalFailure, Times: 1})
	srv.Inject(Fault{Command: "CommitTransaction", Error: InternalFailure, Times: 1})
	exec(t, d, "INSERT INTO People ?", person{"eve", 1})
	rows := exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "eve")
	if len(rows) != 1 {
		t.Fatalf("%d rows, want exactly 1 after faults", len(rows))
	}
	var p person
	if err := ion.Unmarshal(rows[0], &p); err != nil || p.Age != 1 {
		t.Errorf("row %+v %v", p, err)
	}
	if srv.Calls()["StartSession"] < 2 {
		t.Errorf("sessions started: %d, want a new one after the invalid session", srv.Calls()["StartSession"])
	}
}

func TestResultsArePaged(t *testing.T) {
	srv, d := newDriver(t, Options{PageSize: 2})
	exec(t, d, "CREATE TABLE People")
	for range 5 {
		exec(t, d, "INSERT INTO People ?", person{"fay", 2})
	}
	srv.ResetCalls()
	if got := len(exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "fay")); got != 5 {
		t.Fatalf("%d rows, want 5", got)
	}
	if got := srv.Calls()["FetchPage"]; got != 2 {
		t.Errorf("%d FetchPage calls for 5 rows in pages of 2, want 2", got)
	}
}

// TestRequestsMustBeSignedAsAWSRequires: the local ledger checks Signature
// Version 4 as AWS does, so a client that signs wrongly fails here first.
func TestRequestsMustBeSignedAsAWSRequires(t *testing.T) {
	hs := httptest.NewServer(New(Options{LedgerName: "test"}))
	defer hs.Close()
	body := []byte(`{"StartSession":{"LedgerName":"test"}}`)
	request := func(sign func(*http.Request)) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, hs.URL, bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "QLDBSession.SendCommand")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		sign(req)
		status, out := do(t, req)
		typ, _ := out["__type"].(string)
		return status, typ
	}
	signer := func(key, secret, service string, signed []byte) func(*http.Request) {
		return func(r *http.Request) {
			sum := sha256.Sum256(signed)
			err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), service, "eu-west-2", time.Now())
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		sign   func(*http.Request)
		status int
		typ    string
	}{
		{"signed", signer(AccessKeyID, SecretAccessKey, "qldb", body), 200, ""},
		{"unsigned", func(*http.Request) {}, 403, "MissingAuthenticationTokenException"},
		{"unknown key", signer("AKIDOTHER", SecretAccessKey, "qldb", body), 400, "UnrecognizedClientException"},
		{"wrong secret", signer(AccessKeyID, "guess", "qldb", body), 403, "InvalidSignatureException"},
		{"other service", signer(AccessKeyID, SecretAccessKey, "qldb-session", body), 403, "InvalidSignatureException"},
		{"body changed after signing", signer(AccessKeyID, SecretAccessKey, "qldb", []byte(`{}`)), 403, "InvalidSignatureException"},
	} {
		status, typ := request(tc.sign)
		if status != tc.status || !strings.HasSuffix(typ, tc.typ) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, typ, tc.status, tc.typ)
		}
	}
}

// A request signed as the official Node driver's SDK (aws-sdk v2 for
// JavaScript) signs it, over host;x-amz-content-sha256;x-amz-date;
// x-amz-target only, without content-length, is served, as AWS serves it;
// the same request changed in anything it signed is refused.
func TestSignatureCoversOnlyTheHeadersTheClientSigned(t *testing.T) {
	hs := httptest.NewServer(New(Options{LedgerName: "test"}))
	defer hs.Close()
	body := []byte(`{"StartSession":{"LedgerName":"test"}}`)
	// signed is a request signed without content-length: the SDK signer
	// signs it only when the request's length is known, and signs every
	// header set, so the request carries exactly the headers to sign.
	signed := func(region string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, hs.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		req.Header.Set("X-Amz-Target", "QLDBSession.SendCommand")
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		length := req.ContentLength
		req.ContentLength = -1
		creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "qldb", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		// Sent with its length and a content type, neither of them signed.
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		return req
	}
	send := func(req *http.Request) (int, string) {
		status, out := do(t, req)
		typ, _ := out["__type"].(string)
		return status, typ[strings.LastIndex(typ, "#")+1:]
	}

	req := signed("eu-west-2")
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-target,") {
		t.Fatalf("the request is not signed as the Node driver signs it: %s", auth)
	}
	if status, typ := send(req); status != http.StatusOK {
		t.Fatalf("a request signed without content-length: %d %s, want 200", status, typ)
	}
	req = signed("eu-west-2")
	req.Header.Set("Content-Type", "application/json")
	if status, typ := send(req); status != http.StatusOK {
		t.Errorf("a header the client did not sign changed: %d %s, want 200", status, typ)
	}

	for _, tc := range []struct {
		name   string
		change func(*http.Request)
		status int
		typ    string
	}{
		{"one byte of the signature changed", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			r.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[last == '0'])
		}, 403, "InvalidSignatureException"},
		{"the body changed after signing", func(r *http.Request) {
			changed := bytes.Replace(body, []byte(`"test"`), []byte(`"tesu"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(changed)), int64(len(changed))
		}, 403, "InvalidSignatureException"},
		{"the body and its declared hash changed after signing", func(r *http.Request) {
			changed := bytes.Replace(body, []byte(`"test"`), []byte(`"tesu"`), 1)
			sum := sha256.Sum256(changed)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(changed)), int64(len(changed))
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		}, 403, "InvalidSignatureException"},
		{"another region in the credential scope", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/eu-west-2/", "/eu-west-1/", 1))
		}, 403, "InvalidSignatureException"},
		{"the signed host altered", func(r *http.Request) {
			r.Host = strings.Replace(r.URL.Host, "127.0.0.1", "localhost", 1)
		}, 403, "InvalidSignatureException"},
		{"the signed x-amz-date altered", func(r *http.Request) {
			at, _ := time.Parse(amzDateLayout, r.Header.Get("X-Amz-Date"))
			r.Header.Set("X-Amz-Date", at.Add(time.Second).Format(amzDateLayout))
		}, 403, "InvalidSignatureException"},
		{"host left out of SignedHeaders", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
		}, 400, "IncompleteSignatureException"},
		{"x-amz-date left out of SignedHeaders", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date;", ";", 1))
		}, 400, "IncompleteSignatureException"},
	} {
		req := signed("eu-west-2")
		tc.change(req)
		if status, typ := send(req); status != tc.status || typ != tc.typ {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, typ, tc.status, tc.typ)
		}
	}
	if status, typ := send(signed("us-east-1")); status != http.StatusOK {
		t.Errorf("a request signed for another region throughout: %d %s, want 200 (the local ledger serves any region)", status, typ)
	}
}
