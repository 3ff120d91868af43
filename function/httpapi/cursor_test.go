package httpapi

import (
	"encoding/base64"
	"testing"

	"github.com/privateledger/licences/function/licence"
)

// A cursor is whatever a client sends: parsing never panics, and what it
// accepts is a version in range that the handler's own cursor writes the
// same way.
func FuzzParseCursor(f *testing.F) {
	const id = "J1ksizaGe7X1M87b5HKExk"
	for _, seed := range []string{cursor(id, 0), cursor(id, 3), cursor(id, licence.MaxVersion), "bm9wZQ", "",
		base64.RawURLEncoding.EncodeToString([]byte(id + ".2147483648")), base64.RawURLEncoding.EncodeToString([]byte(id + ".-1"))} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, c string) {
		n, ok := parseCursor(id, c)
		if !ok {
			return
		}
		if n < 0 || n > licence.MaxVersion || cursor(id, n) != c {
			t.Errorf("parseCursor(%q) = %d: out of range, or not what cursor writes (%q)", c, n, cursor(id, n))
		}
	})
}
