package infra

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkStackFile refuses a stack file in dir that sets a key of the
// project's namespace the project does not declare: the CLI passes such a
// key on without a word, and the program would never read it, so
// `licences:wafs: true` would deploy with WAF off. The error names the key
// and the declared key nearest to it. A directory without the project's
// files (a program run from elsewhere) has nothing to check.
func checkStackFile(dir, project, stack string) error {
	var declared struct {
		Config map[string]any `yaml:"config"`
	}
	var set struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &declared); err != nil {
		return err
	}
	if err := readYAML(filepath.Join(dir, "Pulumi."+stack+".yaml"), &set); err != nil {
		return err
	}
	if declared.Config == nil {
		return nil
	}
	known := make([]string, 0, len(declared.Config))
	for k := range declared.Config {
		known = append(known, k)
	}
	sort.Strings(known)
	var unknown []string
	for k := range set.Config {
		name, ours := strings.CutPrefix(k, project+":")
		if !ours {
			continue
		}
		if _, ok := declared.Config[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	var errs []error
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("stack file Pulumi.%s.yaml sets %s:%s, which Pulumi.yaml does not declare; did you mean %s:%s?",
			stack, project, name, project, nearest(name, known)))
	}
	return errors.Join(errs...)
}

// readYAML reads a YAML file into v; a file that does not exist leaves v
// as it is.
func readYAML(path string, v any) error {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the project's own files, by the names Pulumi gives them
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return nil
}

// nearest is the candidate fewest edits from s (Levenshtein distance,
// letters compared without case).
func nearest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
