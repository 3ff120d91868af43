package pgstore

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
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

// BenchmarkVerify measures a full verification of a ledger of 20,000
// licences with two revisions each (made, then 3 points added), filled by
// the history trigger from two statements.
func BenchmarkVerify(b *testing.B) {
	const licences = 20000
	db := newDB(b)
	fillLedger(b, db, licences)
	for b.Loop() {
		rep := db.verify(b, nil)
		if rep.Broken != nil || rep.Revisions != 2*licences || rep.Live != licences {
			b.Fatalf("the ledger: %+v", rep)
		}
	}
	b.ReportMetric(float64(2*licences), "revisions")
}

// BenchmarkCheckChains measures the checking of a verification alone, on
// the history of 20,000 licences read beforehand: with -cpu 1,2 it shows
// the checking spread over checkers, which BenchmarkVerify cannot here,
// where the database shares the two cores.
func BenchmarkCheckChains(b *testing.B) {
	const licences = 20000
	db := newDB(b)
	fillLedger(b, db, licences)
	history, es := db.history(b)
	runtime.GC() // the filling's garbage is not the checking's
	for b.Loop() {
		var rep Report
		if err := checkChains(rowsOf(history), es, &rep); err != nil || rep.Broken != nil || rep.Revisions != 2*licences {
			b.Fatalf("checked %+v, %v", rep, err)
		}
	}
}

// BenchmarkConcurrentWrites measures writes at 1 to 128 clients at once
// (storetest.ConcurrentWrites), each client its own connection, as that
// many Lambda instances hold one each. Every write holds the ledger's tip
// while it commits, so the tip's row is the ceiling this shows.
func BenchmarkConcurrentWrites(b *testing.B) {
	storetest.ConcurrentWrites(b, func(b *testing.B) licence.Store { return newDB(b).api })
}

// BenchmarkReads measures a get and history pages at 100 and 10,000
// revisions (storetest.Reads).
func BenchmarkReads(b *testing.B) {
	storetest.Reads(b, func(b *testing.B) licence.Store { return newDB(b).api })
}

// fillLedger writes n licences, each made then given 3 points, through the
// history trigger in two statements, as the domain writes them.
func fillLedger(t testing.TB, db *db, n int) {
	t.Helper()
	created := `'{"kind":"LicenceCreated","at":"2026-11-25T09:00:00Z","actor":{"principal":"bench"}}'::jsonb`
	added := `'{"kind":"PenaltyPointsAdded","points":3,"reason":"speeding","at":"2026-11-25T10:00:00Z","actor":{"principal":"bench"}}'::jsonb`
	for _, stmt := range []string{
		`INSERT INTO licences (id, email, doc) SELECT lpad(i::text, 22, '0'), 'l' || i || '@example.com',
			jsonb_build_object('firstName', 'Jo', 'lastName', 'Bloggs', 'email', 'l' || i || '@example.com', 'telephone', '07700900123',
				'postcode', 'SW1A 1AA', 'penaltyPoints', 0, 'lastEvent', ` + created + `)
			FROM generate_series(1, ` + fmt.Sprint(n) + `) i`,
		`UPDATE licences SET doc = doc || jsonb_build_object('penaltyPoints', 3, 'lastEvent', ` + added + `)`,
	} {
		if _, err := db.owner.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
}
