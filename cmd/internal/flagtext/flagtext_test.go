package flagtext

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestFlagsAreSpeltWithTwoDashes(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("stage", "", "the `stage` to act on")
	fs.Bool("yes", false, "do not ask")
	fs.Duration("timeout", time.Minute, "how long")
	var b bytes.Buffer
	Defaults(&b, fs)
	for _, want := range []string{"  --stage stage\n      the stage to act on\n", "  --yes\n      do not ask\n", "  --timeout duration\n      how long (default 1m0s)\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Defaults:\n%s\nwant %q", b.String(), want)
		}
	}
	for args, want := range map[string]string{
		"-stag":          "flag provided but not defined: --stag",
		"--timeout=soon": `invalid value "soon" for flag --timeout: parse error`,
		"--stage":        "flag needs an argument: --stage",
	} {
		err := fs.Parse([]string{args})
		if err == nil || Error(err) != want {
			t.Errorf("parse %s: %v, spelt %q; want %q", args, err, Error(err), want)
		}
	}
}
