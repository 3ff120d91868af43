package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/schema"
	"github.com/privateledger/licences/testdouble/localpg"
	"github.com/privateledger/licences/testdouble/locals3"
)

// postgresLedger is a migrated local PostgreSQL, and the environment each
// function would run with on it (its own user).
func postgresLedger(t *testing.T) (url string, as func(user string, more ...string) []string) {
	t.Helper()
	pg := localpg.StartForTest(t)
	as = func(user string, more ...string) []string {
		return append([]string{"LEDGER_ENGINE=aurora-postgresql", "DATABASE_URL=" + pg.URL, "DB_USER=" + user}, more...)
	}
	got := invokeWith(t, as("licences_api"), "migrate", event(t, map[string]any{"schemaVersion": schema.Version, "schema": schema.Fingerprint()}))
	if !got[0].ok {
		t.Fatalf("migrate: %s", got[0].body)
	}
	return pg.URL, as
}

// The erase function erases, as its own user, and serves nothing else.
func TestEraseEntrypointErasesAndServesNothingElse(t *testing.T) {
	_, as := postgresLedger(t)
	created := response(t, invokeWith(t, as("licences_api"), "api",
		proxyEvent(t, "POST", "/licences", clerk, `{"firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`))[0])
	var l struct{ ID string }
	if err := json.Unmarshal([]byte(created.Body), &l); err != nil || created.StatusCode != 201 {
		t.Fatalf("create: %d %s", created.StatusCode, created.Body)
	}
	officer := "arn:aws:iam::123456789012:user/privacy-officer"
	erase := proxyEvent(t, "POST", "/licences/"+l.ID+"/erasure", officer, "")
	got := invokeWith(t, as("licences_eraser"), "erase",
		erase,
		proxyEvent(t, "GET", "/licences/"+l.ID, officer, ""),
	)
	if res := response(t, got[0]); res.StatusCode != 409 {
		t.Errorf("erasing a live licence: %d %s, want 409", res.StatusCode, res.Body)
	}
	if res := response(t, got[1]); res.StatusCode != 404 {
		t.Errorf("the erase function on a licence route: %d %s, want 404", res.StatusCode, res.Body)
	}
	if res := response(t, invokeWith(t, as("licences_api"), "api", proxyEvent(t, "DELETE", "/licences/"+l.ID, clerk, ""))[0]); res.StatusCode != 204 {
		t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
	}
	res := response(t, invokeWith(t, as("licences_eraser"), "erase", erase)[0])
	if res.StatusCode != 200 || !strings.Contains(res.Body, officer) || !strings.Contains(res.Body, `"revisions":1`) {
		t.Errorf("erasure: %d %s, want 200 with the officer as its actor", res.StatusCode, res.Body)
	}
	// The API's user cannot erase: the API function holding the eraser's
	// route would still be refused by the database.
	if res := response(t, invokeWith(t, as("licences_api"), "erase", erase)[0]); res.StatusCode != 500 {
		t.Errorf("erasing as the API's user: %d %s, want the database to refuse", res.StatusCode, res.Body)
	}
}

// The digest function verifies the ledger against the newest digest in
// the bucket and writes a new one; once the ledger is tampered with, it
// fails, publishes the failure, and writes nothing.
func TestDigestEntrypointVerifiesThenWrites(t *testing.T) {
	url, as := postgresLedger(t)
	s3 := locals3.New("digests")
	// The role may read and write the digest and list the bucket, as the
	// stack's digest role may (infra's TestTheDigestRunsAgainstS3AsPlanned
	// runs the same code under the plan's own policies).
	if err := s3.Authorize(locals3.Access{Principal: "arn:aws:iam::123456789012:role/licences-test-digest", Identity: []string{`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Digests","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::digests/` + DigestKey + `"]},` +
		`{"Sid":"ListDigests","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::digests"]}]}`}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s3)
	t.Cleanup(hs.Close)
	digestEnv := as("licences_digest", "DIGEST_BUCKET=digests", "S3_ENDPOINT="+hs.URL, "STAGE=test")
	for _, email := range []string{"a@example.com", "b@example.com"} {
		invokeWith(t, as("licences_api"), "api", proxyEvent(t, "POST", "/licences", clerk, `{"firstName":"Jo","lastName":"Bloggs","email":"`+email+`","telephone":"07700900123","postcode":"SW1A 1AA"}`))
	}
	got, logged := invokeLogged(t, digestEnv, "digest", []byte(`{}`), []byte(`{}`))
	var first, second digestResult
	if err := json.Unmarshal(got[0].body, &first); err != nil || !got[0].ok || !first.Verified || first.Position != 2 || first.Previous != 0 {
		t.Fatalf("first run: %s", got[0].body)
	}
	if err := json.Unmarshal(got[1].body, &second); err != nil || !got[1].ok || second.Previous != 2 || first.Full == second.Full || !first.Full {
		t.Fatalf("second run: %s; want the first to verify everything, the second what changed since", got[1].body)
	}
	if !strings.Contains(logged, `"LedgerVerified":1`) || !strings.Contains(logged, `"Namespace":"Licences/test"`) || !strings.Contains(logged, `"Dimensions":[[]]`) {
		t.Errorf("no metric in the log: %s", logged)
	}
	if n := len(s3.Versions("digests", DigestKey)); n != 2 {
		t.Fatalf("%d digests written, want 2", n)
	}
	// An insider removes the newest revision and the tip that counts it.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // the test is over by then
	for _, stmt := range []string{
		`SET session_replication_role = replica`,
		`DELETE FROM licences WHERE id = (SELECT licence_id FROM licence_history WHERE ledger_seq = 2)`,
		`DELETE FROM licence_history WHERE ledger_seq = 2`,
		`UPDATE ledger_tip SET seq = 1, hash = licence_ledger_link(''::bytea, 1, (SELECT hash FROM licence_history WHERE ledger_seq = 1))`,
	} {
		if _, err := conn.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	got, logged = invokeLogged(t, digestEnv, "digest", []byte(`{}`), []byte(`{"full": true}`))
	for i, run := range []string{"what changed", "everything"} {
		if got[i].ok || !strings.Contains(string(got[i].body), "entries were removed") {
			t.Errorf("after tampering, verifying %s: %s, want a failure naming the removal", run, got[i].body)
		}
	}
	if !strings.Contains(logged, `"LedgerVerified":0`) {
		t.Errorf("the failure published no metric: %s", logged)
	}
	if n := len(s3.Versions("digests", DigestKey)); n != 2 {
		t.Errorf("%d digests after a failed verification, want the 2 good ones", n)
	}
}

// A QLDB stage has no digest function: the journal keeps its own digests.
func TestDigestEntrypointRefusesQLDB(t *testing.T) {
	got := invokeWithout(t, []string{"LEDGER_ENGINE=qldb", "LEDGER_NAME=licences-test", "QLDB_SESSION_ENDPOINT=" + localLedger(t)}, "digest")
	if !strings.Contains(got, "for the aurora-postgresql engine") {
		t.Errorf("output %s: want a clear refusal", got)
	}
}

// invokeWithout runs the binary as entrypoint with no events and returns
// what it wrote when it failed to start.
func invokeWithout(t *testing.T, env []string, entrypoint string) string {
	t.Helper()
	rt := newRuntimeAPI()
	rts := httptest.NewServer(rt)
	defer rts.Close()
	cmd := execBootstrap(t, append([]string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rts.URL, "http://"), "_HANDLER=" + entrypoint}, env...))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("the %s entrypoint started: %s", entrypoint, out)
	}
	return string(out)
}

// Where the stage pauses at 0 ACU, a function closes its connection after
// every invocation, so a frozen Lambda instance never keeps the database
// awake; elsewhere it keeps it for the next request.
func TestAPausingStageHoldsNoConnectionBetweenInvocations(t *testing.T) {
	url, as := postgresLedger(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // the test is over by then
	held := func() int {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE usename = 'licences_api'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		release string
		want    int
	}{{"false", 1}, {"true", 0}} {
		get := proxyEvent(t, "GET", "/licences/AAAAAAAAAAAAAAAAAAAAAA", clerk, "")
		rt := newRuntimeAPI(get, get)
		rts := httptest.NewServer(rt)
		cmd := execBootstrap(t, append(as("licences_api", "DB_RELEASE_IDLE="+c.release), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(rts.URL, "http://"), "_HANDLER=api"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			<-rt.done
		}
		// The runtime stand-in holds the next request: the instance is
		// between invocations, as a frozen one is.
		time.Sleep(100 * time.Millisecond)
		got := held()
		stop(cmd)
		rts.Close()
		if got != c.want {
			t.Errorf("DB_RELEASE_IDLE=%s: %d connections held between invocations, want %d", c.release, got, c.want)
		}
		if res := response(t, rt.answers[1]); res.StatusCode != 404 {
			t.Errorf("the second request: %d %s", res.StatusCode, res.Body)
		}
	}
}
