package pgstore

import (
	"fmt"
	"testing"
)

// Checking is spread over checkers, a batch of whole licences each, yet
// the report is the one a single checker gives: with two licences broken
// many batches apart, the first in licence order is reported, and the
// counts are those of the revisions before it, every time.
func TestVerifyReportsTheFirstBrokenPlaceWhateverTheCheckers(t *testing.T) {
	const licences, first, second = 3000, 100, 2900
	d := newDB(t)
	fillLedger(t, d, licences) // two revisions each, ids in order
	d.tamper(t,
		fmt.Sprintf(`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '9') WHERE licence_id = lpad('%d', 22, '0') AND version = 1`, first),
		fmt.Sprintf(`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '9') WHERE licence_id = lpad('%d', 22, '0') AND version = 1`, second))
	want := fmt.Sprintf("%022d", first)
	for range 5 {
		rep := d.verify(t, nil)
		if rep.Broken == nil || rep.Broken.LicenceID != want || rep.Broken.Version != 1 {
			t.Fatalf("reported %+v, want licence %s at version 1", rep.Broken, want)
		}
		// The licences before it whole, and its first revision.
		if rep.Licences != first || rep.Revisions != 2*(first-1)+1 || rep.Read != rep.Revisions {
			t.Fatalf("counted %d licences, %d revisions, %d rows read; want %d, %d and as many rows", rep.Licences, rep.Revisions, rep.Read, first, 2*(first-1)+1)
		}
	}
}
