package localqldb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/amzn/ion-go/ion"
)

// value is one Ion value with every distinction Ion makes: its type (a
// typed null keeps its type), its annotations and its exact content (big
// integers, decimals with their precision, timestamps with their precision
// and offset, symbols apart from strings, empty containers apart from
// null). Documents are held as values from the parameter that brought them
// to the row that returns them, never as Go's own types, so no statement
// can change what Ion says.
type value struct {
	typ         ion.Type
	null        bool
	annotations []string

	b      bool
	i      *big.Int
	f      float64
	d      *ion.Decimal
	t      ion.Timestamp
	text   string   // string, symbol
	bytes  []byte   // blob, clob
	items  []*value // list, sexp
	fields []field  // struct, in order; a name may repeat
}

type field struct {
	name string
	v    *value
}

// parseIon reads exactly one Ion value, text or binary.
func parseIon(b []byte) (*value, error) {
	r := ion.NewReaderBytes(b)
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("no Ion value")
	}
	v, err := readValue(r)
	if err != nil {
		return nil, err
	}
	if r.Next() {
		return nil, errors.New("more than one Ion value")
	}
	return v, r.Err()
}

// readValue reads the value the reader is on.
func readValue(r ion.Reader) (*value, error) {
	v := &value{typ: r.Type(), null: r.IsNull()}
	anns, err := r.Annotations()
	if err != nil {
		return nil, err
	}
	for _, a := range anns {
		if a.Text == nil {
			return nil, errors.New("an annotation without text")
		}
		v.annotations = append(v.annotations, *a.Text)
	}
	if v.null {
		return v, nil
	}
	switch v.typ {
	case ion.BoolType:
		b, err := r.BoolValue()
		if err != nil {
			return nil, err
		}
		v.b = *b
	case ion.IntType:
		v.i, err = r.BigIntValue()
	case ion.FloatType:
		var f *float64
		if f, err = r.FloatValue(); err == nil {
			v.f = *f
		}
	case ion.DecimalType:
		v.d, err = r.DecimalValue()
	case ion.TimestampType:
		var t *ion.Timestamp
		if t, err = r.TimestampValue(); err == nil {
			v.t = *t
		}
	case ion.StringType:
		var s *string
		if s, err = r.StringValue(); err == nil {
			v.text = *s
		}
	case ion.SymbolType:
		var s *ion.SymbolToken
		if s, err = r.SymbolValue(); err == nil {
			if s.Text == nil {
				return nil, errors.New("a symbol without text")
			}
			v.text = *s.Text
		}
	case ion.BlobType, ion.ClobType:
		var b []byte
		if b, err = r.ByteValue(); err == nil {
			v.bytes = append([]byte{}, b...)
		}
	case ion.ListType, ion.SexpType, ion.StructType:
		if err := r.StepIn(); err != nil {
			return nil, err
		}
		for r.Next() {
			var name *ion.SymbolToken
			if v.typ == ion.StructType {
				if name, err = r.FieldName(); err != nil {
					return nil, err
				}
				if name == nil || name.Text == nil {
					return nil, errors.New("a field name without text")
				}
			}
			item, err := readValue(r)
			if err != nil {
				return nil, err
			}
			if v.typ == ion.StructType {
				v.fields = append(v.fields, field{*name.Text, item})
			} else {
				v.items = append(v.items, item)
			}
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		err = r.StepOut()
		if v.typ != ion.StructType && v.items == nil {
			v.items = []*value{}
		}
	default:
		return nil, fmt.Errorf("unknown Ion type %v", v.typ)
	}
	return v, err
}

// write writes the value.
func (v *value) write(w ion.Writer) error {
	if len(v.annotations) > 0 {
		anns := make([]ion.SymbolToken, len(v.annotations))
		for i, a := range v.annotations {
			anns[i] = ion.NewSymbolTokenFromString(a)
		}
		if err := w.Annotations(anns...); err != nil {
			return err
		}
	}
	if v.null {
		if v.typ == ion.NullType {
			return w.WriteNull()
		}
		return w.WriteNullType(v.typ)
	}
	switch v.typ {
	case ion.BoolType:
		return w.WriteBool(v.b)
	case ion.IntType:
		return w.WriteBigInt(v.i)
	case ion.FloatType:
		return w.WriteFloat(v.f)
	case ion.DecimalType:
		return w.WriteDecimal(v.d)
	case ion.TimestampType:
		return w.WriteTimestamp(v.t)
	case ion.StringType:
		return w.WriteString(v.text)
	case ion.SymbolType:
		return w.WriteSymbolFromString(v.text)
	case ion.BlobType:
		return w.WriteBlob(v.bytes)
	case ion.ClobType:
		return w.WriteClob(v.bytes)
	case ion.ListType, ion.SexpType:
		begin, end := w.BeginList, w.EndList
		if v.typ == ion.SexpType {
			begin, end = w.BeginSexp, w.EndSexp
		}
		if err := begin(); err != nil {
			return err
		}
		for _, item := range v.items {
			if err := item.write(w); err != nil {
				return err
			}
		}
		return end()
	case ion.StructType:
		if err := w.BeginStruct(); err != nil {
			return err
		}
		for _, f := range v.fields {
			if err := w.FieldName(ion.NewSymbolTokenFromString(f.name)); err != nil {
				return err
			}
			if err := f.v.write(w); err != nil {
				return err
			}
		}
		return w.EndStruct()
	}
	return fmt.Errorf("unknown Ion type %v", v.typ)
}

// binary is the value in Ion binary: what QLDB measures its limits in,
// and what the wire carries.
func (v *value) binary() ([]byte, error) {
	var buf bytes.Buffer
	w := ion.NewBinaryWriter(&buf)
	if err := v.write(w); err != nil {
		return nil, err
	}
	if err := w.Finish(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hash is the value's Ion hash.
func (v *value) hash() ([]byte, error) {
	b, err := v.binary()
	if err != nil {
		return nil, err
	}
	return ionHash(b)
}

// get returns a struct's field by name (the first, if it repeats);
// MISSING (nil, false) for any other value.
func (v *value) get(name string) (*value, bool) {
	if v == nil || v.typ != ion.StructType || v.null {
		return nil, false
	}
	for _, f := range v.fields {
		if f.name == name {
			return f.v, true
		}
	}
	return nil, false
}

// with returns a copy of a struct with the field set (replacing every
// field of that name, or added last).
func (v *value) with(name string, x *value) *value {
	out := &value{typ: v.typ, annotations: v.annotations}
	done := false
	for _, f := range v.fields {
		switch {
		case f.name != name:
			out.fields = append(out.fields, f)
		case !done:
			out.fields = append(out.fields, field{name, x})
			done = true
		}
	}
	if !done {
		out.fields = append(out.fields, field{name, x})
	}
	return out
}

// isStruct reports whether v is a struct that is not null.
func (v *value) isStruct() bool { return v != nil && v.typ == ion.StructType && !v.null }

// Constructors for the values the ledger itself writes.

func ionString(s string) *value { return &value{typ: ion.StringType, text: s} }
func ionInt(n int64) *value     { return &value{typ: ion.IntType, i: big.NewInt(n)} }
func ionBlob(b []byte) *value   { return &value{typ: ion.BlobType, bytes: b} }
func ionTime(t ion.Timestamp) *value {
	return &value{typ: ion.TimestampType, t: t}
}
func ionStruct(fields ...field) *value { return &value{typ: ion.StructType, fields: fields} }
func ionList(items ...*value) *value {
	if items == nil {
		items = []*value{}
	}
	return &value{typ: ion.ListType, items: items}
}

// truth is a PartiQL truth value: comparing with NULL or MISSING is
// neither true nor false, and a WHERE clause keeps only true.
type truth int

const (
	unknown truth = iota
	yes
	no
)

func truthOf(b bool) truth {
	if b {
		return yes
	}
	return no
}

// number returns a number's exact value; false for anything else. Floats
// that are not finite have no exact value.
func (v *value) number() (*big.Rat, bool) {
	if v == nil || v.null {
		return nil, false
	}
	switch v.typ {
	case ion.IntType:
		return new(big.Rat).SetInt(v.i), true
	case ion.DecimalType:
		n, exp := v.d.CoEx()
		r := new(big.Rat).SetInt(n)
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(exp))), nil)
		if exp >= 0 {
			return r.Mul(r, new(big.Rat).SetInt(scale)), true
		}
		return r.Quo(r, new(big.Rat).SetInt(scale)), true
	case ion.FloatType:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(v.f), true
	}
	return nil, false
}

func abs32(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// isText reports whether v is a string or symbol: PartiQL compares both by
// their text.
func (v *value) isText() bool {
	return v != nil && !v.null && (v.typ == ion.StringType || v.typ == ion.SymbolType)
}

// errUncomparable reports a comparison of values the local ledger does not
// compare (collections), which it refuses rather than guess at.
var errUncomparable = errors.New("the local ledger compares only scalars (numbers, text, booleans, timestamps, blobs and clobs)")

// compare compares two values as PartiQL does, for op (one of = <> < <= >
// >=): NULL or MISSING on either side is unknown; numbers compare by value
// across int, decimal and float; strings and symbols by text; timestamps by
// the instant they name; values of kinds that do not compare are not equal
// (and not ordered).
func compare(a, b *value, op string) (truth, error) {
	if a == nil || b == nil || a.null || b.null {
		return unknown, nil
	}
	for _, v := range []*value{a, b} {
		switch v.typ {
		case ion.ListType, ion.SexpType, ion.StructType:
			return unknown, errUncomparable
		}
	}
	var c int
	switch x, xok := a.number(); {
	case xok:
		y, yok := b.number()
		if !yok {
			return mismatch(op), nil
		}
		c = x.Cmp(y)
	case a.typ == ion.FloatType: // NaN or infinity: equal to nothing, ordered with nothing
		return mismatch(op), nil
	case a.isText():
		if !b.isText() {
			return mismatch(op), nil
		}
		c = cmpString(a.text, b.text)
	case a.typ == ion.TimestampType:
		if b.typ != ion.TimestampType {
			return mismatch(op), nil
		}
		c = a.t.GetDateTime().Compare(b.t.GetDateTime())
	case a.typ == ion.BoolType:
		if b.typ != ion.BoolType {
			return mismatch(op), nil
		}
		if op != "=" && op != "<>" {
			return unknown, nil
		}
		c = boolInt(a.b) - boolInt(b.b)
	case a.typ == ion.BlobType || a.typ == ion.ClobType:
		if b.typ != a.typ {
			return mismatch(op), nil
		}
		if op != "=" && op != "<>" {
			return unknown, nil
		}
		c = bytes.Compare(a.bytes, b.bytes)
	default:
		return unknown, errUncomparable
	}
	switch op {
	case "=":
		return truthOf(c == 0), nil
	case "<>":
		return truthOf(c != 0), nil
	case "<":
		return truthOf(c < 0), nil
	case "<=":
		return truthOf(c <= 0), nil
	case ">":
		return truthOf(c > 0), nil
	case ">=":
		return truthOf(c >= 0), nil
	}
	return unknown, fmt.Errorf("operator %s", op)
}

// mismatch is the answer for values of kinds that do not compare: not
// equal, and neither ordered before nor after.
func mismatch(op string) truth {
	switch op {
	case "=":
		return no
	case "<>":
		return yes
	}
	return unknown
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
