// Command deploy deploys, previews, inspects and destroys a stage of the
// licence stack through the Pulumi Automation API:
//
//	go run ./cmd/deploy up --stage dev --yes
//	go run ./cmd/deploy outputs --stage dev --json
//
// Operations: preview, up, refresh, destroy, outputs. up, refresh and
// destroy change things: they ask first, or take --yes. --json prints the
// result (changes and outputs) as JSON on stdout; the engine's live progress
// then goes to stderr. The exit status is 0 on success, 1 when the operation
// fails and 2 for a usage error.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"golang.org/x/term"

	"github.com/privateledger/licences/cmd/internal/flagtext"
	"github.com/privateledger/licences/deploy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, isTerminal(os.Stdin)))
}

// isTerminal says whether f is a terminal, the only standard input there
// is someone to ask on: a pipe, a file or /dev/null (a character device,
// but no terminal) is not.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd())) //nolint:gosec // G115: a file descriptor fits an int
}

// operation is what runs an operation, what it does, and whether it
// changes the stage (and so must be confirmed).
type operation struct {
	name    string
	run     func(context.Context, deploy.Options) (deploy.Result, error)
	changes bool
	summary string
}

// operations lists the operations, in the order help shows them.
var operations = []operation{
	{"preview", deploy.Preview, false, "show what up would change, changing nothing"},
	{"up", deploy.Up, true, "create or update the stage's resources (asks first, or --yes)"},
	{"refresh", deploy.Refresh, true, "read the stage's resources back from AWS into its state (asks first, or --yes)"},
	{"destroy", deploy.Destroy, true, "delete the stage's resources; retained ones stay (asks first, or --yes)"},
	{"outputs", deploy.Outputs, false, "print the stage's outputs, such as apiUrl"},
}

func lookup(name string) (operation, bool) {
	for _, op := range operations {
		if op.name == name {
			return op, true
		}
	}
	return operation{}, false
}

const usage = "usage: deploy <preview|up|refresh|destroy|outputs> --stage NAME [--yes] [--json] [--dir DIR] [--pulumi-root DIR] [--install-cli]\nRun `deploy --help` for more."

// pulumiVersion is the CLI version -install-cli installs: the SDK's own.
const pulumiVersion = "3.274.1"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, interactive bool) int {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		help(stdout)
		return 0
	}
	c, code, ok := parseCommand(args, stderr)
	if !ok {
		return code
	}
	if c.install {
		r, err := installCLI(ctx, c.root)
		if err != nil {
			fmt.Fprintln(stderr, "deploy:", err)
			return 1
		}
		c.root = r
	}
	// Whatever would stop the operation before the engine starts (the
	// stage, the passphrase, AWS credentials, the Pulumi CLI) is found
	// before anyone is asked to go on.
	if err := deploy.Check(ctx, c.options(nil), c.op.name); err != nil {
		return c.failed(err, stderr)
	}
	if code, ok := c.confirm(stdin, stderr, interactive); !ok {
		return code
	}
	progress := stdout
	if c.asJSON {
		progress = stderr
	}
	res, err := c.op.run(ctx, c.options(progress))
	if err != nil {
		return c.failed(err, stderr)
	}
	if c.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "deploy: write the result:", err)
			return 1
		}
		return 0
	}
	printResult(stdout, res)
	return 0
}

// command is one run of the command line: an operation and its flags.
type command struct {
	op                   operation
	stage, dir, root     string
	yes, asJSON, install bool
}

func (c command) options(progress io.Writer) deploy.Options {
	return deploy.Options{Stage: c.stage, Dir: c.dir, PulumiRoot: c.root, Progress: progress}
}

// flags declares an operation's flags on fs, into c.
func (c *command) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.stage, "stage", "", "the stage (stack) to act on, such as dev: its settings are Pulumi.<stage>.yaml")
	fs.BoolVar(&c.yes, "yes", false, "do not ask before changing the stage")
	fs.BoolVar(&c.asJSON, "json", false, "print the result as JSON on stdout; the engine's progress then goes to stderr")
	fs.StringVar(&c.dir, "dir", "", "the project directory (default: the nearest with Pulumi.yaml)")
	fs.StringVar(&c.root, "pulumi-root", "", "where the Pulumi CLI is installed (its bin/pulumi; default: the pulumi on PATH)")
	fs.BoolVar(&c.install, "install-cli", false, "install the Pulumi CLI "+pulumiVersion+" if it is missing")
}

// parseCommand reads the command line; false means stop, with the exit
// status: 0 after an operation's --help, 2 after a usage error.
func parseCommand(args []string, stderr io.Writer) (command, int, bool) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, usage)
		return command{}, 2, false
	}
	op, ok := lookup(args[0])
	if !ok {
		names := make([]string, len(operations))
		for i, o := range operations {
			names[i] = o.name
		}
		fmt.Fprintf(stderr, "deploy: unknown operation %q: want one of %s\n%s\n", args[0], strings.Join(names, ", "), usage)
		return command{}, 2, false
	}
	c := command{op: op}
	fs := flag.NewFlagSet("deploy "+op.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: deploy %s --stage NAME [flags]\n\n%s\n\nflags:\n", op.name, op.summary)
			flagtext.Defaults(stderr, fs)
			return command{}, 0, false
		}
		fmt.Fprintf(stderr, "deploy %s: %s\n%s\n", op.name, flagtext.Error(err), usage)
		return command{}, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy: unexpected arguments %v\n%s\n", fs.Args(), usage)
		return command{}, 2, false
	}
	if c.stage == "" {
		fmt.Fprintf(stderr, "deploy: --stage is required\n%s\n", usage)
		return command{}, 2, false
	}
	return c, 0, true
}

// help describes every operation and flag.
func help(w io.Writer) {
	fmt.Fprintln(w, "usage: deploy OPERATION --stage NAME [flags]")
	fmt.Fprintln(w, "\nDeploys, previews, inspects and destroys a stage of the licence stack through the")
	fmt.Fprintln(w, "Pulumi Automation API. Needs a secrets passphrase (PULUMI_CONFIG_PASSPHRASE or")
	fmt.Fprintln(w, "PULUMI_CONFIG_PASSPHRASE_FILE), AWS credentials for preview, up and refresh, and the")
	fmt.Fprintln(w, "Pulumi CLI (or --install-cli); each is checked before anything is asked or changed.")
	fmt.Fprintln(w, "\noperations:")
	for _, op := range operations {
		fmt.Fprintf(w, "  %-8s %s\n", op.name, op.summary)
	}
	fmt.Fprintln(w, "\nflags:")
	var c command
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	c.flags(fs)
	flagtext.Defaults(w, fs)
	fmt.Fprintln(w, "\nAn operation that changes the stage asks on the terminal, or takes --yes; with")
	fmt.Fprintln(w, "standard input that is not a terminal it needs --yes.")
	fmt.Fprintln(w, "\nexit status: 0 done; 1 the operation failed or was declined; 2 usage (an unknown")
	fmt.Fprintln(w, "stage included, or a change without --yes and no terminal to ask).")
}

// confirm asks before an operation that changes the stage, unless --yes;
// false means stop, with the exit code.
func (c command) confirm(stdin io.Reader, stderr io.Writer, interactive bool) (int, bool) {
	if !c.op.changes || c.yes {
		return 0, true
	}
	if !interactive {
		fmt.Fprintf(stderr, "deploy: refusing to %s stage %s without --yes: standard input is not a terminal\n", c.op.name, c.stage)
		return 2, false
	}
	fmt.Fprintf(stderr, "%s stage %s? [y/N] ", c.op.name, c.stage)
	answer, _ := bufio.NewReader(stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		fmt.Fprintln(stderr, "deploy: cancelled")
		return 1, false
	}
	return 0, true
}

// failed reports err and returns the exit code: 2 for an unknown stage (a
// usage error), 1 otherwise.
func (c command) failed(err error, stderr io.Writer) int {
	fmt.Fprintln(stderr, "deploy:", err)
	var unknown *deploy.UnknownStageError
	if errors.Is(err, deploy.ErrNoPulumiCLI) && !c.install {
		fmt.Fprintln(stderr, "deploy: or rerun with --install-cli to install Pulumi", pulumiVersion)
	} else if errors.As(err, &unknown) {
		return 2
	}
	return 1
}

// installCLI installs the Pulumi CLI with the Automation API's installer
// unless it is already there, and returns its root.
func installCLI(ctx context.Context, root string) (string, error) {
	v := semver.MustParse(pulumiVersion)
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		root = home + "/.pulumi/versions/" + pulumiVersion
	}
	if _, err := auto.InstallPulumiCommand(ctx, &auto.PulumiCommandOptions{Root: root, Version: v}); err != nil {
		return "", fmt.Errorf("install the Pulumi CLI %s into %s: %w", pulumiVersion, root, err)
	}
	return root, nil
}

func printResult(w io.Writer, res deploy.Result) {
	fmt.Fprintf(w, "\n%s of stage %s done.\n", res.Operation, res.Stage)
	if len(res.Changes) > 0 {
		ops := make([]string, 0, len(res.Changes))
		for op := range res.Changes {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		for _, op := range ops {
			fmt.Fprintf(w, "  %-8s %d\n", op, res.Changes[op])
		}
	}
	if len(res.Outputs) > 0 {
		fmt.Fprintln(w, "Outputs:")
		keys := make([]string, 0, len(res.Outputs))
		for k := range res.Outputs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b, _ := json.Marshal(res.Outputs[k])
			fmt.Fprintf(w, "  %-24s %s\n", k, b)
		}
	}
}
