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
// is a test that cannot fail for the reason it is named. The code is
// matched ignoring how much white space separates its tokens, so gofmt
// realigning a block leaves the mutants describing it.
//
// It builds the package once per mutant, minutes of work: CI runs it as a
// step of its own (.ci/run), with LICENCES_MUTANTS=on; `go test ./...`
// skips it, saying how to run it.
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

// mutantsEnv turns the mutation run on.
const mutantsEnv = "LICENCES_MUTANTS"

// locate finds code in src ignoring the amount of white space between its
// tokens (any run of spaces and tabs matches any other, and a token
// boundary matches none), and returns each match's span.
func locate(src, code string) [][]int {
	var pattern strings.Builder
	for i, field := range strings.Fields(code) {
		if i > 0 {
			pattern.WriteString(`\s*`)
		}
		pattern.WriteString(regexp.QuoteMeta(field))
	}
	return regexp.MustCompile(pattern.String()).FindAllStringIndex(src, -1)
}

func TestMutantsMatchIgnoringWhiteSpace(t *testing.T) {
	src := "a := f(x)\n\tStorageEncrypted:         pulumi.Bool(true),\n"
	if got := locate(src, "StorageEncrypted: pulumi.Bool(true),"); len(got) != 1 || src[got[0][0]:got[0][1]] != "StorageEncrypted:         pulumi.Bool(true)," {
		t.Errorf("locate = %v, want the realigned line", got)
	}
	if got := locate(src, "a := g(x)"); len(got) != 0 {
		t.Errorf("locate found %v for code that is not there", got)
	}
	if got := locate("ab", "a b"); len(got) != 1 {
		t.Errorf("locate(ab, a b) = %v: tokens written apart match tokens written together", got)
	}
}

// Every mutant names code that is there, once: checked on every run, so a
// change that leaves a mutant behind fails at once, not only in the
// mutation run.
func TestEveryMutantDescribesTheCode(t *testing.T) {
	all := mutants(t)
	if len(all) < 20 {
		t.Fatalf("%d mutants, want one at least for every security test", len(all))
	}
	for _, m := range all {
		src, err := os.ReadFile(m.file)
		if err != nil {
			t.Fatalf("%s: %v", m.test, err)
		}
		if n := len(locate(string(src), m.from)); n != 1 {
			t.Errorf("%s: %s holds %q %d times, want once: the mutant no longer describes the code", m.test, m.file, m.from, n)
		}
	}
}

func TestEveryMutantIsCaught(t *testing.T) {
	if os.Getenv(mutantsEnv) != "on" {
		t.Skipf("builds the package once per mutant, minutes of work: run with %s=on (CI runs it as a step of its own)", mutantsEnv)
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
			spans := locate(string(src), m.from)
			if len(spans) != 1 {
				t.Fatalf("%s holds %q %d times, want once: the mutant no longer describes the code", m.file, m.from, len(spans))
			}
			changed := filepath.Join(dir, fmt.Sprintf("%s.%d.go", filepath.Base(m.file), i))
			mutated := string(src[:spans[0][0]]) + m.to + string(src[spans[0][1]:])
			if err := os.WriteFile(changed, []byte(mutated), 0o600); err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(m.file)
			overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: changed}})
			overlayFile := filepath.Join(dir, fmt.Sprintf("overlay-%d.json", i))
			if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
				t.Fatal(err)
			}
			// No vet (CI vets the code as it is) and no DWARF: a third less
			// time per mutant, all of it spent building.
			cmd := exec.Command("go", "test", "-vet=off", "-ldflags=-w", "-overlay", overlayFile, "-count=1", "-run", "^"+m.test+"$", ".")
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
