package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/deploy"
	"github.com/privateledger/licences/infra"
	"github.com/privateledger/licences/testdouble/awsapi"
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

// world is what the end-to-end test runs in: the Pulumi CLI and the
// stand-in providers built, a private Pulumi home, a file backend, a
// passphrase, placeholder AWS credentials (nothing reaches AWS), the
// stand-in AWS account's file, the stand-in AWS API the program's
// preflight asks, and a copy of the project whose stack files the test
// may edit.
type world struct {
	pulumiRoot string
	backend    string
	account    string
	project    string
}

func newWorld(t *testing.T) world {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	w := world{pulumiRoot: t.TempDir(), backend: t.TempDir(), project: t.TempDir()}
	w.account = filepath.Join(t.TempDir(), "account.json")
	goBuild(t, filepath.Join(repo, "tools", "pulumi"), filepath.Join(w.pulumiRoot, "bin", "pulumi"),
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
	copyProject(t, repo, w.project)
	t.Setenv("PULUMI_HOME", home)
	t.Setenv("PULUMI_BACKEND_URL", "file://"+filepath.ToSlash(w.backend))
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "end-to-end")
	t.Setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
	t.Setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "standin")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "standin")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWSPROVIDER_ACCOUNT", w.account)
	// The program's preflight asks the stand-in AWS API: an account with
	// room for prod's reservations, offering Aurora PostgreSQL 16's LTS
	// minor below the version the test upgrades the clusters to.
	// The migration functions exist and are active whenever an update
	// asks, as Lambda has them once the stack has created them.
	api := awsapi.New(awsapi.Account{ConcurrentExecutions: 1000, Functions: map[string]int{"licences-prod-migrate": 0, "licences-dev-migrate": 0}, EngineVersions: []awsapi.EngineVersion{
		{Engine: "aurora-postgresql", Version: "16.6", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
		{Engine: "aurora-postgresql", Version: "16.8", Family: "aurora-postgresql16", ServerlessV2: &awsapi.Capacity{Min: 0, Max: 256}},
	}})
	t.Cleanup(api.Close)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", api.URL)
	t.Setenv("AWS_ENDPOINT_URL_RDS", api.URL)
	return w
}

// copyProject copies what the program needs to run (the project and stack
// files, and what the handler builds from) to dst.
func copyProject(t *testing.T, repo, dst string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repo, "Pulumi*.yaml"))
	for _, f := range append(files, filepath.Join(repo, "go.mod"), filepath.Join(repo, "go.sum")) {
		b, err := os.ReadFile(f)
		if err := errors.Join(err, os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tree := range []string{"function", "third_party"} {
		err := filepath.WalkDir(filepath.Join(repo, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repo, path)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// account reads the stand-in AWS account.
func (w world) accountState(t *testing.T) (roles map[string]string, apiGatewayRole string) {
	t.Helper()
	b, err := os.ReadFile(w.account)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Roles                    map[string]string `json:"roles"`
		APIGatewayCloudWatchRole string            `json:"apiGatewayCloudWatchRole"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a.Roles, a.APIGatewayCloudWatchRole
}

// result is the command's --json answer.
type result struct {
	Stage     string         `json:"stage"`
	Operation string         `json:"operation"`
	Changes   map[string]int `json:"changes"`
	Outputs   map[string]any `json:"outputs"`
}

// run runs the command on a stage of the world's project and returns its
// exit code, its result and its standard error.
func (w world) run(t *testing.T, stage string, args ...string) (int, result, string) {
	t.Helper()
	args = append(args, "--stage", stage, "--dir", w.project, "--pulumi-root", w.pulumiRoot, "--json")
	code, stdout, stderr := runCmd(t, "", false, args...)
	var r result
	if code == 0 {
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("deploy %s printed %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
	return code, r, stderr
}

// do is run for an operation that must succeed.
func (w world) do(t *testing.T, stage string, args ...string) result {
	t.Helper()
	code, r, stderr := w.run(t, stage, args...)
	if code != 0 {
		t.Fatalf("deploy %s --stage %s: exit %d\n%s", strings.Join(args, " "), stage, code, stderr)
	}
	return r
}

const accountRole = "licences-apigateway-cloudwatch-eu-west-2"

// TestEndToEndThroughTheRealEngine runs the Aurora stages through the real
// Pulumi engine against the stand-in AWS account, which refuses what AWS
// would and keeps what a destroy retains, as AWS does:
//   - prod, alone in a fresh account, deploys: it creates API Gateway's
//     account-wide CloudWatch role and points the account at it;
//   - dev, in the same account, finds the role and adopts it;
//   - an up refused while another holds the stack's lock says so;
//   - a second up changes nothing (the artifact is reproducible);
//   - after AWS upgrades Aurora's minor version, a refresh and an up change
//     nothing (no downgrade is asked for);
//   - destroying prod leaves the account's role and setting (dev's logging
//     still works), the digest bucket and the stage key;
//   - prod comes back with an unattended up: it adopts the role its earlier
//     self left and makes a digest bucket of a new name beside the old one;
//   - then everything is destroyed.
func TestEndToEndThroughTheRealEngine(t *testing.T) {
	w := newWorld(t)

	up := w.do(t, "prod", "up", "--yes")
	if up.Changes["create"] < 100 || up.Outputs["databaseEndpoint"] == nil || up.Outputs["ledgerName"] != nil {
		t.Fatalf("prod's first up: %+v", up)
	}
	for _, k := range []string{"apiUrl", "vpcId", "subnetIds", "databaseEndpoint", "secretsEndpointId", "digestBucketName",
		"functionSecurityGroupId", "apiFunctionName", "migrationFunctionName", "digestFunctionName", "xrayEndpointId"} {
		if up.Outputs[k] == nil {
			t.Errorf("up has no output %s", k)
		}
	}
	roles, setting := w.accountState(t)
	if roles[accountRole] == "" || setting != roles[accountRole] {
		t.Fatalf("after prod's up the account has roles %v and API Gateway role %q, want %s set", roles, setting, accountRole)
	}
	created := up.Changes["create"]

	if outputs := w.do(t, "prod", "outputs"); mustJSON(outputs.Outputs) != mustJSON(up.Outputs) {
		t.Errorf("outputs %s, want what up reported %s", mustJSON(outputs.Outputs), mustJSON(up.Outputs))
	}

	// A second stage finds the account's role and adopts it, with no switch
	// in its stack file; creating it again would be EntityAlreadyExists.
	dev := w.do(t, "dev", "up", "--yes")
	if dev.Outputs["databaseEndpoint"] == nil || dev.Changes["import"] != 1 {
		t.Errorf("dev's up in prod's account: %+v, want the account role imported", dev)
	}

	// Another update holding the stack's lock: the command says so plainly.
	lockDir := filepath.Join(w.backend, ".pulumi", "locks", "organization", "licences", "prod")
	lock := filepath.Join(lockDir, "other-update.json")
	if err := errors.Join(os.MkdirAll(lockDir, 0o755),
		os.WriteFile(lock, []byte(`{"pid":4242,"username":"someone","hostname":"elsewhere","timestamp":"2026-11-25T09:00:00Z"}`), 0o644)); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := w.run(t, "prod", "up", "--yes"); code != 1 || !strings.Contains(stderr, "another update of this stack is in progress") {
		t.Errorf("up while locked: exit %d, stderr %q; want 1 and the update-in-progress message", code, stderr)
	}
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}

	// The same program, built again: the artifact is byte-identical, so
	// the engine finds nothing to change, and the role prod made stays
	// prod's (finding it in the account does not turn it into an import).
	again := w.do(t, "prod", "up", "--yes")
	assertNoChanges(t, "prod's second up", again, created)

	// AWS upgrades Aurora's minor version; the stack must not ask for the
	// version below.
	t.Setenv("AWSPROVIDER_AURORA_VERSION", "16.9")
	w.do(t, "dev", "refresh", "--yes")
	assertNoChanges(t, "dev's up after a minor upgrade", w.do(t, "dev", "up", "--yes"), 0)

	// Destroying prod, which created the account role, leaves the role and
	// the setting: dev's access logs still have their role.
	if destroyed := w.do(t, "prod", "destroy", "--yes"); destroyed.Changes["delete"] != created {
		t.Errorf("destroy deleted %d, want %d", destroyed.Changes["delete"], created)
	}
	roles, setting = w.accountState(t)
	if roles[accountRole] == "" || setting != roles[accountRole] {
		t.Errorf("after destroying prod the account has roles %v and API Gateway role %q: dev's logging lost its role", roles, setting)
	}
	assertNoChanges(t, "dev's up after prod's destroy", w.do(t, "dev", "up", "--yes"), 0)
	if empty := w.do(t, "prod", "outputs"); len(empty.Outputs) != 0 {
		t.Errorf("outputs after destroy: %v, want none", empty.Outputs)
	}

	// prod again, unattended: the role its earlier self retained is
	// adopted, and the retained digest bucket (Object Lock keeps it) does
	// not block the new one.
	back := w.do(t, "prod", "up", "--yes")
	if back.Changes["import"] != 1 || back.Changes["create"] != created-1 {
		t.Errorf("prod's up after its destroy: %v, want the role imported and the other %d created", back.Changes, created-1)
	}
	if back.Outputs["digestBucketName"] == nil || back.Outputs["digestBucketName"] == up.Outputs["digestBucketName"] {
		t.Errorf("prod's new digest bucket is %v, the retained one %v: want a new name", back.Outputs["digestBucketName"], up.Outputs["digestBucketName"])
	}
	w.do(t, "prod", "destroy", "--yes")
	w.do(t, "dev", "destroy", "--yes")
}

// assertNoChanges fails unless an operation left everything the same (and,
// when want is set, that many resources).
func assertNoChanges(t *testing.T, what string, r result, want int) {
	t.Helper()
	for op, n := range r.Changes {
		if op != "same" && n > 0 {
			t.Errorf("%s changed things: %v", what, r.Changes)
		}
	}
	if want > 0 && r.Changes["same"] != want {
		t.Errorf("%s left %d the same, want all %d", what, r.Changes["same"], want)
	}
}

// TestUpRefusesWhatAWSWouldRefuse: a program whose security group rule
// description holds an apostrophe, which EC2 refuses, fails its up through
// the real engine at the stand-in provider, before anything is made.
func TestUpRefusesWhatAWSWouldRefuse(t *testing.T) {
	w := newWorld(t)
	apostrophe := func(ctx *pulumi.Context) error {
		err := ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
			if args.Type != "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" {
				return nil
			}
			props := args.Props.(*vpc.SecurityGroupIngressRuleArgs)
			props.Description = pulumi.String("HTTPS from the functions' security group")
			return &pulumi.ResourceTransformationResult{Props: props, Opts: args.Opts}
		})
		if err != nil {
			return err
		}
		return infra.RunIn(w.project)(ctx)
	}
	_, err := deploy.Up(context.Background(), deploy.Options{Stage: "dev", Dir: w.project, PulumiRoot: w.pulumiRoot, Program: apostrophe})
	if err == nil || !strings.Contains(err.Error(), "AWS refuses this") || !strings.Contains(err.Error(), "description") {
		t.Fatalf("up with an apostrophe in a rule description: %v, want the stand-in's refusal", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
