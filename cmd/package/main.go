// Command package builds the Lambda artifact outside Pulumi, for inspection
// and for scripts:
//
//	go run ./cmd/package -o DIR [-arch arm64|x86_64]
//
// It prints the zip's path, size, SHA-256 (in hex, as sha256sum prints it;
// Lambda's CodeSha256 is the same sum in base64) and architecture as
// key=value lines.
package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
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
	sum, err := base64.StdEncoding.DecodeString(art.SHA256)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package: the artifact's SHA-256:", err)
		os.Exit(1)
	}
	fmt.Printf("path=%s\nsize=%d\nsha256=%s\narch=%s\n", art.Path, art.Size, hex.EncodeToString(sum), art.Arch)
}
