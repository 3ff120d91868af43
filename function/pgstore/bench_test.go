package pgstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/privateledger/licences/function/licence"
)

// BenchmarkWrites measures each write against the local server and reports
// the statements it sends (BEGIN and COMMIT included).
func BenchmarkWrites(b *testing.B) {
	db := newDB(b)
	s, counter := db.api, db.statements
	ctx := context.Background()
	n := 0
	var current testing.TB = b
	fresh := func() licence.Licence {
		n++
		return create(current, s, fmt.Sprintf("bench%d@example.com", n), "")
	}
	for _, w := range []struct {
		name    string
		prepare bool // the write needs a licence made before it is timed
		op      func(l licence.Licence) error
	}{
		{"create", false, func(licence.Licence) error { fresh(); return nil }},
		{"update", true, func(l licence.Licence) error {
			_, err := s.Update(ctx, l.ID, func(l *licence.Licence) { l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at, clerk) })
			return err
		}},
		{"delete", true, func(l licence.Licence) error { return s.Delete(ctx, l.ID, licence.Deletion(at, clerk)) }},
	} {
		b.Run(w.name, func(b *testing.B) {
			current = b
			var statements int64
			for b.Loop() {
				var l licence.Licence
				if w.prepare {
					b.StopTimer()
					l = fresh()
					b.StartTimer()
				}
				before := counter.n.Load()
				if err := w.op(l); err != nil {
					b.Fatal(err)
				}
				statements += counter.n.Load() - before
			}
			b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
		})
	}
}
