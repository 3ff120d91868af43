package awsapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// signed is a request carrying a SigV4 credential scope for service in
// eu-west-2 (the stand-in reads the scope, not the signature); none for
// no service.
func signed(t *testing.T, method, target, service, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if service != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSTANDIN/20260101/eu-west-2/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// What the stand-in does not implement is refused, saying what it was,
// never answered with a guess.
func TestRefusesWhatItDoesNotImplement(t *testing.T) {
	s := New(Account{ConcurrentExecutions: 1000})
	defer s.Close()
	form := func(v url.Values) string { return v.Encode() }
	for _, tc := range []struct {
		name, method, path, service, body string
		status                            int
		want                              string
	}{
		{"unsigned", http.MethodGet, "/2016-08-19/account-settings", "", "", http.StatusBadRequest, "not signed"},
		{"another Lambda operation", http.MethodGet, "/2015-03-31/functions/", "lambda", "", http.StatusNotImplemented, "/2015-03-31/functions/"},
		{"a put", http.MethodPut, "/2017-10-31/functions/f/concurrency", "lambda", "", http.StatusNotImplemented, "PUT"},
		{"another RDS action", http.MethodPost, "/", "rds", form(url.Values{"Action": {"CreateDBCluster"}, "Version": {"2014-10-31"}}), http.StatusNotImplemented, "CreateDBCluster"},
		{"an unknown parameter", http.MethodPost, "/", "rds", form(url.Values{"Action": {"DescribeDBEngineVersions"}, "Version": {"2014-10-31"}, "IncludeAll": {"true"}}), http.StatusNotImplemented, "IncludeAll"},
		{"another service", http.MethodPost, "/", "sts", form(url.Values{"Action": {"GetCallerIdentity"}}), http.StatusNotImplemented, "sts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := signed(t, tc.method, s.URL+tc.path, tc.service, tc.body)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %q, want %d naming %q", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("refused requests were recorded as calls: %v", calls)
	}
}

// The unreserved executions are what the functions' reservations leave.
func TestUnreservedIsWhatReservationsLeave(t *testing.T) {
	s := New(Account{ConcurrentExecutions: 153, Functions: map[string]int{"a": 50, "b": 3, "c": 0}})
	defer s.Close()
	b, _ := io.ReadAll(signed(t, http.MethodGet, s.URL+"/2016-08-19/account-settings", "lambda", "").Body)
	if !strings.Contains(string(b), `"ConcurrentExecutions":153`) || !strings.Contains(string(b), `"UnreservedConcurrentExecutions":100`) {
		t.Errorf("account settings %s, want 153 and 100 unreserved", b)
	}
	resp := signed(t, http.MethodGet, s.URL+"/2019-09-30/functions/missing/concurrency", "lambda", "")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("an unknown function: %d %s, want 404 ResourceNotFoundException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
