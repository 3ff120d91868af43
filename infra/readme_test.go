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

	"github.com/privateledger/licences/function/route"
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

// TestDocsRouteTableIsTheRouteTable: the API page lists every route the
// handler serves and the stack deploys, and no other.
func TestDocsRouteTableIsTheRouteTable(t *testing.T) {
	documented := map[string]bool{}
	for _, row := range readmeTable(t, "docs/api.md", "# The API") {
		documented[row["route"]] = true
	}
	for _, r := range route.Routes() {
		if !documented[r.Pattern()] {
			t.Errorf("docs/api.md does not list %s", r.Pattern())
		}
		delete(documented, r.Pattern())
	}
	for r := range documented {
		t.Errorf("docs/api.md lists %s, which is not a route", r)
	}
}

// TestDocsAlarmTableIsTheAlarms: the operating page lists every alarm some
// shipped stage makes (<function> standing for each function), each
// threshold key it names is one alarmThresholds takes (or "fixed"), and the cost
// table's alarm counts are each stage's.
func TestDocsAlarmTableIsTheAlarms(t *testing.T) {
	const heading = "## Alarms, the dashboard, and what a stage costs"
	made, keys := map[string]bool{}, map[string]bool{}
	count := map[string]int{}
	var parts []string
	for _, stage := range shippedStages {
		d := mustDeploy(t, stage, nil)
		for _, a := range alarms(d.config, newNames(d.config)) {
			made[a.ID] = true
			count[stage]++
		}
		for k := range alarmThresholds(d.config) {
			keys[k] = true
		}
		for _, p := range stageParts(d.config) {
			if !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
	}
	documented := map[string]bool{}
	thresholdKey := regexp.MustCompile(`\(([A-Za-z0-9]+)\)$`)
	for _, row := range readmeTable(t, operatingPage, heading) {
		for _, id := range strings.Split(row["alarm"], ",") {
			id = strings.TrimSpace(id)
			if rest, ok := strings.CutPrefix(id, "<function>"); ok {
				for _, p := range parts {
					documented[p+rest] = true
				}
				continue
			}
			documented[id] = true
		}
		m := thresholdKey.FindStringSubmatch(row["default threshold (alarmThresholds key)"])
		if m == nil || !keys[m[1]] && m[1] != "fixed" {
			t.Errorf("%s: alarm %s names the threshold key %v, which alarmThresholds does not take", operatingPage, row["alarm"], m)
		}
	}
	for id := range made {
		if !documented[id] {
			t.Errorf("%s does not list the alarm %s", operatingPage, id)
		}
	}
	for id := range documented {
		if !made[id] {
			t.Errorf("%s lists the alarm %s, which no shipped stage makes", operatingPage, id)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", operatingPage))
	if err != nil {
		t.Fatal(err)
	}
	costs := regexp.MustCompile(`(?m)^\| alarms \| [^|]+ \| (\d+): [^|]+ \| (\d+): [^|]+ \| (\d+): [^|]+ \|$`).FindStringSubmatch(string(b))
	if costs == nil {
		t.Fatalf("%s has no alarms row in its cost table for dev, prod and qldb", operatingPage)
	}
	for i, stage := range []string{"dev", "prod", "qldb"} {
		if strconv.Itoa(count[stage]) != costs[i+1] {
			t.Errorf("%s's cost table counts %s alarms for %s; it makes %d", operatingPage, costs[i+1], stage, count[stage])
		}
	}
}
