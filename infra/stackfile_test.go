package infra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A misspelt key in a stack file stops the program, naming the key and the
// declared key nearest to it, before anything is registered; the shipped
// stack files pass.
//
// Mutant: stackfile.go `if _, ok := declared.Config[name]; !ok {` -> `if _, ok := declared.Config[name]; ok && !ok {`
func TestAMisspeltKeyStopsTheProgram(t *testing.T) {
	project, err := os.ReadFile(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stack := "config:\n  aws:region: eu-west-2\n  licences:wafs: true\n  licences:MemoryMB: 256\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(stack), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &mocks{region: "eu-west-2"}
	_, err = runProgram(t, m, "dev", stackConfig(t, "dev", nil), WithoutPreflight(), func(p *program) { p.dir = dir })
	for _, want := range []string{"licences:wafs, which Pulumi.yaml does not declare; did you mean licences:waf?",
		"licences:MemoryMB, which Pulumi.yaml does not declare; did you mean licences:memoryMb?"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a stack file with misspelt keys: %v, want it to say %q", err, want)
		}
	}
	if len(m.resources) != 0 {
		t.Errorf("%d resources registered before the refusal", len(m.resources))
	}
	for _, stage := range shippedStages {
		if err := checkStackFile("..", "licences", stage); err != nil {
			t.Errorf("Pulumi.%s.yaml: %v", stage, err)
		}
	}
}
