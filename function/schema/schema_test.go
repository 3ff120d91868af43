package schema

import (
	"strings"
	"testing"
)

// An edit to anything the migration applies changes the fingerprint the
// stack triggers the migration on: the SQL (one character), a table, an
// index, the version.
func TestEveryEditChangesTheFingerprint(t *testing.T) {
	base := Fingerprint()
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("Fingerprint() = %q, want 64 hex digits", base)
	}
	if base != fingerprint(Version, Tables(), PostgresSQL) || base != Fingerprint() {
		t.Fatal("the fingerprint is not a function of the schema alone")
	}
	renamed := Tables()
	renamed[0].Name += "s"
	moreIndexes := Tables()
	moreIndexes[0].Indexes = append(moreIndexes[0].Indexes, "telephone")
	// Moving a name's last letter into the next index keeps the joined
	// text the same: the lengths tell them apart.
	shifted := []Table{{"ab", []string{"c"}}}
	for name, fp := range map[string]string{
		"sql edited":           fingerprint(Version, Tables(), strings.Replace(PostgresSQL, "licences", "licencez", 1)),
		"sql one space more":   fingerprint(Version, Tables(), PostgresSQL+" "),
		"table renamed":        fingerprint(Version, renamed, PostgresSQL),
		"index added":          fingerprint(Version, moreIndexes, PostgresSQL),
		"version bumped":       fingerprint(Version+1, Tables(), PostgresSQL),
		"parts shifted":        fingerprint(Version, []Table{{"a", []string{"bc"}}}, PostgresSQL),
		"parts shifted, other": fingerprint(Version, shifted, PostgresSQL),
	} {
		if fp == base {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
	if fingerprint(Version, []Table{{"a", []string{"bc"}}}, "") == fingerprint(Version, shifted, "") {
		t.Error("two different tables give one fingerprint")
	}
}
