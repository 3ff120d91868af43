package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// secretsKeys are the top-level keys of a stack file in which Pulumi keeps
// a stack's secrets manager: the passphrase's salt, or a cloud provider and
// its encrypted key. They belong to one person's passphrase or key, so they
// never go in a committed stack file: a salt made with one passphrase makes
// every other passphrase fail ("incorrect passphrase").
var secretsKeys = []string{"encryptionsalt", "secretsprovider", "encryptedkey"}

// workspaceDir is where the engine runs for a stage: a directory of its own
// under the project's ignored .pulumi-state, never the project itself.
func workspaceDir(project, stage string) string {
	return filepath.Join(project, ".pulumi-state", "workspaces", stage)
}

// prepareWorkspace lays out the stage's private workspace and returns its
// directory: the project's Pulumi.yaml, and the stage's stack file as it is
// in the project with the secrets manager's keys that the engine wrote on
// the stage's first use carried over from the last run. The Pulumi CLI
// writes a new stack's salt into its stack file; here that file is the
// private copy, so using a stage never changes a tracked file.
func prepareWorkspace(project, stage string) (string, error) {
	work := workspaceDir(project, stage)
	if err := os.MkdirAll(work, 0o700); err != nil {
		return "", fmt.Errorf("make the stage's workspace: %w", err)
	}
	projectFile, err := os.ReadFile(filepath.Join(project, "Pulumi.yaml")) //nolint:gosec // G304: the project's own file
	if err != nil {
		return "", err
	}
	stackName := "Pulumi." + stage + ".yaml"
	tracked, err := os.ReadFile(filepath.Join(project, stackName)) //nolint:gosec // G304: the stage was checked against the project's stack files
	if err != nil {
		return "", err
	}
	own, err := secretsState(tracked)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", stackName, err)
	}
	stack := tracked
	// A stack file that carries its own secrets manager (someone's local
	// copy used with the Pulumi CLI alone) is used as it is.
	if len(own) == 0 {
		previous, err := os.ReadFile(filepath.Join(work, stackName)) //nolint:gosec // G304: the stage's own workspace
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		kept, err := secretsState(previous)
		if err != nil {
			return "", fmt.Errorf("read the workspace's %s: %w", stackName, err)
		}
		stack = withSecretsState(tracked, kept)
	}
	for name, body := range map[string][]byte{"Pulumi.yaml": projectFile, stackName: stack} {
		if err := os.WriteFile(filepath.Join(work, name), body, 0o600); err != nil {
			return "", fmt.Errorf("write the stage's workspace: %w", err)
		}
	}
	return work, nil
}

// secretsState returns the secrets manager's keys a stack file holds.
func secretsState(stackFile []byte) (map[string]string, error) {
	var top map[string]any
	if err := yaml.Unmarshal(stackFile, &top); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range secretsKeys {
		if v, ok := top[k].(string); ok && v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// withSecretsState appends the secrets manager's keys to a stack file that
// holds none.
func withSecretsState(stackFile []byte, state map[string]string) []byte {
	var b bytes.Buffer
	b.Write(stackFile)
	if len(stackFile) > 0 && !bytes.HasSuffix(stackFile, []byte("\n")) {
		b.WriteByte('\n')
	}
	for _, k := range secretsKeys {
		if v, ok := state[k]; ok {
			// A YAML double-quoted scalar: JSON's quoting is a subset.
			fmt.Fprintf(&b, "%s: %q\n", k, v)
		}
	}
	return b.Bytes()
}
