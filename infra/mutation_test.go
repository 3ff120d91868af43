package infra

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A security test says in its doc comment which one-line change to the
// infra code breaks the property it guards, as
//
//	Mutant: file.go `code as it is` -> `code as it would be`
//
// TestEveryMutantIsCaught makes each such change (through go test's
// -overlay, leaving the files alone) and runs that test alone on the
// changed code: it must fail. A test that passes on code it should refuse
// is a test that cannot fail for the reason it is named.
var mutantLine = regexp.MustCompile("^Mutant: (\\S+\\.go) `([^`]+)` -> `([^`]*)`$")

type mutant struct {
	test, file, from, to string
}

// mutants reads every Mutant line of the package's tests.
func mutants(t *testing.T) []mutant {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []mutant
	fset := token.NewFileSet()
	for _, f := range files {
		parsed, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range parsed.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Doc == nil || !strings.HasPrefix(fn.Name.Name, "Test") {
				continue
			}
			for _, line := range strings.Split(fn.Doc.Text(), "\n") {
				if m := mutantLine.FindStringSubmatch(line); m != nil {
					out = append(out, mutant{fn.Name.Name, m[1], m[2], m[3]})
				} else if strings.HasPrefix(line, "Mutant:") {
					t.Errorf("%s: malformed mutant line %q", fn.Name.Name, line)
				}
			}
		}
	}
	return out
}

func TestEveryMutantIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package once per mutant: skipped with -short")
	}
	all := mutants(t)
	if len(all) < 20 {
		t.Fatalf("%d mutants, want one at least for every security test", len(all))
	}
	dir := t.TempDir()
	for i, m := range all {
		t.Run(m.test+"/"+m.file, func(t *testing.T) {
			// Each mutant builds the package anew; they build side by side,
			// one per processor (go test's -parallel).
			t.Parallel()
			src, err := os.ReadFile(m.file)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(src), m.from); n != 1 {
				t.Fatalf("%s holds %q %d times, want once: the mutant no longer describes the code", m.file, m.from, n)
			}
			changed := filepath.Join(dir, fmt.Sprintf("%s.%d.go", filepath.Base(m.file), i))
			if err := os.WriteFile(changed, []byte(strings.Replace(string(src), m.from, m.to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(m.file)
			overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: changed}})
			overlayFile := filepath.Join(dir, fmt.Sprintf("overlay-%d.json", i))
			if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "test", "-overlay", overlayFile, "-count=1", "-run", "^"+m.test+"$", ".")
			out, err := cmd.CombinedOutput()
			switch {
			case err == nil:
				t.Errorf("%s passes with %s changed from %q to %q: it does not guard what it names", m.test, m.file, m.from, m.to)
			case !strings.Contains(string(out), "--- FAIL: "+m.test):
				t.Errorf("with %s changed, %s did not fail as a test (the change may not build):\n%s", m.file, m.test, out)
			}
		})
	}
}
