package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No committed stack file holds a secrets manager's state (a salt, a
// provider, an encrypted key) or a secure value: each belongs to one
// person's passphrase or key, and with it committed `pulumi stack init`
// with any other passphrase stops at "incorrect passphrase".
func TestNoCommittedStackFileHoldsASecret(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "Pulumi.*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("stack files: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if state, err := secretsState(b); err != nil || len(state) != 0 {
			t.Errorf("%s holds a secrets manager's state %v (%v): remove it", f, state, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if path := securePath(&doc, filepath.Base(f)); path != "" {
			t.Errorf("%s holds a secure value at %s: secrets are set per person, never committed", f, path)
		}
	}
	if got := securePath(mustNode(t, "config:\n  licences:token:\n    secure: AAAB\n"), "x"); got != "x/config/licences:token" {
		t.Errorf("securePath on a secure value = %q: the check above cannot fail", got)
	}
}

// securePath is where a node holds a "secure:" value, or "".
func securePath(n *yaml.Node, at string) string {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if p := securePath(c, at); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "secure" {
				return at
			}
			if p := securePath(n.Content[i+1], at+"/"+n.Content[i].Value); p != "" {
				return p
			}
		}
	}
	return ""
}

func mustNode(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

// The engine runs each stage in a workspace of its own: the salt Pulumi
// writes into the stack file on a stage's first use lands in the private
// copy and is kept from run to run, while the tracked stack file stays
// byte for byte as it was, and an edit to it reaches the next run.
func TestUsingAStageNeverChangesATrackedFile(t *testing.T) {
	tracked := "# dev\nconfig:\n  aws:region: eu-west-2\n"
	dir := project(t, map[string]string{"dev": tracked})
	work, err := prepareWorkspace(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if work == dir || !strings.HasPrefix(work, filepath.Join(dir, ".pulumi-state")+string(filepath.Separator)) {
		t.Fatalf("workspace %s, want a directory of its own under the ignored .pulumi-state", work)
	}
	// The engine's first use: it writes a salt into the stack file it has.
	private := filepath.Join(work, "Pulumi.dev.yaml")
	salted := tracked + "encryptionsalt: v1:abc=:v1:def:ghi==\n"
	if err := os.WriteFile(private, []byte(salted), 0o600); err != nil {
		t.Fatal(err)
	}
	// The stage's settings change in the tracked file.
	edited := tracked + "  licences:memoryMb: \"1024\"\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareWorkspace(dir, "dev"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(private)
	if want := edited + "encryptionsalt: \"v1:abc=:v1:def:ghi==\"\n"; string(got) != want {
		t.Errorf("the workspace's stack file:\n%s\nwant the edit and the kept salt:\n%s", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "Pulumi.dev.yaml")); string(b) != edited {
		t.Errorf("the tracked stack file changed:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "Pulumi.yaml")); string(b) != "name: licences\nruntime: go\n" {
		t.Errorf("the workspace's Pulumi.yaml %q, want the project's", b)
	}
	var back map[string]any
	if err := yaml.Unmarshal(got, &back); err != nil || back["encryptionsalt"] != "v1:abc=:v1:def:ghi==" {
		t.Errorf("the workspace's stack file reads back as %v (%v)", back, err)
	}

	// Someone's stack file with a salt of its own (the Pulumi CLI used
	// alone) is used as it is, never given a second salt.
	own := tracked + "encryptionsalt: v1:mine\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareWorkspace(dir, "dev"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(private); string(got) != own {
		t.Errorf("with the stack file's own salt the workspace holds:\n%s", got)
	}
}
