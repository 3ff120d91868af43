// Package function turns the Lambda handler's source into the one artifact
// every stage deploys: a zip holding a single executable named bootstrap, as
// the provided.al2023 runtime expects.
//
// The build is reproducible: the same source and Go toolchain give the same
// bytes wherever the checkout lives, whoever runs it and whenever. That keeps
// `pulumi up` quiet when nothing changed, because the code hash the stack
// records does not move.
package function

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HandlerPackage is the main package of the Lambda handler. It is an import
// path, so it builds from any directory inside the module.
const HandlerPackage = "github.com/privateledger/licences/function/bootstrap"

// Arch is a Lambda instruction set architecture, named as Lambda names it.
type Arch string

// The architectures Lambda runs.
const (
	ARM64 Arch = "arm64"
	AMD64 Arch = "x86_64"
)

// ParseArch returns the Arch named by s. It accepts Lambda's names and Go's.
func ParseArch(s string) (Arch, error) {
	switch s {
	case "arm64":
		return ARM64, nil
	case "x86_64", "amd64":
		return AMD64, nil
	}
	return "", fmt.Errorf("unknown architecture %q: want arm64 or x86_64", s)
}

// goarch is the GOARCH that builds for a.
func (a Arch) goarch() string {
	if a == AMD64 {
		return "amd64"
	}
	return "arm64"
}

// Options says what to build and where to put it.
type Options struct {
	// OutDir is the directory the zip is written to. It is created if missing.
	OutDir string
	// Arch is the target architecture; the zero value means ARM64.
	Arch Arch
	// Dir is the directory go build runs in, which selects the module; the
	// zero value means the current directory.
	Dir string
	// Package is the main package to build; the zero value means HandlerPackage.
	Package string
	// Go is the go command to run; the zero value means "go" from PATH.
	Go string
}

// Artifact is a built, zipped handler: what a Lambda function needs to deploy it.
type Artifact struct {
	// Path is the zip's path, as OutDir was given (relative stays relative).
	Path string
	// SHA256 is the base64 SHA-256 of the zip, the form Lambda reports as
	// CodeSha256 and Pulumi takes as sourceCodeHash.
	SHA256 string
	// Size is the zip's size in bytes.
	Size int64
	// Arch is the architecture the executable was built for.
	Arch Arch
}

// ErrNoToolchain reports that no Go toolchain could be found to build with.
var ErrNoToolchain = errors.New("no Go toolchain found")

// Build compiles the handler for Lambda and zips it into OutDir as
// bootstrap-<arch>.zip. On any failure it leaves no zip at that path, not even
// one from an earlier build, so nothing stale can be deployed by mistake.
func Build(ctx context.Context, opts Options) (art Artifact, err error) {
	if opts.OutDir == "" {
		return Artifact{}, errors.New("build function: no output directory given")
	}
	if opts.Arch == "" {
		opts.Arch = ARM64
	}
	if _, err := ParseArch(string(opts.Arch)); err != nil {
		return Artifact{}, fmt.Errorf("build function: %w", err)
	}
	if opts.Package == "" {
		opts.Package = HandlerPackage
	}
	if opts.Go == "" {
		opts.Go = "go"
	}
	zipPath := filepath.Join(opts.OutDir, "bootstrap-"+string(opts.Arch)+".zip")

	defer func() {
		if err != nil {
			_ = os.Remove(zipPath) // best effort: no stale zip may stay behind
		}
	}()
	if err := os.MkdirAll(opts.OutDir, 0o750); err != nil {
		return Artifact{}, fmt.Errorf("build function: %w", err)
	}
	work, err := os.MkdirTemp(opts.OutDir, ".build-")
	if err != nil {
		return Artifact{}, fmt.Errorf("build function: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }() // a scratch directory; a leftover is harmless

	exe := filepath.Join(work, "bootstrap")
	if err := compile(ctx, opts, exe); err != nil {
		return Artifact{}, fmt.Errorf("build function: %w", err)
	}
	tmpZip := filepath.Join(work, "bootstrap.zip")
	sum, size, err := writeZip(tmpZip, exe)
	if err != nil {
		return Artifact{}, fmt.Errorf("build function: zip: %w", err)
	}
	// The rename is atomic, so a reader sees the old zip or the new one,
	// never half of one.
	if err := os.Rename(tmpZip, zipPath); err != nil {
		return Artifact{}, fmt.Errorf("build function: %w", err)
	}
	return Artifact{
		Path:   zipPath,
		SHA256: base64.StdEncoding.EncodeToString(sum),
		Size:   size,
		Arch:   opts.Arch,
	}, nil
}

// compile runs go build with every setting that could leak the host into the
// binary pinned: paths are trimmed, VCS stamping and the build id are off,
// and the environment's GOFLAGS and GOEXPERIMENT are not inherited.
func compile(ctx context.Context, opts Options, out string) error {
	goCmd, err := exec.LookPath(opts.Go)
	if err != nil {
		return fmt.Errorf("%w: %q is not on PATH; install Go 1.24 or newer from https://go.dev/dl/", ErrNoToolchain, opts.Go)
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", //nolint:gosec // G204: the go command, with our own flags and package
		"-trimpath",
		"-buildvcs=false",
		"-tags=lambda.norpc",
		"-ldflags=-s -w -buildid=",
		"-o", out,
		opts.Package,
	)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(),
		"GOOS=linux",
		"GOARCH="+opts.Arch.goarch(),
		"CGO_ENABLED=0",
		"GOAMD64=v1",
		"GOARM64=v8.0",
		"GOFLAGS=-mod=readonly",
		"GOEXPERIMENT=",
	)
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return fmt.Errorf("go build %s: %w", opts.Package, err)
		}
		return fmt.Errorf("go build %s: %w:\n%s", opts.Package, err, msg)
	}
	return nil
}
