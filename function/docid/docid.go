// Package docid makes ids in the shape of QLDB's document ids: a random
// 128-bit number written in 22 base-62 characters. Licences have such ids
// whichever engine keeps them, and the local QLDB gives its documents and
// transactions ids of the same shape.
package docid

import (
	"crypto/rand"
	"math/big"
	"regexp"
	"strings"
)

// Len is the length of an id: 62^22 > 2^128, so 22 digits hold any.
const Len = 22

var pattern = regexp.MustCompile(`^[0-9A-Za-z]{22}$`)

// Valid reports whether s has the shape of an id.
func Valid(s string) bool { return pattern.MatchString(s) }

// New returns a random id. Every 128-bit value is equally likely: the
// number is written in base 62 as a whole, not a byte at a time, so no
// digit is favoured.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24 and later)
	s := new(big.Int).SetBytes(b[:]).Text(62)
	return strings.Repeat("0", Len-len(s)) + s
}
