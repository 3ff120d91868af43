package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestMain keeps every test off the EC2 instance metadata service: the AWS
// credential check must never reach past this machine.
func TestMain(m *testing.M) {
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// runCmd runs the command in-process with args and returns its exit code,
// stdout and stderr.
func runCmd(t *testing.T, stdin string, interactive bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, interactive)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no operation", nil, "usage:"},
		{"flag first", []string{"--stage", "dev"}, "usage:"},
		{"unknown operation", []string{"deploy", "--stage", "dev"}, `unknown operation "deploy"`},
		{"no stage", []string{"up", "--yes"}, "--stage is required"},
		{"stray argument", []string{"preview", "--stage", "dev", "extra"}, "unexpected arguments"},
		{"bad flag", []string{"preview", "--stag", "dev"}, "flag provided but not defined"},
		{"up without yes, not a terminal", []string{"up", "--stage", "dev"}, "refusing to up stage dev without --yes"},
		{"destroy without yes, not a terminal", []string{"destroy", "--stage", "dev"}, "without --yes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, "", false, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestConfirmationDeclined(t *testing.T) {
	code, _, stderr := runCmd(t, "n\n", true, "destroy", "--stage", "dev")
	if code != 1 || !strings.Contains(stderr, "cancelled") {
		t.Errorf("exit %d, stderr %q; want 1 and cancelled", code, stderr)
	}
}

func TestUnknownStageListsTheStages(t *testing.T) {
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "test")
	code, _, stderr := runCmd(t, "", false, "preview", "--stage", "qa", "--dir", "../..")
	if code != 2 || !strings.Contains(stderr, `unknown stage "qa"`) || !strings.Contains(stderr, "dev, prod, qldb") {
		t.Errorf("exit %d, stderr %q; want 2 naming dev, prod, qldb", code, stderr)
	}
}

func TestNoCLISaysHowToInstall(t *testing.T) {
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "test")
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := runCmd(t, "", false, "outputs", "--stage", "dev", "--dir", "../..")
	if code != 1 || !strings.Contains(stderr, "Pulumi CLI is not installed") || !strings.Contains(stderr, "--install-cli") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
