package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// The documentation's tables are part of the product: these tests fail
// when a stack output, a config key, a stage's value, a resource count or a
// path in the layout is missing from them or differs from the code.

// The pages that hold them, from the project's root.
const (
	readmePage    = "README.md"
	operatingPage = "docs/operating.md"
)

// readmeTable returns the rows of the first table under heading in a page
// of the documentation, as maps from the header's cells to the row's, with
// backquotes removed.
func readmeTable(t *testing.T, page, heading string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", page))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start := slices.Index(lines, heading)
	if start < 0 {
		t.Fatalf("%s has no heading %q", page, heading)
	}
	cells := func(line string) []string {
		parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i, p := range parts {
			parts[i] = strings.TrimSpace(strings.ReplaceAll(p, "`", ""))
		}
		return parts
	}
	var header []string
	var rows []map[string]string
	for _, line := range lines[start+1:] {
		if !strings.HasPrefix(line, "|") {
			if header != nil {
				break
			}
			if strings.HasPrefix(line, "#") {
				break
			}
			continue
		}
		c := cells(line)
		switch {
		case header == nil:
			header = c
		case strings.Trim(strings.Join(c, ""), "-: ") == "":
		default:
			row := map[string]string{}
			for i, h := range header {
				if i < len(c) {
					row[h] = c[i]
				}
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table under %q", page, heading)
	}
	return rows
}

func TestREADMEListsEveryStackOutput(t *testing.T) {
	documented := map[string]bool{}
	for _, row := range readmeTable(t, operatingPage, "## Stack outputs") {
		for _, name := range strings.Split(row["output"], ",") {
			documented[strings.TrimSpace(name)] = true
		}
	}
	produced := map[string]bool{}
	for _, stage := range shippedStages {
		for k := range mustDeploy(t, stage, nil).outputs {
			produced[k] = true
			if !documented[k] {
				t.Errorf("stage %s exports %s, which the README's outputs table does not list", stage, k)
			}
		}
	}
	for k := range documented {
		if !produced[k] {
			t.Errorf("the README lists the output %s, which no shipped stage exports", k)
		}
	}
}

// TestREADMEConfigurationTableIsTheStackFiles checks each row of the
// README's configuration table against Pulumi.yaml (key, default) and each
// stage's column against its stack file (or the default, where the file
// sets nothing). An empty string is written "".
func TestREADMEConfigurationTableIsTheStackFiles(t *testing.T) {
	project, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeTable(t, operatingPage, "## Configuration")
	byKey := map[string]map[string]string{}
	for _, row := range rows {
		byKey[row["key"]] = row
	}
	for key := range project.Config {
		if byKey["licences:"+key] == nil {
			t.Errorf("Pulumi.yaml declares %s, which the README's configuration table does not list", key)
		}
	}
	shown := func(v string) string {
		if v == "" {
			return `""`
		}
		return v
	}
	for key, row := range byKey {
		name, isProject := strings.CutPrefix(key, "licences:")
		if isProject {
			typ, ok := project.Config[name]
			if !ok {
				t.Errorf("the README lists %s, which Pulumi.yaml does not declare", key)
				continue
			}
			want := shown(configText(typ.Default))
			if row["default"] != want {
				t.Errorf("README: %s defaults to %q, Pulumi.yaml says %q", key, row["default"], want)
			}
		}
		for _, stage := range shippedStages {
			cell, ok := row[stage]
			if !ok {
				t.Fatalf("the README's configuration table has no column for the stage %s", stage)
			}
			if want := shown(stackConfig(t, stage, nil)[key]); cell != want {
				t.Errorf("README: %s is %q in %s, Pulumi.%s.yaml (or the default) says %q", key, cell, stage, stage, want)
			}
		}
	}
}

// TestREADMELayoutIsTheTree checks that every path in the README's layout
// table exists, and that every directory holding Go code is in the table
// (itself or a parent).
func TestREADMELayoutIsTheTree(t *testing.T) {
	var listed []string
	for _, row := range readmeTable(t, readmePage, "## Layout") {
		for _, p := range strings.Split(row["path"], ",") {
			p = strings.TrimSuffix(strings.TrimSpace(p), "/")
			listed = append(listed, p)
			if _, err := os.Stat(filepath.Join("..", p)); err != nil {
				t.Errorf("the README's layout lists %s, which does not exist", p)
			}
		}
	}
	root, _ := filepath.Abs("..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(path) != ".go" || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(rel)
		covered := slices.ContainsFunc(listed, func(p string) bool {
			return p == dir || p == rel || strings.HasPrefix(dir, p+"/")
		})
		if !covered {
			t.Errorf("%s holds Go code and is not in the README's layout table", dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestREADMEResourceCounts holds the first-deploy runbook's resource counts
// to each Aurora stage's plan: every resource the program registers,
// components included, as the engine counts what it creates (less the
// stack itself and its provider).
func TestREADMEResourceCounts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", operatingPage))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`dev's plan holds (\d+) resources and prod's (\d+)`).FindStringSubmatch(strings.Join(strings.Fields(string(b)), " "))
	if m == nil {
		t.Fatalf("%s does not say how many resources dev's and prod's plans hold", operatingPage)
	}
	for i, stage := range []string{"dev", "prod"} {
		if n := len(mustDeploy(t, stage, nil).resources); strconv.Itoa(n) != m[i+1] {
			t.Errorf("%s says %s's plan holds %s resources; it holds %d", operatingPage, stage, m[i+1], n)
		}
	}
}
