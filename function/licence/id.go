package licence

import "github.com/privateledger/licences/function/docid"

// A licence id has the shape of a QLDB document id (docid), so ids look
// alike whichever engine keeps the licences.

// ValidID reports whether s can be a licence id.
func ValidID(s string) bool { return docid.Valid(s) }

// NewID returns a random licence id, for stores that make their own.
func NewID() string { return docid.New() }
