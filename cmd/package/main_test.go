package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for the command: with
// PACKAGE_RUN_MAIN set it runs main and exits, as `go run` would.
func TestMain(m *testing.M) {
	if os.Getenv("PACKAGE_RUN_MAIN") == "1" {
		os.Args = append(os.Args[:1], strings.Fields(os.Getenv("PACKAGE_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run runs the command with args and returns its key=value output.
func run(t *testing.T, args string) (map[string]string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PACKAGE_RUN_MAIN=1", "PACKAGE_ARGS="+args)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &exitError{err, stderr.String()}
	}
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("output line %q is not key=value", line)
		}
		kv[k] = v
	}
	return kv, nil
}

type exitError struct {
	err    error
	stderr string
}

func (e *exitError) Error() string { return e.err.Error() + ": " + e.stderr }

func TestPackageTwiceGivesSameSHA256(t *testing.T) {
	first, err := run(t, "-o "+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	second, err := run(t, "-o "+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if first["sha256"] == "" || first["sha256"] != second["sha256"] {
		t.Errorf("sha256 = %q then %q, want the same non-empty hash", first["sha256"], second["sha256"])
	}
	if first["size"] != second["size"] || first["arch"] != "arm64" {
		t.Errorf("size %q/%q, arch %q: want equal sizes and arm64", first["size"], second["size"], first["arch"])
	}
	b, err := os.ReadFile(first["path"])
	if err != nil {
		t.Fatalf("printed path: %v", err)
	}
	// As sha256sum prints it: the zip's SHA-256 in hex.
	if sum := sha256.Sum256(b); first["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %q, want the zip's %x", first["sha256"], sum)
	}
}

func TestPackageUsageErrors(t *testing.T) {
	for _, args := range []string{"", "-o " + t.TempDir() + " -arch sparc"} {
		_, err := run(t, args)
		ee, ok := err.(*exitError)
		if !ok {
			t.Errorf("args %q: err = %v, want a non-zero exit", args, err)
			continue
		}
		if xe, ok := ee.err.(*exec.ExitError); !ok || xe.ExitCode() != 2 {
			t.Errorf("args %q: %v, want exit status 2", args, ee)
		}
	}
}
