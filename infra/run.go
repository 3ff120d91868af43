package infra

import (
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function"
)

// Run is the Pulumi program: it reads the stage's configuration, builds the
// handler and declares the stack.
func Run(ctx *pulumi.Context) error { return RunIn("")(ctx) }

// RunIn is the program for a project in dir, for running it in-process
// (the Automation API's inline programs), where the working directory need
// not be the project's. An empty dir means the project Pulumi names, or
// else the working directory.
func RunIn(dir string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return run(ctx, dir) }
}

func run(ctx *pulumi.Context, root string) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	if root == "" {
		root = ctx.RootDirectory()
	}
	// The handler builds in the project, and its zip goes under .build there
	// by an absolute path, so the engine finds it whatever its own directory.
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	art, err := function.Build(ctx.Context(), function.Options{
		Dir:    root,
		OutDir: filepath.Join(root, ".build", "function"),
		Arch:   function.ARM64,
	})
	if err != nil {
		return err
	}
	outputs, err := NewStack(ctx, cfg, art)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}
