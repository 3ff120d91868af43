package infra

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
	"github.com/privateledger/licences/testdouble/awsapi"
)

// runProgram runs the program itself (run: configuration, preflight,
// stack) under mocks, as stage with cfg as its configuration, and returns
// its error and whether it got as far as building the handler, which it
// is handed instead. The preflight is off unless opts turn it on, so no
// test reaches AWS; none touches the process's environment either.
//
// It runs as a preview, as `pulumi preview` or the plan of an `up` does:
// the preflight is the same in both, and only an update (runUpdate) wakes
// the migration function, which must exist by then.
func runProgram(t *testing.T, m *mocks, stage string, cfg map[string]string, opts ...Option) (built bool, err error) {
	t.Helper()
	return runAs(t, true, m, stage, cfg, opts...)
}

// runUpdate is runProgram as an update.
func runUpdate(t *testing.T, m *mocks, stage string, cfg map[string]string, opts ...Option) (built bool, err error) {
	t.Helper()
	return runAs(t, false, m, stage, cfg, opts...)
}

func runAs(t *testing.T, preview bool, m *mocks, stage string, cfg map[string]string, opts ...Option) (built bool, err error) {
	t.Helper()
	p := program{build: func(context.Context, string) (function.Artifact, error) {
		built = true
		return testArtifact, nil
	}}
	for _, o := range opts {
		o(&p)
	}
	err = pulumi.RunErr(p.run, pulumi.WithMocks("licences", stage, m), func(info *pulumi.RunInfo) { info.Config, info.DryRun = cfg, preview })
	return built, err
}

// standinAWS starts a stand-in AWS for a and returns the option that
// points the preflight at it.
func standinAWS(t *testing.T, a awsapi.Account) (*awsapi.Server, Option) {
	t.Helper()
	fake := awsapi.New(a)
	t.Cleanup(fake.Close)
	return fake, WithPreflightEndpoint(fake.URL, credentials.NewStaticCredentialsProvider("AKIDSTANDIN", "standin", ""))
}

// aurora16 is what the stand-in region offers of Aurora PostgreSQL 16:
// the LTS minor among others, each with Serverless v2 from 0 ACU.
var aurora16 = func() []awsapi.EngineVersion {
	var out []awsapi.EngineVersion
	for _, v := range []string{"16.4", "16.6", "16.8", "16.9", "16.10"} {
		out = append(out, awsapi.EngineVersion{Engine: "aurora-postgresql", Version: v, Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}})
	}
	return out
}()

// prodFunctions are prod's functions holding the reservations prod makes.
var prodFunctions = map[string]int{"licences-prod-api": 50, "licences-prod-erase": 1, "licences-prod-migrate": 1, "licences-prod-digest": 1}

// A new account's Lambda concurrency (10) cannot hold prod's reservations:
// the program refuses before it registers anything, or builds anything,
// and says which quota to raise, to what, and how.
//
// Mutant: preflight/preflight.go `if adding > 0 && unreserved-adding < minUnreserved {` -> `if adding > 0 && unreserved < 0 {`
// Mutant: run.go `c, err := p.check(ctx.Context(), &cfg)` -> `c, err := &preflight.Checker{}, error(nil)`
func TestPreflightRefusesANewAccountBeforeAnythingIsRegistered(t *testing.T) {
	fake, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 10, EngineVersions: aurora16})
	m := &mocks{region: "eu-west-2"}
	built, err := runProgram(t, m, "prod", stackConfig(t, "prod", nil), endpoint)
	if err == nil {
		t.Fatal("prod deployed into an account with 10 concurrent executions")
	}
	for _, want := range []string{"Lambda concurrent executions", "L-B99A9384", "account concurrency limit needed is 153",
		"--service-code lambda --quota-code L-B99A9384 --desired-value 153", "Service Quotas console", "nothing was created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(m.resources) != 0 || built {
		t.Errorf("refused after registering %d resources (built the handler: %v), want none", len(m.resources), built)
	}
	if calls := fake.Calls(); len(calls) == 0 || calls[0] != "lambda:GetAccountSettings eu-west-2" {
		t.Errorf("calls %v, want GetAccountSettings first, in the stage's region", calls)
	}
}

// With room for its reservations the stage deploys, and its cluster is
// created with the LTS minor the region offers.
func TestPreflightPassesWithRoomAndChoosesTheLTSVersion(t *testing.T) {
	fake, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16})
	m := &mocks{region: "eu-west-2"}
	if _, err := runProgram(t, m, "prod", stackConfig(t, "prod", nil), endpoint); err != nil {
		t.Fatal(err)
	}
	d := &deployment{resources: m.resources}
	if v := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs["engineVersion"]; v != "16.8" {
		t.Errorf("cluster created with %v, want the LTS 16.8", v)
	}
	want := []string{"lambda:GetAccountSettings eu-west-2"}
	for range prodFunctions {
		want = append(want, "lambda:GetFunctionConcurrency eu-west-2")
	}
	want = append(want, "rds:DescribeDBEngineVersions eu-west-2")
	if got := fake.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
}

// Deploying again, the functions hold their reservations already: with
// exactly the 100 unreserved Lambda keeps, nothing is added, and the run
// passes.
func TestPreflightPassesADeployAgain(t *testing.T) {
	_, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 153, Functions: prodFunctions, EngineVersions: aurora16})
	if _, err := runProgram(t, &mocks{region: "eu-west-2"}, "prod", stackConfig(t, "prod", nil), endpoint); err != nil {
		t.Errorf("prod again, its reservations held, 100 unreserved: %v", err)
	}
	// The API's reservation raised by 10 at the same 100 unreserved is not.
	_, err := runProgram(t, &mocks{region: "eu-west-2"}, "prod", stackConfig(t, "prod", map[string]string{"licences:apiReservedConcurrency": "60"}), endpoint)
	if err == nil || !strings.Contains(err.Error(), "needed is 163") {
		t.Errorf("raising the reservation by 10 with 100 unreserved: %v, want a refusal needing 163", err)
	}
}

// A stage that reserves nothing asks Lambda nothing and deploys in a new
// account; dev pauses at 0 ACU, so its version must support that.
func TestPreflightOfStagesThatReserveNothing(t *testing.T) {
	only := []awsapi.EngineVersion{
		{Engine: "aurora-postgresql", Version: "16.8", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0.5, Max: 256}},
		{Engine: "aurora-postgresql", Version: "16.9", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	}
	fake, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 10, EngineVersions: only})
	m := &mocks{region: "eu-west-2"}
	if _, err := runProgram(t, m, "dev", stackConfig(t, "dev", nil), endpoint); err != nil {
		t.Fatal(err)
	}
	d := &deployment{resources: m.resources}
	if v := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs["engineVersion"]; v != "16.9" {
		t.Errorf("dev's cluster created with %v, want 16.9, the version that pauses", v)
	}
	if calls := fake.Calls(); !slices.Equal(calls, []string{"rds:DescribeDBEngineVersions eu-west-2"}) {
		t.Errorf("dev's calls %v, want DescribeDBEngineVersions only", calls)
	}
	fake, endpoint = standinAWS(t, awsapi.Account{ConcurrentExecutions: 10})
	if _, err := runProgram(t, &mocks{region: "eu-west-2"}, "qldb", stackConfig(t, "qldb", nil), endpoint); err != nil {
		t.Fatal(err)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("qldb's calls %v, want none: it reserves nothing and has no Aurora", calls)
	}
}

// What AWS refuses, or does not offer, stops the run before anything is
// registered, saying what is missing.
func TestPreflightFailuresStopTheRun(t *testing.T) {
	for name, tc := range map[string]struct {
		account awsapi.Account
		want    []string
	}{
		"no such engine family": {awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: []awsapi.EngineVersion{
			{Engine: "aurora-postgresql", Version: "15.10", Family: "aurora-postgresql15", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}}}},
			[]string{"offers no aurora-postgresql16 version", "eu-west-2"}},
		"settings denied": {awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16, Denied: []string{"GetAccountSettings"}},
			[]string{"GetAccountSettings", "AccessDeniedException", "lambda:GetAccountSettings", "LICENCES_PREFLIGHT=off"}},
		"engine versions denied": {awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16, Denied: []string{"DescribeDBEngineVersions"}},
			[]string{"DescribeDBEngineVersions", "AccessDenied", "rds:DescribeDBEngineVersions"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, endpoint := standinAWS(t, tc.account)
			m := &mocks{region: "eu-west-2"}
			_, err := runProgram(t, m, "prod", stackConfig(t, "prod", nil), endpoint)
			if err == nil {
				t.Fatal("the run went on")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if len(m.resources) != 0 {
				t.Errorf("%d resources registered before the refusal", len(m.resources))
			}
		})
	}
}

// Off, the preflight asks nothing and the cluster gets the pinned version.
func TestPreflightOff(t *testing.T) {
	fake, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 10, EngineVersions: aurora16})
	m := &mocks{region: "eu-west-2"}
	if _, err := runProgram(t, m, "prod", stackConfig(t, "prod", nil), endpoint, WithoutPreflight()); err != nil {
		t.Fatal(err)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("calls %v with the preflight off", calls)
	}
	d := &deployment{resources: m.resources}
	if v := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs["engineVersion"]; v != auroraEngineVersion {
		t.Errorf("cluster created with %v, want the pinned %s", v, auroraEngineVersion)
	}
	for v, want := range map[string]bool{"": true, "on": true, "off": false} {
		if on, err := preflightSetting(v); on != want || err != nil {
			t.Errorf("%s=%q: on %v, %v; want %v", PreflightEnv, v, on, err, want)
		}
	}
	if _, err := preflightSetting("no"); err == nil || !strings.Contains(err.Error(), PreflightEnv) {
		t.Errorf("%s=no: %v, want a refusal naming the variable", PreflightEnv, err)
	}
}

// The stage reaches AWS one way: the profile and role the preflight uses
// are the provider's too, and settings neither would honour are refused.
func TestTheProviderReachesAWSAsThePreflightDoes(t *testing.T) {
	d := mustDeploy(t, "prod", map[string]string{
		"aws:profile":    "licences-prod",
		"aws:assumeRole": `{"roleArn":"arn:aws:iam::123456789012:role/deployer","sessionName":"licences","externalId":"x-1","duration":"1h"}`,
	})
	p := d.one(t, "pulumi:providers:aws", "aws").Inputs
	role, _ := p["assumeRole"].(map[string]any)
	if p["profile"] != "licences-prod" || role["roleArn"] != "arn:aws:iam::123456789012:role/deployer" || role["sessionName"] != "licences" ||
		role["externalId"] != "x-1" || role["duration"] != "1h0m0s" {
		t.Errorf("provider profile %v, assumeRole %v; want the stack's", p["profile"], p["assumeRole"])
	}
	if d.config.AssumeRole == nil || d.config.AssumeRole.RoleARN != "arn:aws:iam::123456789012:role/deployer" || d.config.Profile != "licences-prod" {
		t.Errorf("config %+v, profile %q: the preflight would not use the stack's role and profile", d.config.AssumeRole, d.config.Profile)
	}
	for _, tc := range []struct{ key, value, want string }{
		{"aws:assumeRoles", `[{"roleArn":"arn:aws:iam::123456789012:role/deployer"}]`, "aws:assumeRoles is set"},
		{"aws:accessKey", "AKIDEXAMPLE", "aws:accessKey is set"},
		{"aws:endpoints", `[{"lambda":"http://localhost"}]`, "aws:endpoints is set"},
		{"aws:sharedConfigFiles", `["/tmp/config"]`, "aws:sharedConfigFiles is set"},
		{"aws:assumeRole", `{"roleArn":"arn:aws:iam::123456789012:role/deployer","policy":"{}"}`, "policy is not supported"},
		{"aws:assumeRole", `{"roleArn":"deployer"}`, "not an IAM role ARN"},
		{"aws:assumeRole", `{"roleArn":"arn:aws:iam::123456789012:role/deployer","duration":"5m"}`, "15m to 12h"},
		{"aws:assumeRole", `arn:aws:iam::123456789012:role/deployer`, "not an object"},
	} {
		_, err := deploy(t, "prod", stackConfig(t, "prod", map[string]string{tc.key: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %s: %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}
}

// A migration function idle long enough to be Inactive is woken, and the
// migration's invocation waits until it is Active: an update never sends
// the invocation Lambda would fail. A preview asks nothing.
//
// Mutant: stack.go `MigrationFunction: activated(ctx, fns[migrationPart].Name, o.activate),` -> `MigrationFunction: fns[migrationPart].Name,`
func TestTheMigrationWaitsForAnActiveFunction(t *testing.T) {
	const fn = "licences-dev-migrate"
	fake, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16,
		Functions: map[string]int{fn: 0}, States: map[string]string{fn: "Inactive"}, PendingPolls: 2})
	fast := func(p *program) { p.pollDelay = time.Millisecond }
	m := &mocks{region: "eu-west-2"}
	if _, err := runUpdate(t, m, "dev", stackConfig(t, "dev", nil), endpoint, fast); err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(fake.Calls(), ",")
	if !strings.Contains(calls, "lambda:GetFunctionConfiguration eu-west-2,lambda:Invoke eu-west-2,lambda:GetFunctionConfiguration") {
		t.Errorf("calls %s, want the function described, woken and waited for", calls)
	}
	inv := 0
	for _, r := range m.resources {
		if r.Type == "aws:lambda/invocation:Invocation" {
			inv++
			if r.Inputs["functionName"] != fn {
				t.Errorf("the migration invokes %v, want %s", r.Inputs["functionName"], fn)
			}
		}
	}
	if inv != 1 {
		t.Errorf("%d migration invocations, want 1", inv)
	}

	// A preview asks nothing of the function.
	before := len(fake.Calls())
	if _, err := runProgram(t, &mocks{region: "eu-west-2"}, "dev", stackConfig(t, "dev", nil), endpoint, fast); err != nil {
		t.Fatal(err)
	}
	if after := fake.Calls()[before:]; slices.ContainsFunc(after, func(c string) bool { return strings.Contains(c, "Function") || strings.Contains(c, "Invoke") }) {
		t.Errorf("a preview called %v", after)
	}

	// A function that cannot be woken fails the update, naming it.
	broken, endpoint := standinAWS(t, awsapi.Account{ConcurrentExecutions: 1000, EngineVersions: aurora16,
		Functions: map[string]int{fn: 0}, States: map[string]string{fn: "Failed"}})
	if _, err := runUpdate(t, &mocks{region: "eu-west-2"}, "dev", stackConfig(t, "dev", nil), endpoint, fast); err == nil ||
		!strings.Contains(err.Error(), fn) || !strings.Contains(err.Error(), "Failed") {
		t.Errorf("a failed migration function: %v, calls %v", err, broken.Calls())
	}
}
