package infra

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
	"github.com/privateledger/licences/infra/preflight"
)

// PreflightEnv set to "off" turns the preflight's AWS calls off (for
// tests and plan dumps without AWS): nothing is checked, and a new Aurora
// cluster gets the pinned engine version.
const PreflightEnv = "LICENCES_PREFLIGHT"

// preflightTimeout bounds the preflight's calls, so a network that does
// not answer fails the run instead of holding it.
const preflightTimeout = 2 * time.Minute

// activationTimeout bounds the wait for an inactive migration function to
// be active again: Lambda recreates its network interfaces in minutes.
const activationTimeout = 15 * time.Minute

// Run is the Pulumi program: it reads the stage's configuration, checks
// that the account can hold the stage, builds the handler and declares
// the stack.
func Run(ctx *pulumi.Context) error { return RunIn("")(ctx) }

// Option changes how the program reaches AWS before the stack is
// declared.
type Option func(*program)

// WithoutPreflight turns the preflight's AWS calls off, as
// LICENCES_PREFLIGHT=off does.
func WithoutPreflight() Option {
	return func(p *program) { p.preflight, p.preflightErr = false, nil }
}

// WithPreflightEndpoint sends the preflight's calls to endpoint, signed
// with creds, instead of to AWS: a stand-in AWS (testdouble/awsapi) for
// tests, which must not set the process's environment to get one.
func WithPreflightEndpoint(endpoint string, creds aws.CredentialsProvider) Option {
	return func(p *program) {
		p.preflight, p.preflightErr = true, nil
		p.endpoint, p.credentials = endpoint, creds
	}
}

// program is the program and how it runs.
type program struct {
	dir          string
	preflight    bool  // whether the preflight asks AWS
	preflightErr error // a PreflightEnv value that means nothing
	endpoint     string
	credentials  aws.CredentialsProvider
	pollDelay    time.Duration // how often activation asks (tests)
	// build makes the handler's artifact in the project dir.
	build func(ctx context.Context, dir string) (function.Artifact, error)
}

// RunIn is the program for a project in dir, for running it in-process
// (the Automation API's inline programs), where the working directory need
// not be the project's. An empty dir means the project Pulumi names, or
// else the working directory. LICENCES_PREFLIGHT is read here, once.
func RunIn(dir string, opts ...Option) pulumi.RunFunc {
	p := program{dir: dir, build: buildHandler}
	p.preflight, p.preflightErr = preflightSetting(os.Getenv(PreflightEnv))
	for _, o := range opts {
		o(&p)
	}
	return p.run
}

// preflightSetting reads LICENCES_PREFLIGHT: on unless it says off.
func preflightSetting(v string) (bool, error) {
	switch v {
	case "", "on":
		return true, nil
	case "off":
		return false, nil
	}
	return true, fmt.Errorf("%s=%q: want off (skip the preflight's AWS calls) or on (the default)", PreflightEnv, v)
}

func (p program) run(ctx *pulumi.Context) error {
	if p.preflightErr != nil {
		return p.preflightErr
	}
	root := p.dir
	if root == "" {
		root = ctx.RootDirectory()
	}
	// The handler builds in the project, and its zip goes under .build there
	// by an absolute path, so the engine finds it whatever its own directory.
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if err := checkStackFile(root, ctx.Project(), ctx.Stack()); err != nil {
		return err
	}
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	// Before anything is registered or built: a stage the account cannot
	// hold is refused while nothing of it exists. The same access then
	// wakes the migration function, if it has gone inactive, before the
	// migration is invoked.
	var options []StackOption
	if p.preflight {
		c, err := p.check(ctx.Context(), &cfg)
		if err != nil {
			return err
		}
		options = append(options, WithActivation(func(ctx context.Context, fn string) error {
			ctx, cancel := context.WithTimeout(ctx, activationTimeout)
			defer cancel()
			return c.Activate(ctx, fn)
		}))
	}
	art, err := p.build(ctx.Context(), root)
	if err != nil {
		return err
	}
	outputs, err := NewStack(ctx, cfg, art, options...)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}

// check runs the preflight for cfg's stage, in its account and region, and
// takes the engine version it chose.
func (p program) check(ctx context.Context, cfg *Config) (*preflight.Checker, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	c, err := preflight.New(ctx, preflight.Access{
		Region: cfg.Region, Profile: cfg.Profile, AssumeRole: cfg.AssumeRole,
		Endpoint: p.endpoint, Credentials: p.credentials, PollDelay: p.pollDelay,
	})
	if err != nil {
		return nil, err
	}
	res, err := c.Check(ctx, preflightStage(*cfg))
	if err != nil {
		return nil, fmt.Errorf("%w (stage %s; nothing was created)", err, cfg.Stage)
	}
	if res.EngineVersion != "" {
		cfg.AuroraEngineVersion = res.EngineVersion
	}
	return c, nil
}

// preflightStage is what cfg's stage asks of the account: its functions'
// reservations, by name, and its Aurora cluster.
func preflightStage(cfg Config) preflight.Stage {
	n := newNames(cfg)
	s := preflight.Stage{Reservations: map[string]int{}}
	for part, reserved := range reservedConcurrency(cfg) {
		s.Reservations[n.function(part)] = reserved
	}
	s.Aurora = cfg.engine.preflight(cfg)
	return s
}

// buildHandler builds the handler for Lambda's arm64 under dir/.build.
func buildHandler(ctx context.Context, dir string) (function.Artifact, error) {
	return function.Build(ctx, function.Options{
		Dir:    dir,
		OutDir: filepath.Join(dir, ".build", "function"),
		Arch:   function.ARM64,
	})
}
