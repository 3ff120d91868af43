package licence

import (
	"crypto/rand"
	"regexp"
)

// A licence id is 22 characters of base62, the shape of a QLDB document id,
// so ids look alike whichever engine keeps the licences.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z]{22}$`)

// ValidID reports whether s can be a licence id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// NewID returns a random licence id, for stores that make their own.
func NewID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 22)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
