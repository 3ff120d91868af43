package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/privateledger/licences/client"
	"github.com/privateledger/licences/cmd/internal/flagtext"
	"github.com/privateledger/licences/deploy"
)

// Exit statuses, by what went wrong.
const (
	exitOK          = 0
	exitFailed      = 1 // could not start: no stage outputs, no credentials
	exitUsage       = 2
	exitRefused     = 3 // the API refused the request (4xx)
	exitUnavailable = 4 // the API could not serve it (5xx), or did not answer
)

// cli is one run of the command line, with where it writes and how it
// finds a stage's API.
type cli struct {
	stdout, stderr io.Writer
	// apiURL finds a deployed stage's apiUrl.
	apiURL func(ctx context.Context, stage, dir, pulumiRoot string) (string, error)
}

// stageURL reads a stage's apiUrl output through the deploy package.
func stageURL(ctx context.Context, stage, dir, root string) (string, error) {
	return deploy.APIURL(ctx, deploy.Options{Stage: stage, Dir: dir, PulumiRoot: root})
}

// command is one of the command line's commands.
type command struct {
	name, args, summary string
	// nargs is how many arguments it takes.
	nargs int
	// flags declares the command's own flags, and returns what does the
	// command once they are parsed.
	flags func(fs *flag.FlagSet) action
}

// target is where a command sends its requests.
type target struct {
	stage, url, dir, root string
	timeout               time.Duration
}

func (t *target) declare(fs *flag.FlagSet) {
	fs.StringVar(&t.stage, "stage", "", "the deployed stage to call, such as dev: its apiUrl output, signed with your AWS credentials")
	fs.StringVar(&t.url, "url", "", "the API to call unsigned, such as the local server's http://127.0.0.1:8080")
	fs.StringVar(&t.dir, "dir", "", "with --stage: the project directory (default: the nearest with Pulumi.yaml)")
	fs.StringVar(&t.root, "pulumi-root", "", "with --stage: where the Pulumi CLI is installed (its bin/pulumi)")
	fs.DurationVar(&t.timeout, "timeout", time.Minute, "how long the command may take, waits for a busy API included")
}

func (c cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		c.help(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(c.stderr, "licences: unknown command %q\n\n", args[0])
		c.help(c.stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("licences "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: licences %s [flags] %s\n\n%s\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
		flagtext.Defaults(c.stderr, fs)
	}
	var t target
	t.declare(fs)
	do := cmd.flags(fs)
	if err := fs.Parse(interleaved(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) { // the flag package showed fs.Usage
			return exitOK
		}
		fmt.Fprintf(c.stderr, "licences %s: %s\n", cmd.name, flagtext.Error(err))
		return exitUsage
	}
	if fs.NArg() != cmd.nargs {
		fmt.Fprintf(c.stderr, "licences %s: want %d argument(s), %s; got %d\n", cmd.name, cmd.nargs, cmd.args, fs.NArg())
		return exitUsage
	}
	if (t.stage == "") == (t.url == "") {
		fmt.Fprintf(c.stderr, "licences %s: give --stage (a deployed stage) or --url (the local server), one of them\n", cmd.name)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	api, code := c.client(ctx, t)
	if api == nil {
		return code
	}
	out, err := do(ctx, api, fs.Args())
	if err != nil {
		return c.failed(cmd.name, err)
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(c.stderr, "licences: write the answer:", err)
		return exitFailed
	}
	return exitOK
}

// client is the API client for t; nil with the exit status when it cannot
// be made.
func (c cli) client(ctx context.Context, t target) (*client.Client, int) {
	opts := []client.Option{client.OnWait(func(w client.Wait) {
		fmt.Fprintf(c.stderr, "licences: the API answered %d %s; waiting %s as its Retry-After asks (attempt %d)\n",
			w.Problem.Status, w.Problem.Title, w.For, w.Attempt)
	})}
	url := t.url
	if t.stage != "" {
		var err error
		if url, err = c.apiURL(ctx, t.stage, t.dir, t.root); err != nil {
			fmt.Fprintln(c.stderr, "licences:", err)
			return nil, exitFailed
		}
		signer, err := client.DefaultSigV4(ctx, url)
		if err != nil {
			fmt.Fprintln(c.stderr, "licences:", err)
			return nil, exitFailed
		}
		opts = append(opts, client.WithSigner(signer))
	}
	api, err := client.New(url, opts...)
	if err != nil {
		fmt.Fprintln(c.stderr, "licences:", err)
		return nil, exitUsage
	}
	return api, exitOK
}

// failed reports err and returns its exit status.
func (c cli) failed(name string, err error) int {
	fmt.Fprintf(c.stderr, "licences %s: %v\n", name, err)
	var (
		p           *client.Problem
		unreachable *client.UnreachableError
		usage       *usageError
	)
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &p) && p.Unavailable(), errors.As(err, &unreachable), errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable
	case errors.As(err, &p):
		return exitRefused
	}
	return exitFailed
}

// usageError is a command's arguments that cannot make a request.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// interleaved moves flags given after the arguments before them, so
// `get ID --url U` reads as `get --url U ID`, as people type it.
func interleaved(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, rest...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// help lists every command.
func (c cli) help(w io.Writer) {
	fmt.Fprintln(w, "usage: licences COMMAND [flags] [arguments]")
	fmt.Fprintln(w, "\nCalls the licence API of a deployed stage (--stage NAME, signed with your AWS credentials)")
	fmt.Fprintln(w, "or of the local server (--url URL, unsigned), and prints each answer as JSON.")
	fmt.Fprintln(w, "\ncommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun `licences COMMAND --help` for a command's flags.")
	fmt.Fprintln(w, "\nexit status: 0 done; 1 could not start (no stage outputs or credentials); 2 usage;")
	fmt.Fprintln(w, "3 the API refused the request (4xx); 4 the API was unavailable (5xx, or no answer).")
}
