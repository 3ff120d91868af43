package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privateledger/licences/testdouble/apigateway"
	"github.com/privateledger/licences/testdouble/localapi"
	"github.com/privateledger/licences/testdouble/localpg"
)

var pg *localpg.Server

func TestMain(m *testing.M) { os.Exit(localpg.Main(m, &pg)) }

// licences runs the command line with args; the stage's apiUrl, where
// asked for, is stage.
func licences(t *testing.T, stage string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := cli{stdout: &out, stderr: &errOut, apiURL: func(_ context.Context, name, _, _ string) (string, error) {
		if stage == "" {
			return "", fmt.Errorf("stage %s has no apiUrl output: deploy it first", name)
		}
		return stage, nil
	}}
	code = c.run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// answer decodes a command's JSON answer.
func answer(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("the answer %q is not a JSON object: %v", stdout, err)
	}
	return m
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := licences(t, "", "--help")
	if code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "\n  "+c.name+" ") {
			t.Errorf("--help does not list %s:\n%s", c.name, out)
		}
		code, _, errOut := licences(t, "", c.name, "--help")
		if code != exitOK || !strings.Contains(errOut, "--url string") || !strings.Contains(errOut, "usage: licences "+c.name) {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, errOut)
		}
	}
}

// Every command against the local server on each engine, and the exit
// status of each kind of failure.
func TestEveryCommandOnEachEngine(t *testing.T) {
	for _, engine := range localapi.Engines {
		t.Run(engine, func(t *testing.T) {
			url := localapi.Serve(t, localapi.Open(t, engine, pg), "cli-test").URL
			run := func(want int, args ...string) map[string]any {
				t.Helper()
				code, out, errOut := licences(t, "", append(args, "--url", url)...)
				if code != want {
					t.Fatalf("licences %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
				}
				if want != exitOK {
					return nil
				}
				return answer(t, out)
			}
			made := run(exitOK, "create", "--first-name", "Jo", "--last-name", "Bloggs", "--email", "jo@example.com",
				"--telephone", "07700 900123", "--postcode", "sw1a 1aa", "--idempotency-key", "k1")
			id, _ := made["id"].(string)
			if made["telephone"] != "07700900123" || made["replayed"] != false || made["idempotencyKey"] != "k1" {
				t.Fatalf("create: %v", made)
			}
			again := run(exitOK, "create", "--first-name", "Jo", "--last-name", "Bloggs", "--email", "jo@example.com",
				"--telephone", "07700 900123", "--postcode", "sw1a 1aa", "--idempotency-key", "k1")
			if again["id"] != id || again["replayed"] != true {
				t.Errorf("create again: %v, want %s replayed", again, id)
			}
			run(exitRefused, "create", "--first-name", "Al", "--last-name", "Bloggs", "--email", "jo@example.com",
				"--telephone", "07700 900123", "--postcode", "sw1a 1aa")
			if got := run(exitOK, "contact", id, "--postcode", "ec1a 1bb"); got["postcode"] != "EC1A 1BB" {
				t.Errorf("contact: %v", got)
			}
			run(exitOK, "points", id, "--points", "3", "--reason", "speeding")
			if got := run(exitOK, "points", "--points", "-1", "--reason", "course", id); got["penaltyPoints"] != 2.0 {
				t.Errorf("points: %v", got)
			}
			if got := run(exitOK, "get", id); got["penaltyPoints"] != 2.0 {
				t.Errorf("get: %v", got)
			}
			page := run(exitOK, "history", id, "--limit", "2")
			if revs, _ := page["revisions"].([]any); len(revs) != 2 || page["next"] == "" {
				t.Errorf("a page of 2: %v", page)
			}
			all := run(exitOK, "history", id, "--all", "--limit", "2")
			if revs, _ := all["revisions"].([]any); len(revs) != 4 || all["next"] != nil {
				t.Errorf("--all: %v, want 4 revisions", all)
			}
			run(exitRefused, "erase", id)
			run(exitOK, "delete", id)
			run(exitRefused, "get", id)
			for {
				res := run(exitOK, "erase", id)
				if res["pending"] == 0.0 {
					if res["revisions"] != 4.0 {
						t.Errorf("erase: %v, want the 4 revisions that held data", res)
					}
					break
				}
			}
			run(exitUsage, "get")
			run(exitUsage, "contact", id)
			run(exitUsage, "history", id, "--all", "--next", "x")
			run(exitUsage, "frobnicate", id)
		})
	}
}

// With no answer, or only 503s past the timeout, the status says the API
// was unavailable; a wait is shown while it is waited out.
func TestUnavailableAPIs(t *testing.T) {
	const id = "J1ksizaGe7X1M87b5HKExk"
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if code, _, errOut := licences(t, "", "get", id, "--url", gone.URL); code != exitUnavailable {
		t.Errorf("no server: exit %d, want %d\n%s", code, exitUnavailable, errOut)
	}
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"requestId":"r1"}`)
	}))
	defer busy.Close()
	code, _, errOut := licences(t, "", "get", id, "--url", busy.URL, "--timeout", "2500ms")
	if code != exitUnavailable || !strings.Contains(errOut, "waiting 1s as its Retry-After asks") {
		t.Errorf("a busy API: exit %d, want %d and the wait shown\n%s", code, exitUnavailable, errOut)
	}
}

// --stage calls the stage's apiUrl, signed with the default credential
// chain (here, the environment); a wrong region is refused by the
// gateway's signature check.
func TestAStageIsCalledSigned(t *testing.T) {
	const principal = "arn:aws:sts::123456789012:assumed-role/licence-clerk/jo"
	keys := map[string]apigateway.Key{"AKIDCLERK": {Secret: "clerk-secret", Principal: principal}}
	stage := localapi.ServeSigned(t, localapi.Open(t, "aurora-postgresql", pg), "eu-west-2", keys).URL + "/test"
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDCLERK", "AWS_SECRET_ACCESS_KEY": "clerk-secret", "AWS_REGION": "eu-west-2",
		"AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	code, out, errOut := licences(t, stage, "create", "--stage", "dev", "--first-name", "Jo", "--last-name", "Bloggs",
		"--email", "jo@example.com", "--telephone", "07700 900123", "--postcode", "SW1A 1AA")
	if code != exitOK {
		t.Fatalf("signed create: exit %d\n%s", code, errOut)
	}
	made := answer(t, out)
	ev, _ := made["lastEvent"].(map[string]any)
	if actor, _ := ev["actor"].(map[string]any); actor["principal"] != principal {
		t.Errorf("recorded as %v, want %s", made["lastEvent"], principal)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	if code, _, errOut := licences(t, stage, "get", made["id"].(string), "--stage", "dev"); code != exitRefused || !strings.Contains(errOut, "Invalid signature") {
		t.Errorf("signed for another region: exit %d, want %d and Invalid signature\n%s", code, exitRefused, errOut)
	}
	if code, _, errOut := licences(t, "", "get", made["id"].(string), "--stage", "dev"); code != exitFailed || !strings.Contains(errOut, "deploy it first") {
		t.Errorf("a stage without outputs: exit %d, want %d\n%s", code, exitFailed, errOut)
	}
	if code, _, _ := licences(t, stage, "get", made["id"].(string), "--stage", "dev", "--url", stage); code != exitUsage {
		t.Errorf("--stage and --url: exit %d, want %d", code, exitUsage)
	}
}
