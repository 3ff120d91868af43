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
	"sort"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/privateledger/licences/deploy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fi, _ := os.Stdin.Stat()
	interactive := fi != nil && fi.Mode()&os.ModeCharDevice != 0
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, interactive))
}

// operation is what runs an operation, and whether it changes the stage.
type operation struct {
	run     func(context.Context, deploy.Options) (deploy.Result, error)
	changes bool
}

// operations maps each operation to what runs it and whether it changes
// the stage (and so must be confirmed).
var operations = map[string]operation{
	"preview": {deploy.Preview, false},
	"up":      {deploy.Up, true},
	"refresh": {deploy.Refresh, true},
	"destroy": {deploy.Destroy, true},
	"outputs": {deploy.Outputs, false},
}

const usage = "usage: deploy <preview|up|refresh|destroy|outputs> --stage NAME [--yes] [--json] [--dir DIR] [--pulumi-root DIR] [--install-cli]"

// pulumiVersion is the CLI version -install-cli installs: the SDK's own.
const pulumiVersion = "3.274.1"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, interactive bool) int {
	c, ok := parseCommand(args, stderr)
	if !ok {
		return 2
	}
	if code, ok := c.confirm(stdin, stderr, interactive); !ok {
		return code
	}
	if c.install {
		r, err := installCLI(ctx, c.root)
		if err != nil {
			fmt.Fprintln(stderr, "stack:", err)
			return 1
		}
		c.root = r
	}
	progress := stdout
	if c.asJSON {
		progress = stderr
	}
	res, err := c.op.run(ctx, deploy.Options{Stage: c.stage, Dir: c.dir, PulumiRoot: c.root, Progress: progress})
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
	name                 string
	op                   operation
	stage, dir, root     string
	yes, asJSON, install bool
}

// parseCommand reads the command line; false means a usage error, already
// reported.
func parseCommand(args []string, stderr io.Writer) (command, bool) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, usage)
		return command{}, false
	}
	c := command{name: args[0]}
	op, ok := operations[c.name]
	if !ok {
		names := make([]string, 0, len(operations))
		for n := range operations {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(stderr, "deploy: unknown operation %q: want one of %s\n%s\n", c.name, strings.Join(names, ", "), usage)
		return command{}, false
	}
	c.op = op
	fs := flag.NewFlagSet("deploy "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.stage, "stage", "", "the stage (stack) to act on, such as dev")
	fs.BoolVar(&c.yes, "yes", false, "do not ask before changing the stage")
	fs.BoolVar(&c.asJSON, "json", false, "print the result as JSON on stdout")
	fs.StringVar(&c.dir, "dir", "", "the project directory (default: the nearest with Pulumi.yaml)")
	fs.StringVar(&c.root, "pulumi-root", "", "where the Pulumi CLI is installed (its bin/pulumi)")
	fs.BoolVar(&c.install, "install-cli", false, "install the Pulumi CLI "+pulumiVersion+" if it is missing")
	if err := fs.Parse(args[1:]); err != nil {
		return command{}, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy: unexpected arguments %v\n%s\n", fs.Args(), usage)
		return command{}, false
	}
	if c.stage == "" {
		fmt.Fprintf(stderr, "deploy: --stage is required\n%s\n", usage)
		return command{}, false
	}
	return c, true
}

// confirm asks before an operation that changes the stage, unless --yes;
// false means stop, with the exit code.
func (c command) confirm(stdin io.Reader, stderr io.Writer, interactive bool) (int, bool) {
	if !c.op.changes || c.yes {
		return 0, true
	}
	if !interactive {
		fmt.Fprintf(stderr, "deploy: refusing to %s stage %s without --yes: standard input is not a terminal\n", c.name, c.stage)
		return 2, false
	}
	fmt.Fprintf(stderr, "%s stage %s? [y/N] ", c.name, c.stage)
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
	fmt.Fprintln(stderr, "stack:", err)
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
