// Package schema names the ledger's tables and indexes and versions them.
// The stack re-runs the migration whenever Version changes.
package schema

// Version is the schema's version. Bump it with any change below.
const Version = 1

// LicenceTable holds one document per licence.
const LicenceTable = "Licences"

// LicenceIndexes are the fields of LicenceTable that are looked up by
// equality, each of which needs an index in QLDB. Licences are looked up by
// their document id otherwise, which needs none.
func LicenceIndexes() []string {
	return []string{"email"}
}
