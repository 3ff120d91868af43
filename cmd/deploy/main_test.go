package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
		{"bad flag", []string{"preview", "--stag", "dev"}, "flag provided but not defined: --stag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, "", false, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// ready makes everything an operation checks before the engine starts
// present: a passphrase, AWS credentials, and a Pulumi CLI (a stand-in
// that only says its version, which is all the checks ask of it). It
// returns the CLI's root.
func ready(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"PULUMI_CONFIG_PASSPHRASE": "test", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
	} {
		t.Setenv(k, v)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "pulumi"), []byte("#!/bin/sh\necho v"+pulumiVersion+"\n"), 0o700); err != nil { //nolint:gosec // G306: the stand-in must run
		t.Fatal(err)
	}
	return root
}

// An operation that changes the stage is confirmed on a terminal, and
// refused with 2 without one.
func TestChangesAreConfirmed(t *testing.T) {
	root := ready(t)
	for _, op := range []string{"up", "refresh", "destroy"} {
		code, _, stderr := runCmd(t, "y\n", false, op, "--stage", "dev", "--dir", "../..", "--pulumi-root", root)
		if code != 2 || !strings.Contains(stderr, "refusing to "+op+" stage dev without --yes: standard input is not a terminal") {
			t.Errorf("%s, not a terminal: exit %d, stderr %q; want 2", op, code, stderr)
		}
	}
	code, _, stderr := runCmd(t, "n\n", true, "destroy", "--stage", "dev", "--dir", "../..", "--pulumi-root", root)
	if code != 1 || !strings.Contains(stderr, "destroy stage dev? [y/N]") || !strings.Contains(stderr, "cancelled") {
		t.Errorf("declined: exit %d, stderr %q; want 1 and cancelled", code, stderr)
	}
}

// Whatever would stop the operation is found before anyone is asked.
func TestChecksComeBeforeTheQuestion(t *testing.T) {
	for _, c := range []struct {
		name  string
		unset string
		want  string
	}{
		{"no passphrase", "PULUMI_CONFIG_PASSPHRASE", "no secrets passphrase"},
		{"no credentials", "AWS_ACCESS_KEY_ID", "no AWS credentials"},
		{"no CLI", "", "Pulumi CLI is not installed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := ready(t)
			if c.unset != "" {
				t.Setenv(c.unset, "")
			} else {
				root = t.TempDir()
			}
			code, _, stderr := runCmd(t, "y\n", true, "up", "--stage", "dev", "--dir", "../..", "--pulumi-root", root)
			if code != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "[y/N]") {
				t.Errorf("exit %d, stderr %q; want 1, %q, and no question", code, stderr, c.want)
			}
		})
	}
}

// --help describes every operation and every flag, spelt --name.
func TestHelpDescribesEveryOperationAndFlag(t *testing.T) {
	code, out, _ := runCmd(t, "", false, "--help")
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	for _, op := range operations {
		if !strings.Contains(out, "\n  "+op.name+" ") {
			t.Errorf("--help does not describe %s", op.name)
		}
	}
	for _, flag := range []string{"--stage", "--yes", "--json", "--dir", "--pulumi-root", "--install-cli"} {
		if !strings.Contains(out, "\n  "+flag) {
			t.Errorf("--help does not describe %s", flag)
		}
	}
	if strings.Contains(out, " -stage") {
		t.Error("--help spells a flag with one dash")
	}
	code, _, stderr := runCmd(t, "", false, "up", "--help")
	if code != 0 || !strings.Contains(stderr, "usage: deploy up") || !strings.Contains(stderr, "--install-cli") {
		t.Errorf("up --help: exit %d, %q", code, stderr)
	}
}

// Only a terminal is someone to ask: /dev/null is a character device, and
// a pipe a pipe, but neither is a terminal.
func TestOnlyATerminalIsAsked(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = null.Close() }() // read only
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = r.Close(), w.Close() }() // unused
	for _, f := range []*os.File{null, r} {
		if isTerminal(f) {
			t.Errorf("%s is taken for a terminal", f.Name())
		}
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
