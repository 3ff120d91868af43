package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privateledger/licences/function/schema"
	"github.com/privateledger/licences/testdouble/localpg"
	"github.com/privateledger/licences/testdouble/localqldb"

	"github.com/privateledger/licences/function/env"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// bootstrapBinary builds this command for the host, as Lambda runs it
// (lambda.norpc), once per test run.
func bootstrapBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bootstrap-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "bootstrap")
		out, err := exec.Command("go", "build", "-tags=lambda.norpc", "-trimpath", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// runtimeAPI is a stand-in for Lambda's Runtime API: it hands out the
// queued events in turn and records what the function answers.
type runtimeAPI struct {
	events    chan []byte
	firstNext chan time.Time
	once      sync.Once

	mu      sync.Mutex
	answers []answer
	done    chan struct{}
}

type answer struct {
	ok   bool // response (true) or error (false)
	body []byte
}

func newRuntimeAPI(events ...[]byte) *runtimeAPI {
	r := &runtimeAPI{events: make(chan []byte, len(events)), firstNext: make(chan time.Time, 1), done: make(chan struct{}, len(events)+1)}
	for _, e := range events {
		r.events <- e
	}
	return r
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
		r.once.Do(func() { r.firstNext <- time.Now() })
		select {
		case ev := <-r.events:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", itoa(time.Now().Add(30*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-2:123456789012:function:test")
			_, _ = w.Write(ev) // the function reads it or the test times out
		case <-req.Context().Done():
		}
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/response"),
		req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/error"):
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.answers = append(r.answers, answer{strings.HasSuffix(req.URL.Path, "/response"), b})
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		r.done <- struct{}{}
	default:
		http.NotFound(w, req)
	}
}

// stop ends a process the test started; it is killed, so its exit status
// says nothing.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// invoke runs the binary as entrypoint against the runtime stand-in with a
// local ledger, feeds it the events and returns its answers.
func invoke(t *testing.T, ledger string, entrypoint string, evs ...[]byte) []answer {
	t.Helper()
	return invokeWith(t, []string{"LEDGER_ENGINE=qldb", "LEDGER_NAME=licences-test", "QLDB_SESSION_ENDPOINT=" + ledger}, entrypoint, evs...)
}

// invokeWith runs the binary with the store settings in env.
func invokeWith(t *testing.T, env []string, entrypoint string, evs ...[]byte) []answer {
	t.Helper()
	answers, _ := invokeLogged(t, env, entrypoint, evs...)
	return answers
}

// invokeLogged runs the binary with the store settings in env and returns
// its answers and what it logged.
func invokeLogged(t *testing.T, env []string, entrypoint string, evs ...[]byte) ([]answer, string) {
	t.Helper()
	rt := newRuntimeAPI(evs...)
	rts := httptest.NewServer(rt)
	defer rts.Close()
	cmd := exec.Command(bootstrapBinary(t))
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rts.URL, "http://"),
		"_HANDLER=" + entrypoint,
		"CORS_ALLOW_ORIGIN=*",
		"HOME=" + t.TempDir(),
	}, env...)
	var stderr, stdout syncBuffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range evs {
		select {
		case <-rt.done:
		case <-time.After(20 * time.Second):
			stop(cmd)
			t.Fatalf("no answer from the function; stderr: %s", stderr.String())
		}
	}
	// Stopped, and waited for, before its output is read: the copy of
	// what it wrote last ends with Wait.
	stop(cmd)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.answers, stdout.String()
}

// syncBuffer is a buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func localLedger(t *testing.T) string {
	hs := httptest.NewServer(localqldb.New(localqldb.Options{LedgerName: "licences-test"}))
	t.Cleanup(hs.Close)
	return hs.URL
}

func event(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMigrateEntrypointIsIdempotentAndSparesTheSchemaOnDelete(t *testing.T) {
	ledger := localLedger(t)
	create := event(t, map[string]any{"schemaVersion": schema.Version, "schema": schema.Fingerprint()})
	again := event(t, map[string]any{"schemaVersion": schema.Version, "schema": schema.Fingerprint()})
	// The last invocation a stage deployed under the CRUD lifecycle scope
	// receives, when the stack moves on.
	del := event(t, map[string]any{"schemaVersion": schema.Version, "tf": map[string]any{"action": "delete"}})
	wrong := event(t, map[string]any{"schemaVersion": schema.Version + 1, "schema": schema.Fingerprint()})
	otherSchema := event(t, map[string]any{"schemaVersion": schema.Version, "schema": strings.Repeat("0", 64)})
	// A deploy waking the function before it migrates: it changes nothing.
	activate := []byte(schema.ActivationEvent)
	got := invoke(t, ledger, "migrate", activate, create, again, del, wrong, otherSchema)
	if len(got) != 6 {
		t.Fatalf("%d answers, want 6", len(got))
	}
	if !got[0].ok || !strings.Contains(string(got[0].body), "activation") {
		t.Errorf("activation: %s", got[0].body)
	}
	got = got[1:]
	var first, second struct {
		CreatedTables  []string
		CreatedIndexes []string
	}
	if err := errors.Join(json.Unmarshal(got[0].body, &first), json.Unmarshal(got[1].body, &second)); err != nil {
		t.Fatalf("answers %s and %s: %v", got[0].body, got[1].body, err)
	}
	if !got[0].ok || len(first.CreatedTables) != 2 || len(first.CreatedIndexes) != 3 {
		t.Errorf("create: %s", got[0].body)
	}
	if !got[1].ok || len(second.CreatedTables) != 0 || len(second.CreatedIndexes) != 0 {
		t.Errorf("update changed the schema again: %s", got[1].body)
	}
	if !got[2].ok || !strings.Contains(string(got[2].body), "skipped") {
		t.Errorf("delete: %s", got[2].body)
	}
	if got[3].ok || !strings.Contains(string(got[3].body), "schema version") {
		t.Errorf("a schema version this code does not create must fail the deploy: %s", got[3].body)
	}
	if got[4].ok || !strings.Contains(string(got[4].body), "deploy the matching code") {
		t.Errorf("a schema this code does not hold must fail the deploy: %s", got[4].body)
	}
}

func TestAPIEntrypointServesProxyEvents(t *testing.T) {
	ledger := localLedger(t)
	invoke(t, ledger, "migrate", event(t, map[string]any{"schemaVersion": schema.Version, "schema": schema.Fingerprint()}))
	post := proxyEvent(t, "POST", "/licences", clerk, `{"firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`)
	anonymous := proxyEvent(t, "POST", "/licences", "", `{"firstName":"Al","lastName":"Bloggs","email":"al@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`)
	erasure := proxyEvent(t, "POST", "/licences/AAAAAAAAAAAAAAAAAAAAAA/erasure", clerk, "")
	// A body marked base64 that is not: a 400 problem, not a failed
	// invocation (which API Gateway would answer 502); one that is, decoded.
	notBase64 := event(t, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/licences", Resource: "/licences",
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}}, Body: "{not base64!", IsBase64Encoded: true,
		RequestContext: events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{UserArn: clerk}}})
	base64Body := event(t, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/licences", Resource: "/licences",
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}}, IsBase64Encoded: true,
		Body:           base64.StdEncoding.EncodeToString([]byte(`{"firstName":"Bo","lastName":"Bloggs","email":"bo@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`)),
		RequestContext: events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{UserArn: clerk}}})
	got := invoke(t, ledger, "api", post, anonymous, erasure, notBase64, base64Body)
	if res := response(t, got[3]); res.StatusCode != 400 || !strings.Contains(res.Body, "base64") || !strings.Contains(res.Body, "requestId") {
		t.Errorf("a body that is not base64: %d %s, want a 400 problem", res.StatusCode, res.Body)
	}
	if res := response(t, got[4]); res.StatusCode != 201 {
		t.Errorf("a base64 body: %d %s, want 201", res.StatusCode, res.Body)
	}
	res := response(t, got[0])
	loc := res.MultiValueHeaders["Location"]
	if res.StatusCode != 201 || len(loc) != 1 || !strings.HasPrefix(loc[0], "/licences/") || !strings.Contains(res.Body, clerk) {
		t.Errorf("response %d %v %s, want 201 with a Location, made by %s", res.StatusCode, res.MultiValueHeaders, res.Body, clerk)
	}
	if res := response(t, got[1]); res.StatusCode != 403 {
		t.Errorf("a request API Gateway did not authenticate: %d %s, want 403", res.StatusCode, res.Body)
	}
	if res := response(t, got[2]); res.StatusCode != 404 {
		t.Errorf("the erasure route on the API function: %d %s, want 404", res.StatusCode, res.Body)
	}
}

// clerk is the caller API Gateway authenticated in these tests.
const clerk = "arn:aws:sts::123456789012:assumed-role/licence-clerk/jo"

// proxyEvent is a proxy request from API Gateway, authenticated as
// principal unless it is "".
func proxyEvent(t *testing.T, method, path, principal, body string) []byte {
	return event(t, events.APIGatewayProxyRequest{
		HTTPMethod: method, Path: path, Resource: path,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
		Body:              body,
		RequestContext:    events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{UserArn: principal}},
	})
}

func response(t *testing.T, a answer) events.APIGatewayProxyResponse {
	t.Helper()
	var res events.APIGatewayProxyResponse
	if err := json.Unmarshal(a.body, &res); err != nil || !a.ok {
		t.Fatalf("answer %s: %v", a.body, err)
	}
	return res
}

// execBootstrap is the binary as a command with env and a home of its own.
func execBootstrap(t *testing.T, env []string) *exec.Cmd {
	cmd := exec.Command(bootstrapBinary(t))
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, env...)
	return cmd
}

func TestUnknownEntrypointFails(t *testing.T) {
	cmd := exec.Command(bootstrapBinary(t))
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "_HANDLER=nope", "LEDGER_ENGINE=qldb", "LEDGER_NAME=x", "QLDB_SESSION_ENDPOINT=http://127.0.0.1:1", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown entrypoint") {
		t.Errorf("err %v, output %s: want a clear failure", err, out)
	}
}

// BenchmarkColdStart measures the handler's cold start on each engine,
// side by side: from starting the process to its first request for an
// event from the Runtime API, with the environment the stack gives the
// API function (no ledger answers: nothing before /next may need one).
func BenchmarkColdStart(b *testing.B) {
	bin := bootstrapBinary(b)
	home := b.TempDir()
	for _, engine := range []struct {
		name string
		env  []string
	}{
		{"qldb", []string{"LEDGER_ENGINE=qldb", "LEDGER_NAME=licences-test", "QLDB_SESSION_ENDPOINT=http://127.0.0.1:1"}},
		{"aurora-postgresql", []string{"LEDGER_ENGINE=aurora-postgresql", "DB_HOST=licences-dev.cluster-x.eu-west-2.rds.amazonaws.com",
			"DB_PORT=5432", "DB_NAME=licences", "DB_USER=licences_api", "DB_RELEASE_IDLE=true"}},
	} {
		b.Run(engine.name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				rt := newRuntimeAPI()
				rts := httptest.NewServer(rt)
				cmd := exec.Command(bin)
				cmd.Env = append([]string{
					"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rts.URL, "http://"), "_HANDLER=api", "HOME=" + home,
					"AWS_REGION=eu-west-2", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=token",
				}, engine.env...)
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				first := <-rt.firstNext
				total += first.Sub(start)
				stop(cmd)
				rts.Close()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-next")
		})
	}
}

func TestAuroraEngineNeedsItsSettings(t *testing.T) {
	cmd := exec.Command(bootstrapBinary(t))
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "_HANDLER=api", "LEDGER_ENGINE=aurora-postgresql", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs DB_HOST, DB_PORT and DB_NAME") {
		t.Errorf("err %v, output %s: want a clear failure", err, out)
	}
}

func TestPostgresEngineMigratesAndServes(t *testing.T) {
	pg := localpg.StartForTest(t)
	env := []string{"LEDGER_ENGINE=aurora-postgresql", "DATABASE_URL=" + pg.URL, "DB_USER=licences_api"}
	got := invokeWith(t, env, "migrate", event(t, map[string]any{"schemaVersion": schema.Version, "schema": schema.Fingerprint()}))
	if !got[0].ok {
		t.Fatalf("migrate: %s", got[0].body)
	}
	post := proxyEvent(t, "POST", "/licences", clerk, `{"firstName":"Jo","lastName":"Bloggs","email":"jo@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`)
	got = invokeWith(t, env, "api", post)
	if res := response(t, got[0]); res.StatusCode != 201 {
		t.Fatalf("create on postgres: %d %s", res.StatusCode, res.Body)
	}
}

// Every engine has its opener, and the handler refuses one it does not
// know instead of opening another.
func TestOpenLedgerRefusesAnUnknownEngine(t *testing.T) {
	for _, e := range env.Engines() {
		if ledgerOpeners[e] == nil {
			t.Errorf("no opener for %s", e)
		}
	}
	_, err := openLedger(context.Background(), env.Config{Engine: "mysql"}, true)
	if err == nil || !strings.Contains(err.Error(), `"mysql"`) {
		t.Errorf("openLedger(mysql) = %v, want a refusal naming it", err)
	}
}
