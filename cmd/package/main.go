// Command package builds the Lambda artifact outside Pulumi, for inspection
// and for scripts:
//
//	go run ./cmd/package -o DIR [-arch arm64|x86_64]
//
// It prints the zip's path, size and base64 SHA-256 as key=value lines.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/privateledger/licences/function"
)

func main() {
	out := flag.String("o", "", "directory to write the zip to (required)")
	arch := flag.String("arch", string(function.ARM64), "target architecture: arm64 or x86_64")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: package -o DIR [-arch arm64|x86_64]")
		os.Exit(2)
	}
	a, err := function.ParseArch(*arch)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	art, err := function.Build(ctx, function.Options{OutDir: *out, Arch: a})
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	fmt.Printf("path=%s\nsize=%d\nsha256=%s\narch=%s\n", art.Path, art.Size, art.SHA256, art.Arch)
}
