// Package deploy drives a stage of the licence stack from Go, as `pulumi up`
// does by hand: Preview, Up, Refresh, Destroy and Outputs, with the
// project's Pulumi.<stage>.yaml as it is. The engine runs in a workspace of
// the stage's own under .pulumi-state, where the stack's secrets salt is
// kept, so no tracked file changes. The program runs in this process (the
// Automation API's inline program), so the Pulumi CLI is the only other
// thing needed.
//
// State lives in a local file backend (.pulumi-state in the project) unless
// PULUMI_BACKEND_URL names another; secrets are encrypted with
// PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE. A stage's stack
// is created on first use.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/infra"
)

// Options says which stage to act on and how.
type Options struct {
	// Stage is the stack to act on, such as dev; Pulumi.<Stage>.yaml must exist.
	Stage string
	// Dir is the project directory (holding Pulumi.yaml); empty means the
	// nearest one at or above the working directory.
	Dir string
	// Progress receives the engine's live output; nil discards it.
	Progress io.Writer
	// PulumiRoot is where the Pulumi CLI is installed (its bin/pulumi);
	// empty means the pulumi on PATH.
	PulumiRoot string
	// Program is the Pulumi program; nil means the stack's own (infra).
	Program pulumi.RunFunc
	// Env adds to the environment the engine and program run in.
	Env map[string]string
	// SkipAWSCheck skips checking for AWS credentials and region before
	// preview, up and refresh (for stand-in providers in tests).
	SkipAWSCheck bool
}

// Result is what an operation did.
type Result struct {
	Stage     string         `json:"stage"`
	Operation string         `json:"operation"`
	Changes   map[string]int `json:"changes"`
	Outputs   map[string]any `json:"outputs,omitempty"`
}

// The errors an operation can fail with before it reaches the engine.
var (
	ErrNoPulumiCLI      = errors.New("the Pulumi CLI is not installed: install it from https://www.pulumi.com/docs/install/ (or run with -install-cli), or set its root with -pulumi-root")
	ErrNoPassphrase     = errors.New("no secrets passphrase: set PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it")
	ErrUpdateInProgress = errors.New("another update of this stack is in progress: wait for it, or run `pulumi cancel` if it died")
	ErrNoAWSCredentials = errors.New("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`")
	ErrNoProject        = errors.New("no Pulumi.yaml here or above: run from the project, or pass its directory")
	errNoStage          = errors.New("no stage given")
)

// UnknownStageError is a stage with no stack file.
type UnknownStageError struct {
	Stage string
	Known []string
}

func (e *UnknownStageError) Error() string {
	return fmt.Sprintf("unknown stage %q: no Pulumi.%s.yaml; the stages are: %s", e.Stage, e.Stage, strings.Join(e.Known, ", "))
}

// Preview shows what Up would change.
func Preview(ctx context.Context, opts Options) (Result, error) {
	s, err := open(ctx, opts, "preview")
	if err != nil {
		return Result{}, err
	}
	res, err := s.Preview(ctx, optpreview.ProgressStreams(progress(opts)), optpreview.ErrorProgressStreams(progress(opts)))
	if err != nil {
		return Result{}, engineError("preview", err, opts.Progress != nil)
	}
	changes := map[string]int{}
	for op, n := range res.ChangeSummary {
		changes[string(op)] = n
	}
	return Result{Stage: opts.Stage, Operation: "preview", Changes: changes}, nil
}

// Up deploys the stage and returns its outputs.
func Up(ctx context.Context, opts Options) (Result, error) {
	s, err := open(ctx, opts, "up")
	if err != nil {
		return Result{}, err
	}
	res, err := s.Up(ctx, optup.ProgressStreams(progress(opts)), optup.ErrorProgressStreams(progress(opts)))
	if err != nil {
		return Result{}, engineError("up", err, opts.Progress != nil)
	}
	return Result{Stage: opts.Stage, Operation: "up", Changes: changes(res.Summary), Outputs: plain(res.Outputs)}, nil
}

// Refresh brings the stage's state in line with what exists.
func Refresh(ctx context.Context, opts Options) (Result, error) {
	s, err := open(ctx, opts, "refresh")
	if err != nil {
		return Result{}, err
	}
	res, err := s.Refresh(ctx, optrefresh.ProgressStreams(progress(opts)), optrefresh.ErrorProgressStreams(progress(opts)))
	if err != nil {
		return Result{}, engineError("refresh", err, opts.Progress != nil)
	}
	return Result{Stage: opts.Stage, Operation: "refresh", Changes: changes(res.Summary)}, nil
}

// Destroy deletes every resource of the stage. The stack and its history
// stay, so the stage can be brought up again.
func Destroy(ctx context.Context, opts Options) (Result, error) {
	s, err := open(ctx, opts, "destroy")
	if err != nil {
		return Result{}, err
	}
	res, err := s.Destroy(ctx, optdestroy.ProgressStreams(progress(opts)), optdestroy.ErrorProgressStreams(progress(opts)))
	if err != nil {
		return Result{}, engineError("destroy", err, opts.Progress != nil)
	}
	return Result{Stage: opts.Stage, Operation: "destroy", Changes: changes(res.Summary)}, nil
}

// Outputs returns the stage's stack outputs.
func Outputs(ctx context.Context, opts Options) (Result, error) {
	s, err := open(ctx, opts, "outputs")
	if err != nil {
		return Result{}, err
	}
	out, err := s.Outputs(ctx)
	if err != nil {
		return Result{}, engineError("outputs", err, false)
	}
	return Result{Stage: opts.Stage, Operation: "outputs", Changes: map[string]int{}, Outputs: plain(out)}, nil
}

// APIURL is a deployed stage's apiUrl output: where its API answers.
func APIURL(ctx context.Context, opts Options) (string, error) {
	res, err := Outputs(ctx, opts)
	if err != nil {
		return "", err
	}
	u, ok := res.Outputs["apiUrl"].(string)
	if !ok || u == "" {
		return "", fmt.Errorf("stage %s has no apiUrl output: deploy it first (go run ./cmd/deploy up --stage %s)", opts.Stage, opts.Stage)
	}
	return u, nil
}

// ProjectDir returns dir if it holds Pulumi.yaml, else the nearest
// directory above the working directory that does.
func ProjectDir(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err != nil {
			return "", fmt.Errorf("%w (looked in %s)", ErrNoProject, dir)
		}
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%w (looked up from %s)", ErrNoProject, wd)
		}
	}
}

// Stages lists the stages with a stack file in the project directory.
func Stages(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	slices.Sort(out)
	return out, nil
}

// open checks everything an operation needs before the engine starts, then
// selects the stage's stack, creating it on first use.
// readsAWS says which operations read the account (and so need AWS
// credentials before the engine starts): destroy and outputs work from
// the stack's state.
var readsAWS = map[string]bool{"preview": true, "up": true, "refresh": true}

// Check makes the checks an operation makes before the engine starts: the
// project, the stage, the secrets passphrase, AWS credentials and region
// where the operation reads the account, and the Pulumi CLI. A command
// line runs it before asking whether to go on.
func Check(ctx context.Context, opts Options, operation string) error {
	_, _, _, err := prepare(ctx, opts, operation)
	return err
}

// prepare is Check, returning what it found: the project directory, the
// engine's environment and the Pulumi CLI.
func prepare(ctx context.Context, opts Options, operation string) (string, map[string]string, auto.PulumiCommand, error) {
	if opts.Stage == "" {
		return "", nil, nil, errNoStage
	}
	dir, err := ProjectDir(opts.Dir)
	if err != nil {
		return "", nil, nil, err
	}
	stages, err := Stages(dir)
	if err != nil {
		return "", nil, nil, err
	}
	if !slices.Contains(stages, opts.Stage) {
		return "", nil, nil, &UnknownStageError{Stage: opts.Stage, Known: stages}
	}
	env := environment(dir, opts.Env)
	if env["PULUMI_CONFIG_PASSPHRASE"] == "" && env["PULUMI_CONFIG_PASSPHRASE_FILE"] == "" {
		return "", nil, nil, ErrNoPassphrase
	}
	if readsAWS[operation] && !opts.SkipAWSCheck {
		if err := checkAWS(ctx, dir, opts.Stage, env); err != nil {
			return "", nil, nil, err
		}
	}
	cmd, err := pulumiCommand(opts.PulumiRoot)
	if err != nil {
		return "", nil, nil, err
	}
	return dir, env, cmd, nil
}

func open(ctx context.Context, opts Options, operation string) (auto.Stack, error) {
	dir, env, cmd, err := prepare(ctx, opts, operation)
	if err != nil {
		return auto.Stack{}, err
	}
	program := opts.Program
	if program == nil {
		program = infra.RunIn(dir)
	}
	work, err := prepareWorkspace(dir, opts.Stage)
	if err != nil {
		return auto.Stack{}, err
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(work), auto.Program(program), auto.Pulumi(cmd), auto.EnvVars(env))
	if err != nil {
		return auto.Stack{}, fmt.Errorf("open workspace in %s: %w", work, err)
	}
	s, err := auto.UpsertStack(ctx, opts.Stage, ws)
	if err != nil {
		return auto.Stack{}, engineError("select stack "+opts.Stage, err, false)
	}
	return s, nil
}

// environment is what the engine runs with: the process's own, a local
// file backend unless PULUMI_BACKEND_URL is set, and extra.
func environment(dir string, extra map[string]string) map[string]string {
	env := map[string]string{
		"PULUMI_CONFIG_PASSPHRASE":      os.Getenv("PULUMI_CONFIG_PASSPHRASE"),
		"PULUMI_CONFIG_PASSPHRASE_FILE": os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"),
		"PULUMI_BACKEND_URL":            os.Getenv("PULUMI_BACKEND_URL"),
		"PULUMI_SKIP_UPDATE_CHECK":      "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	if env["PULUMI_BACKEND_URL"] == "" {
		state := filepath.Join(dir, ".pulumi-state")
		// A failure shows when the engine opens the backend, with its path.
		_ = os.MkdirAll(state, 0o700)
		env["PULUMI_BACKEND_URL"] = "file://" + filepath.ToSlash(state)
	}
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	return env
}

// pulumiCommand finds the Pulumi CLI.
func pulumiCommand(root string) (auto.PulumiCommand, error) {
	if root == "" {
		if _, err := exec.LookPath("pulumi"); err != nil {
			return nil, ErrNoPulumiCLI
		}
	} else if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		return nil, fmt.Errorf("%w (no bin/pulumi under %s)", ErrNoPulumiCLI, root)
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	if err != nil {
		return nil, fmt.Errorf("run the Pulumi CLI: %w", err)
	}
	return cmd, nil
}

// engineError reports an operation the engine failed; streamed says the
// engine's output went to Options.Progress as it ran.
func engineError(what string, err error, streamed bool) error {
	if auto.IsConcurrentUpdateError(err) {
		return fmt.Errorf("%s: %w", what, ErrUpdateInProgress)
	}
	return &EngineError{Op: what, Err: err, streamed: streamed}
}

// EngineError is an operation the engine failed. The Automation API's
// error holds everything the engine printed; where that was streamed to
// Options.Progress as it ran, the message is the engine's verdict alone,
// so no line is printed twice. Unwrap gives the whole.
type EngineError struct {
	Op       string
	Err      error
	streamed bool
}

func (e *EngineError) Error() string {
	if inner := errors.Unwrap(e.Err); e.streamed && inner != nil {
		return e.Op + ": " + inner.Error() + " (the engine's output is above)"
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *EngineError) Unwrap() error { return e.Err }

func progress(opts Options) io.Writer {
	if opts.Progress == nil {
		return io.Discard
	}
	return opts.Progress
}

func changes(s auto.UpdateSummary) map[string]int {
	out := map[string]int{}
	if s.ResourceChanges != nil {
		for k, v := range *s.ResourceChanges {
			out[k] = v
		}
	}
	return out
}

func plain(m auto.OutputMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v.Secret {
			out[k] = "[secret]"
		} else {
			out[k] = v.Value
		}
	}
	return out
}
