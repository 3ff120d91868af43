// Package schema is everything the migration applies: the QLDB ledger's
// tables and indexes, and the PostgreSQL schema. The stack runs the
// migration again whenever any of it changes (Fingerprint).
package schema

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
)

// PostgresSQL creates or upgrades the PostgreSQL schema; running it again
// changes nothing.
//
//go:embed postgres.sql
var PostgresSQL string

// Version is the schema's version, which records and history carry. Bump
// it with any change to what a record holds; a change that only adds (an
// index, a grant, a function) need not bump it: Fingerprint covers every
// change.
//
//   - 1: Licences, indexed by email.
//   - 2: Licences also indexed by idempotency key; Deletions, one document
//     per deleted licence holding the deleting event and any erasure.
const Version = 2

// Table is a table of the ledger and the fields of it that are looked up
// by equality, each of which needs an index in QLDB. Documents are looked
// up by their document id otherwise, which needs none.
type Table struct {
	Name    string
	Indexes []string
}

// The ledger's tables.
const (
	// LicenceTable holds one document per licence; its document id is the
	// licence's id.
	LicenceTable = "Licences"
	// DeletionTable holds one document per deleted licence: the event that
	// deleted it (a QLDB deletion keeps no data of its own) and, once its
	// personal data is erased, the erasure.
	DeletionTable = "Deletions"
)

// Tables returns the ledger's tables, each with its indexes.
func Tables() []Table {
	return []Table{
		{LicenceTable, []string{"email", "idempotencyKey"}},
		{DeletionTable, []string{"licenceId"}},
	}
}

// Fingerprint is the SHA-256, in hex, of everything the migration applies:
// the version, every table with its indexes, and the PostgreSQL schema. The
// stack sends it to the migration and re-runs the migration when it
// changes, so an edit to any of them deploys with its migration.
func Fingerprint() string { return fingerprint(Version, Tables(), PostgresSQL) }

func fingerprint(version int, tables []Table, sql string) string {
	h := sha256.New()
	// Each part is written with its length, so no two different schemas
	// write the same bytes.
	fmt.Fprintf(h, "version %d\n", version)
	for _, t := range tables {
		fmt.Fprintf(h, "table %d:%s %d\n", len(t.Name), t.Name, len(t.Indexes))
		for _, i := range t.Indexes {
			fmt.Fprintf(h, "index %d:%s\n", len(i), i)
		}
	}
	fmt.Fprintf(h, "postgres %d:%s", len(sql), sql)
	return hex.EncodeToString(h.Sum(nil))
}

// ActivationEvent is sent to the migration function only to wake it when
// it has gone inactive (a deploy's preflight.Checker.Activate): Lambda
// fails that invocation before any code runs, and code that does receive
// it must change nothing.
const ActivationEvent = `{"activate":true}`
