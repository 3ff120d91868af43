package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pulumiVersion's CLI is built from the Go module proxy by the test, through
// the tools/pulumi module that pins it; the aws and awsx providers are the
// stand-ins in testdouble/awsprovider, installed as plugins of those
// versions in a private PULUMI_HOME.
const (
	awsPluginVersion  = "6.83.4"
	awsxPluginVersion = "2.22.0"
)

func goBuild(t *testing.T, dir, out, pkg string, ldflags string) {
	t.Helper()
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// engine builds the Pulumi CLI and the stand-in providers, and sets up the
// environment the command runs in: a private Pulumi home, a file backend,
// a passphrase and placeholder AWS credentials (nothing reaches AWS).
func engine(t *testing.T) (pulumiRoot string) {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	pulumiRoot = t.TempDir()
	goBuild(t, filepath.Join(repo, "tools", "pulumi"), filepath.Join(pulumiRoot, "bin", "pulumi"),
		"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v"+pulumiVersion)

	home := t.TempDir()
	standin := filepath.Join(t.TempDir(), "standin")
	goBuild(t, repo, standin, "./testdouble/awsprovider", "")
	for name, version := range map[string]string{"aws": awsPluginVersion, "awsx": awsxPluginVersion} {
		dir := filepath.Join(home, "plugins", "resource-"+name+"-v"+version)
		b, err := os.ReadFile(standin)
		if err := errors.Join(err, os.MkdirAll(dir, 0o755)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pulumi-resource-"+name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PULUMI_HOME", home)
	backend := t.TempDir()
	t.Setenv("PULUMI_BACKEND_URL", "file://"+filepath.ToSlash(backend))
	backendDir = backend
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "end-to-end")
	t.Setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
	t.Setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "standin")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "standin")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return pulumiRoot
}

// backendDir is the file backend engine set up.
var backendDir string

// result is the command's --json answer.
type result struct {
	Stage     string         `json:"stage"`
	Operation string         `json:"operation"`
	Changes   map[string]int `json:"changes"`
	Outputs   map[string]any `json:"outputs"`
}

func TestEndToEndThroughTheRealEngine(t *testing.T) {
	root := engine(t)
	do := func(args ...string) result {
		t.Helper()
		args = append(args, "--stage", "dev", "--dir", "../..", "--pulumi-root", root, "--json")
		code, stdout, stderr := runCmd(t, "", false, args...)
		if code != 0 {
			t.Fatalf("stack %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		var r result
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("stack %s printed %q: %v", args[0], stdout, err)
		}
		return r
	}

	up := do("up", "--yes")
	if up.Changes["create"] < 50 || up.Outputs["ledgerName"] != "licences-dev" {
		t.Fatalf("first up: %+v", up)
	}
	for _, k := range []string{"apiUrl", "vpcId", "subnetIds", "qldbEndpointId", "qldbEndpointDnsNames", "functionSecurityGroupId", "qldbEndpointSecurityGroupId", "apiFunctionName", "migrationFunctionName"} {
		if up.Outputs[k] == nil {
			t.Errorf("up has no output %s", k)
		}
	}
	created := up.Changes["create"]

	outputs := do("outputs")
	if got, want := mustJSON(outputs.Outputs), mustJSON(up.Outputs); got != want {
		t.Errorf("outputs %s, want what up reported %s", got, want)
	}

	// Another update holding the stack's lock: the command says so plainly.
	lockDir := filepath.Join(backendDir, ".pulumi", "locks", "organization", "licences", "dev")
	lock := filepath.Join(lockDir, "other-update.json")
	if err := errors.Join(os.MkdirAll(lockDir, 0o755),
		os.WriteFile(lock, []byte(`{"pid":4242,"username":"someone","hostname":"elsewhere","timestamp":"2026-11-25T09:00:00Z"}`), 0o644)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "", false, "up", "--yes", "--stage", "dev", "--dir", "../..", "--pulumi-root", root)
	if code != 1 || !strings.Contains(stderr, "another update of this stack is in progress") {
		t.Errorf("up while locked: exit %d, stderr %q; want 1 and the update-in-progress message", code, stderr)
	}
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}

	// The same program, built again: the artifact is byte-identical, so
	// the engine finds nothing to change.
	again := do("up", "--yes")
	for op, n := range again.Changes {
		if op != "same" && n > 0 {
			t.Errorf("second up changed things: %v", again.Changes)
		}
	}
	if again.Changes["same"] != created {
		t.Errorf("second up left %d the same, want all %d", again.Changes["same"], created)
	}

	destroyed := do("destroy", "--yes")
	if destroyed.Changes["delete"] != created {
		t.Errorf("destroy deleted %d, want %d", destroyed.Changes["delete"], created)
	}
	if empty := do("outputs"); len(empty.Outputs) != 0 {
		t.Errorf("outputs after destroy: %v, want none", empty.Outputs)
	}
	if preview := do("preview"); preview.Changes["create"] != created {
		t.Errorf("preview after destroy would create %d, want all %d again: the stack is not empty", preview.Changes["create"], created)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
