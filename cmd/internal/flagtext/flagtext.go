// Package flagtext writes a command's flags as its messages spell them,
// --name, where the standard flag package writes -name: one spelling in
// help, usage and errors alike.
package flagtext

import (
	"flag"
	"fmt"
	"io"
	"regexp"
)

// Defaults lists fs's flags, each with its usage and any default.
func Defaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// singleDash is a flag as the flag package's errors write it.
var singleDash = regexp.MustCompile(`(^|[\s:])-([A-Za-z][\w-]*)`)

// Error is a parse error of fs as the command spells flags.
func Error(err error) string {
	return singleDash.ReplaceAllString(err.Error(), "$1--$2")
}
