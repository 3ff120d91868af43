package preflight_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/privateledger/licences/infra/preflight"
	"github.com/privateledger/licences/testdouble/awsapi"
)

func activator(t *testing.T, a awsapi.Account) (*preflight.Checker, *awsapi.Server) {
	t.Helper()
	fake := awsapi.New(a)
	t.Cleanup(fake.Close)
	c, err := preflight.New(context.Background(), preflight.Access{
		Region: "eu-west-2", Endpoint: fake.URL, PollDelay: 10 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTANDIN", "standin", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

const migrate = "licences-prod-migrate"

// A function idle for weeks is Inactive: Activate invokes it once, which
// fails (ResourceNotReadyException) and starts its reactivation, then waits
// until it is Active, so the deploy's invocation reaches running code.
func TestActivateWakesAnInactiveFunction(t *testing.T) {
	t.Parallel()
	c, fake := activator(t, awsapi.Account{Functions: map[string]int{migrate: 1}, States: map[string]string{migrate: "Inactive"}, PendingPolls: 3})
	if err := c.Activate(context.Background(), migrate); err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(fake.Calls(), ",")
	want := "lambda:GetFunctionConfiguration eu-west-2,lambda:Invoke eu-west-2,lambda:GetFunctionConfiguration eu-west-2"
	if !strings.HasPrefix(calls, want) || strings.Count(calls, "Invoke") != 1 {
		t.Errorf("calls %s, want one Invoke between descriptions, then waiting", calls)
	}
	// And now it is active: nothing more is invoked.
	if err := c.Activate(context.Background(), migrate); err != nil || strings.Count(strings.Join(fake.Calls(), ","), "Invoke") != 1 {
		t.Errorf("activating an active function: %v, calls %v", err, fake.Calls())
	}
}

// An active function is only described; a failed one is an error that says
// so; a missing one is the API's error.
func TestActivateLeavesActiveFunctionsAlone(t *testing.T) {
	t.Parallel()
	c, fake := activator(t, awsapi.Account{Functions: map[string]int{migrate: 1, "broken": 0}, States: map[string]string{"broken": "Failed"}})
	if err := c.Activate(context.Background(), migrate); err != nil || len(fake.Calls()) != 1 {
		t.Errorf("active: %v, calls %v", err, fake.Calls())
	}
	if err := c.Activate(context.Background(), "broken"); err == nil || !strings.Contains(err.Error(), "Failed") {
		t.Errorf("failed function: %v", err)
	}
	if err := c.Activate(context.Background(), "missing"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing function: %v", err)
	}
}
