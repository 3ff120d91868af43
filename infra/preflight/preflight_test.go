package preflight_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/privateledger/licences/infra/preflight"
	"github.com/privateledger/licences/testdouble/awsapi"
)

// prod's reservations: 50 for the API, one for each other function.
var prod = map[string]int{"licences-prod-api": 50, "licences-prod-erase": 1, "licences-prod-migrate": 1, "licences-prod-digest": 1}

// aurora16 is what eu-west-2 offers of Aurora PostgreSQL 16, in the
// stand-in: the LTS minor, newer and older ones, one without Serverless v2.
var aurora16 = []awsapi.EngineVersion{
	{Engine: "aurora-postgresql", Version: "16.6", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	{Engine: "aurora-postgresql", Version: "16.8", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	{Engine: "aurora-postgresql", Version: "16.9", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	{Engine: "aurora-postgresql", Version: "16.10", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	{Engine: "aurora-postgresql", Version: "15.10", Family: "aurora-postgresql15", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
}

func checker(t *testing.T, a awsapi.Account) (*preflight.Checker, *awsapi.Server) {
	t.Helper()
	fake := awsapi.New(a)
	t.Cleanup(fake.Close)
	c, err := preflight.New(context.Background(), preflight.Access{
		Region: "eu-west-2", Endpoint: fake.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTANDIN", "standin", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func TestRefusesReservationsANewAccountCannotHold(t *testing.T) {
	t.Parallel()
	c, fake := checker(t, awsapi.Account{ConcurrentExecutions: 10})
	err := c.Concurrency(context.Background(), prod)
	ce, ok := errors.AsType[*preflight.ConcurrencyError](err)
	if !ok {
		t.Fatalf("Concurrency = %v, want a ConcurrencyError", err)
	}
	if ce.Limit != 10 || ce.Unreserved != 10 || ce.Adding != 53 || ce.Needed() != 153 {
		t.Errorf("limit %d, unreserved %d, adding %d, needed %d; want 10, 10, 53, 153", ce.Limit, ce.Unreserved, ce.Adding, ce.Needed())
	}
	for _, want := range []string{"Lambda concurrent executions", "L-B99A9384", "account concurrency limit needed is 153",
		"aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 153", "eu-west-2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
	for _, call := range fake.Calls() {
		if !strings.HasSuffix(call, " eu-west-2") {
			t.Errorf("call %s not signed for the stage's region", call)
		}
	}
}

func TestPassesWithEnoughUnreserved(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{153, 1000} {
		c, _ := checker(t, awsapi.Account{ConcurrentExecutions: limit})
		if err := c.Concurrency(context.Background(), prod); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	c, _ := checker(t, awsapi.Account{ConcurrentExecutions: 152})
	if err := c.Concurrency(context.Background(), prod); err == nil {
		t.Error("limit 152 passes: 53 reserved would leave 99 unreserved")
	}
}

// Deploying again: the functions hold their reservations already, which
// the unreserved count leaves out, so exactly 100 unreserved passes; a
// reservation raised counts only its increase.
func TestAgainWhenTheFunctionsHoldTheirReservations(t *testing.T) {
	t.Parallel()
	c, fake := checker(t, awsapi.Account{ConcurrentExecutions: 153, Functions: prod})
	if err := c.Concurrency(context.Background(), prod); err != nil {
		t.Errorf("re-up with 100 unreserved: %v", err)
	}
	if n := len(fake.Calls()); n != 1+len(prod) {
		t.Errorf("%d calls %v, want GetAccountSettings and one GetFunctionConcurrency per function", n, fake.Calls())
	}
	raised := map[string]int{"licences-prod-api": 60, "licences-prod-erase": 1, "licences-prod-migrate": 1, "licences-prod-digest": 1}
	err := c.Concurrency(context.Background(), raised)
	if ce, ok := errors.AsType[*preflight.ConcurrencyError](err); !ok || ce.Adding != 10 || ce.Needed() != 163 {
		t.Errorf("raising the API's reservation by 10 at 100 unreserved: %v, want 10 more refused, 163 needed", err)
	}
	// Another stage's functions hold their own: only this stage's count.
	partly := awsapi.Account{ConcurrentExecutions: 200, Functions: map[string]int{"licences-prod-api": 50, "other-fn": 47}}
	c, _ = checker(t, partly)
	if err := c.Concurrency(context.Background(), prod); err != nil {
		t.Errorf("3 new reservations at 103 unreserved, the API's held: %v; want them to pass, leaving 100", err)
	}
}

func TestReservingNothingAsksNothing(t *testing.T) {
	t.Parallel()
	c, fake := checker(t, awsapi.Account{ConcurrentExecutions: 10})
	if err := c.Concurrency(context.Background(), map[string]int{"licences-dev-api": 0}); err != nil {
		t.Error(err)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("calls %v for a stage that reserves nothing", calls)
	}
}

func TestEngineVersionPrefersLTS(t *testing.T) {
	t.Parallel()
	c, fake := checker(t, awsapi.Account{EngineVersions: aurora16})
	v, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MinCapacity: 0.5, MaxCapacity: 4})
	if err != nil || v != "16.8" {
		t.Errorf("EngineVersion = %q, %v; want the LTS 16.8", v, err)
	}
	if !slices.Equal(fake.Calls(), []string{"rds:DescribeDBEngineVersions eu-west-2"}) {
		t.Errorf("calls %v", fake.Calls())
	}
}

func TestEngineVersionWithoutLTSTakesTheNewest(t *testing.T) {
	t.Parallel()
	var noLTS []awsapi.EngineVersion
	for _, v := range aurora16 {
		if v.Version != "16.8" {
			noLTS = append(noLTS, v)
		}
	}
	c, _ := checker(t, awsapi.Account{EngineVersions: noLTS})
	if v, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MinCapacity: 0.5, MaxCapacity: 4}); err != nil || v != "16.10" {
		t.Errorf("EngineVersion = %q, %v; want the newest, 16.10", v, err)
	}
}

// A version is a candidate only where it runs Serverless v2 over the
// stage's range: the LTS without Serverless v2, or one that cannot pause
// for a stage at 0 ACU, is passed over.
func TestEngineVersionNeedsServerlessV2(t *testing.T) {
	t.Parallel()
	versions := []awsapi.EngineVersion{
		{Engine: "aurora-postgresql", Version: "16.8", Family: "aurora-postgresql16"},
		{Engine: "aurora-postgresql", Version: "16.6", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0.5, Max: 128}},
		{Engine: "aurora-postgresql", Version: "16.4", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	}
	c, _ := checker(t, awsapi.Account{EngineVersions: versions})
	if v, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MinCapacity: 0.5, MaxCapacity: 4}); err != nil || v != "16.6" {
		t.Errorf("at 0.5 ACU: %q, %v; want 16.6 (16.8 lacks Serverless v2)", v, err)
	}
	if v, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MinCapacity: 0, MaxCapacity: 1}); err != nil || v != "16.4" {
		t.Errorf("at 0 ACU: %q, %v; want 16.4, the one that pauses", v, err)
	}
	_, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql17", MinCapacity: 0.5, MaxCapacity: 4})
	if err == nil || !strings.Contains(err.Error(), "offers no aurora-postgresql17 version") || !strings.Contains(err.Error(), "eu-west-2") {
		t.Errorf("a family the region does not offer: %v, want a refusal naming it and the region", err)
	}
}

func TestAccessDeniedSaysWhatIsNeeded(t *testing.T) {
	t.Parallel()
	for op, call := range map[string]func(*preflight.Checker) error{
		"GetAccountSettings": func(c *preflight.Checker) error { return c.Concurrency(context.Background(), prod) },
		"GetFunctionConcurrency": func(c *preflight.Checker) error {
			return c.Concurrency(context.Background(), prod)
		},
		"DescribeDBEngineVersions": func(c *preflight.Checker) error {
			_, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MaxCapacity: 4})
			return err
		},
	} {
		c, _ := checker(t, awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16, Denied: []string{op}})
		err := call(c)
		if err == nil {
			t.Errorf("%s denied: no error", op)
			continue
		}
		for _, want := range []string{op, "not authorized", "the deploying identity needs", "LICENCES_PREFLIGHT=off"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s denied: %q does not say %q", op, err, want)
			}
		}
	}
}

// Without an explicit endpoint the SDK's own configuration applies,
// endpoint overrides included: how cmd/deploy's end-to-end test points
// the program at the stand-in. (Not parallel: it sets the environment.)
func TestHonoursTheSDKEndpointEnvironment(t *testing.T) {
	fake := awsapi.New(awsapi.Account{ConcurrentExecutions: 10, EngineVersions: aurora16})
	t.Cleanup(fake.Close)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", fake.URL)
	t.Setenv("AWS_ENDPOINT_URL_RDS", fake.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTANDIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "standin")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	c, err := preflight.New(context.Background(), preflight.Access{Region: "eu-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Check(context.Background(), preflight.Stage{Reservations: prod, Aurora: &preflight.Aurora{Family: "aurora-postgresql16", MaxCapacity: 4}})
	if _, ok := errors.AsType[*preflight.ConcurrencyError](err); !ok {
		t.Errorf("Check = %v, want the stand-in's account refused", err)
	}
	if _, err := c.EngineVersion(context.Background(), preflight.Aurora{Family: "aurora-postgresql16", MaxCapacity: 4}); err != nil {
		t.Error(err)
	}
	if n := len(fake.Calls()); n < 2 {
		t.Errorf("calls %v, want Lambda's and RDS's at the stand-in", fake.Calls())
	}
}
