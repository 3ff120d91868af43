package localqldb

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/amzn/ion-go/ion"
	ionhash "github.com/amzn/ion-hash-go"
)

// The commit digest. QLDB and its drivers each compute a digest of a
// transaction, and CommitTransaction succeeds only when they agree, so a
// statement or parameter changed in flight cannot be committed. The digest
// starts as the Ion hash of the transaction id; each statement folds in the
// Ion hash of its text "dotted" with each parameter's Ion hash; "dot" is the
// SHA-256 of the two hashes concatenated in the order hashOrder gives.

// ionHash is the SHA-256 Ion hash of one Ion value given in binary.
func ionHash(ionBinary []byte) ([]byte, error) {
	r, err := ionhash.NewHashReader(ion.NewReaderBytes(ionBinary), ionhash.NewCryptoHasherProvider(ionhash.SHA256))
	if err != nil {
		return nil, err
	}
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return r.Sum(nil)
}

// ionHashOf is the Ion hash of a Go value, as Ion.
func ionHashOf(v any) ([]byte, error) {
	b, err := ion.MarshalBinary(v)
	if err != nil {
		return nil, err
	}
	return ionHash(b)
}

// dot combines two hashes; an empty hash is the identity.
func dot(a, b []byte) ([]byte, error) {
	switch {
	case len(a) == 0:
		return b, nil
	case len(b) == 0:
		return a, nil
	case len(a) != sha256.Size || len(b) != sha256.Size:
		return nil, fmt.Errorf("hash of %d and %d bytes, want %d", len(a), len(b), sha256.Size)
	}
	var joined []byte
	if hashOrder(a, b) < 0 {
		joined = append(append(joined, a...), b...)
	} else {
		joined = append(append(joined, b...), a...)
	}
	sum := sha256.Sum256(joined)
	return sum[:], nil
}

// hashOrder compares two hashes as QLDB does: as signed bytes, from the last
// byte to the first.
func hashOrder(a, b []byte) int {
	for i := len(a) - 1; i >= 0; i-- {
		if d := int(int8(a[i])) - int(int8(b[i])); d != 0 { //nolint:gosec // G115: the bytes are meant as signed, as QLDB compares them
			return d
		}
	}
	return 0
}

// digest is a transaction's running commit digest.
type digest struct{ sum []byte }

func newDigest(txID string) (*digest, error) {
	h, err := ionHashOf(txID)
	return &digest{h}, err
}

// addStatement folds one statement and its parameters into the digest.
func (d *digest) addStatement(statement string, params [][]byte) error {
	h, err := ionHashOf(statement)
	if err != nil {
		return err
	}
	for _, p := range params {
		ph, err := ionHash(p)
		if err != nil {
			return err
		}
		if h, err = dot(h, ph); err != nil {
			return err
		}
	}
	d.sum, err = dot(d.sum, h)
	return err
}

func (d *digest) equal(other []byte) bool { return bytes.Equal(d.sum, other) }
