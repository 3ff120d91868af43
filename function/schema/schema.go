// Package schema names the ledger's tables and indexes and versions them.
// The stack re-runs the migration whenever Version changes.
package schema

// Version is the schema's version. Bump it with any change below.
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
