package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
)

// refused runs stmt through s's user and fails the test unless the
// database refuses it with an error holding want.
func refused(t *testing.T, s *Store, want, stmt string, args ...any) {
	t.Helper()
	_, err := s.pool.Exec(context.Background(), stmt, args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v, want %q", stmt, err, want)
	}
}

// The API's user can change only what an update changes.
func TestTheAPIUserCanChangeOnlyWhatAnUpdateChanges(t *testing.T) {
	d := newDB(t)
	l := create(t, d.api, "locked@example.com", "key")
	other := create(t, d.api, "other@example.com", "")
	const denied = "permission denied"
	refused(t, d.api, denied, `UPDATE licences SET id = $2 WHERE id = $1`, l.ID, other.ID+"x")
	refused(t, d.api, denied, `UPDATE licences SET email = 'new@example.com' WHERE id = $1`, l.ID)
	refused(t, d.api, denied, `UPDATE licences SET idempotency_key = 'k2', request_hash = 'h' WHERE id = $1`, l.ID)
	refused(t, d.api, "an update may change only", `UPDATE licences SET doc = jsonb_set(doc, '{firstName}', '"Al"') WHERE id = $1`, l.ID)
	refused(t, d.api, "licences_doc_email", `UPDATE licences SET doc = jsonb_set(doc, '{email}', '"other@example.com"') WHERE id = $1`, l.ID)
	refused(t, d.api, "without its event", `UPDATE licences SET doc = doc - 'lastEvent' WHERE id = $1`, l.ID)
	refused(t, d.api, "without an actor", `UPDATE licences SET doc = jsonb_set(doc, '{lastEvent,actor,principal}', '""') WHERE id = $1`, l.ID)
	refused(t, d.api, "without a deletion event", `DELETE FROM licences WHERE id = $1`, l.ID)
	refused(t, d.api, "without an actor", `INSERT INTO licences (id, email, doc) VALUES ('x', 'x@example.com', '{"email":"x@example.com","lastEvent":{"kind":"LicenceCreated"}}')`)
	for _, stmt := range []string{
		`UPDATE licence_history SET doc = '{}' WHERE licence_id = $1`,
		`DELETE FROM licence_history WHERE licence_id = $1`,
		`INSERT INTO licence_history SELECT * FROM licence_history WHERE licence_id = $1`,
		`UPDATE ledger_tip SET seq = 0 WHERE $1 <> ''`,
		`SELECT licence_erase($1, '{"actor":{"principal":"me"}}')`,
	} {
		refused(t, d.api, denied, stmt, l.ID)
	}
	if got, err := d.api.Get(context.Background(), l.ID); err != nil || got.FirstName != "Jo" || got.Email != "locked@example.com" {
		t.Errorf("after the refusals: %+v, %v", got, err)
	}
}

// The eraser's user may erase and nothing else; the digest's user may
// read and nothing else.
func TestTheEraserAndDigestUsersHoldNothingElse(t *testing.T) {
	d := newDB(t)
	l := create(t, d.api, "jo@example.com", "")
	const denied = "permission denied"
	for _, stmt := range []string{
		`SELECT * FROM licences WHERE id = $1`,
		`SELECT * FROM licence_history WHERE licence_id = $1`,
		`UPDATE licence_history SET doc = NULL WHERE licence_id = $1`,
		`DELETE FROM licences WHERE id = $1`,
	} {
		refused(t, d.eraser, denied, stmt, l.ID)
	}
	for _, stmt := range []string{
		`UPDATE licences SET doc = doc WHERE id = $1`,
		`UPDATE licence_history SET doc = NULL WHERE licence_id = $1`,
		`UPDATE ledger_tip SET seq = 0 WHERE $1 <> ''`,
		`SELECT licence_erase($1, '{"actor":{"principal":"me"}}')`,
	} {
		refused(t, d.digest, denied, stmt, l.ID)
	}
}

// ledger builds a small ledger to tamper with: licence a, live, with three
// revisions, and licence b, deleted after two, each change by clerk; and
// the digest of it.
func ledger(t *testing.T) (d *db, a, b licence.Licence, digest Digest) {
	t.Helper()
	d = newDB(t)
	a = create(t, d.api, "a@example.com", "")
	b = create(t, d.api, "b@example.com", "")
	storetest.AddPoints(t, d.api, a.ID, 3, "speeding")
	storetest.AddPoints(t, d.api, b.ID, 2, "parking")
	storetest.AddPoints(t, d.api, a.ID, 1, "speeding again")
	if err := d.api.Delete(context.Background(), b.ID, licence.Deletion(at, clerk)); err != nil {
		t.Fatal(err)
	}
	rep := d.verify(t, nil)
	if rep.Broken != nil || rep.Revisions != 6 || rep.Licences != 2 || rep.Live != 1 || rep.Digest.Seq != 6 {
		t.Fatalf("the untouched ledger: %+v", rep)
	}
	return d, a, b, rep.Digest
}

// owner runs statements as the database's owner, as someone who controls
// the database would.
func (d *db) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := d.owner.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rehash rewrites every hash after a change as an insider with the
// database's own functions would, chains, entries and tip included, so
// that only a digest kept outside can tell.
const rehash = `DO $$
DECLARE r record; prev bytea; lid text := ''; tip bytea := ''::bytea;
BEGIN
    UPDATE ledger_entries SET hash = ledger_entry_hash(kind, tx_time, body);
    FOR r IN SELECT * FROM licence_history ORDER BY licence_id, version LOOP
        IF r.licence_id <> lid THEN lid := r.licence_id; prev := ''::bytea; END IF;
        UPDATE licence_history SET prev_hash = prev,
            content_hash = CASE WHEN formula = 2 AND erased IS NULL THEN licence_content_hash(doc, event) ELSE content_hash END,
            hash = CASE
                WHEN formula = 1 AND erased IS NULL THEN licence_revision_hash(prev, licence_id, version, tx_id, tx_time, doc)
                WHEN formula = 1 THEN hash
                ELSE licence_revision_hash_v2(prev, licence_id, version, tx_id, tx_time,
                    CASE WHEN erased IS NULL THEN licence_content_hash(doc, event) ELSE content_hash END) END
            WHERE licence_id = r.licence_id AND version = r.version RETURNING hash INTO prev;
    END LOOP;
    FOR r IN SELECT ledger_seq, hash FROM licence_history UNION ALL SELECT ledger_seq, hash FROM ledger_entries ORDER BY 1 LOOP
        tip := licence_ledger_link(tip, r.ledger_seq, r.hash);
    END LOOP;
    UPDATE ledger_tip SET seq = (SELECT max(ledger_seq) FROM (SELECT ledger_seq FROM licence_history UNION ALL SELECT ledger_seq FROM ledger_entries) s), hash = tip;
END $$`

const (
	mallory = "arn:aws:iam::123456789012:user/mallory"
	// forgedErasure is an erasure record as an insider writes one.
	forgedErasure = `{"at": "2025-06-01T00:00:00Z", "actor": {"principal": "` + mallory + `"}}`
)

// Each way of tampering with the ledger makes verification fail and names
// the place; those an insider can hide from the database's own chains are
// caught by the digest taken before.
func TestVerifyFindsEachTampering(t *testing.T) {
	for _, c := range []struct {
		name string
		// tamper changes the ledger behind the application's back.
		tamper func(t *testing.T, d *db, a, b licence.Licence) []string
		// erased: b is erased before the digest is taken, at position 7.
		erased bool
		// hidden: the change passes without a digest.
		hidden bool
		// where the break is reported: a licence (a or b) and version, or
		// a ledger position.
		licence string
		version int
		seq     int64
		reason  string
	}{
		{"edited document", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE licence_id = '` + a.ID + `' AND version = 1`}
		}, false, false, "a", 1, 0, "contents do not match"},
		{"edited time", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET tx_time = tx_time - interval '1 day' WHERE licence_id = '` + a.ID + `' AND version = 1`}
		}, false, false, "a", 1, 0, "metadata or content hash"},
		{"edited actor", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET event = jsonb_set(event, '{actor,principal}', '"` + mallory + `"') WHERE licence_id = '` + a.ID + `' AND version = 1`}
		}, false, false, "a", 1, 0, "contents do not match"},
		{"deleted middle revision", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`DELETE FROM licence_history WHERE licence_id = '` + a.ID + `' AND version = 1`}
		}, false, false, "a", 2, 0, "a revision is missing"},
		{"live row edited with triggers off", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`SET session_replication_role = replica`,
				`UPDATE licences SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`}
		}, false, false, "a", 2, 0, "live licence differs"},
		{"live row given a field no licence has", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`SET session_replication_role = replica`,
				`UPDATE licences SET doc = doc || '{"vip":true}' WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`}
		}, false, false, "a", 2, 0, "live licence differs"},
		{"live row's latest actor rewritten", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`SET session_replication_role = replica`,
				`UPDATE licences SET doc = jsonb_set(doc, '{lastEvent,actor,principal}', '"` + mallory + `"') WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`}
		}, false, false, "a", 2, 0, "live licence differs"},
		// Only the ledger's chain holds the order of commits: the
		// licences' own chains are whole.
		{"two revisions' positions swapped", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET ledger_seq = -1 WHERE ledger_seq = 1`,
				`UPDATE licence_history SET ledger_seq = 1 WHERE ledger_seq = 2`,
				`UPDATE licence_history SET ledger_seq = 2 WHERE ledger_seq = -1`}
		}, false, false, "", 0, 6, "the ledger"},
		{"resurrected id", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`SET session_replication_role = replica`,
				`INSERT INTO licences (id, email, doc) SELECT '` + b.ID + `', 'b2@example.com', doc || '{"email":"b2@example.com"}' FROM licences WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`}
		}, false, false, "b", 2, 0, "ends in its deletion"},
		{"licence without a history", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`SET session_replication_role = replica`,
				`INSERT INTO licences (id, email, doc) SELECT 'ZZZZZZZZZZZZZZZZZZZZZZ', 'z@example.com', doc || '{"email":"z@example.com"}' FROM licences WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`}
		}, false, false, "ZZZZZZZZZZZZZZZZZZZZZZ", 0, 0, "has no history"},
		{"deleted newest revision after a digest", func(t *testing.T, d *db, a, b licence.Licence) []string {
			// a's newest revision goes, its live row goes back to the
			// revision before, and the chains and tip are rewritten.
			return []string{`SET session_replication_role = replica`,
				`CREATE TEMP TABLE gone AS SELECT ledger_seq FROM licence_history WHERE licence_id = '` + a.ID + `' AND version = 2`,
				`DELETE FROM licence_history WHERE licence_id = '` + a.ID + `' AND version = 2`,
				`UPDATE licence_history SET ledger_seq = ledger_seq - 1 WHERE ledger_seq > (SELECT ledger_seq FROM gone)`,
				`UPDATE licences SET doc = (SELECT h.doc || jsonb_build_object('lastEvent', h.event) FROM licence_history h WHERE h.licence_id = '` + a.ID + `' AND h.version = 1) WHERE id = '` + a.ID + `'`,
				rehash,
				`SET session_replication_role = origin`}
		}, false, true, "", 0, 6, "the ledger ends at position 5"},
		// Replaying the events finds what re-hashing hides: the rewritten
		// revision no longer follows from the one before it.
		{"re-hashed rewrite", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE licence_id = '` + a.ID + `' AND version = 1`, rehash}
		}, false, false, "a", 1, 0, "does not follow from the revision before"},
		// A change that skipped its revision (the live row set behind the
		// trigger), then a proper change on top: every hash holds, but
		// the next revision does not follow from the one before.
		{"a change with no revision, then one with", func(t *testing.T, d *db, a, b licence.Licence) []string {
			d.tamper(t, `SET session_replication_role = replica`,
				`UPDATE licences SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE id = '`+a.ID+`'`,
				`SET session_replication_role = origin`)
			storetest.AddPoints(t, d.api, a.ID, 1, "after the silent change")
			return nil
		}, false, false, "a", 3, 0, "does not follow from the revision before"},
		// Re-hashed with the events made to agree: only the digest kept
		// outside can tell.
		{"re-hashed rewrite of licence and event after a digest", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '4'), event = jsonb_set(event, '{points}', '4') WHERE licence_id = '` + a.ID + `' AND version = 1`,
				`UPDATE licence_history SET doc = jsonb_set(doc, '{penaltyPoints}', '5') WHERE licence_id = '` + a.ID + `' AND version = 2`,
				`SET session_replication_role = replica`,
				`UPDATE licences SET doc = jsonb_set(doc, '{penaltyPoints}', '5') WHERE id = '` + a.ID + `'`,
				`SET session_replication_role = origin`,
				rehash}
		}, false, true, "", 0, 6, "differs from the digest"},
		{"tampered erased revision", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET content_hash = sha256('forged') WHERE licence_id = '` + b.ID + `' AND version = 0`}
		}, true, false, "b", 0, 0, "metadata or content hash"},
		{"data put back on an erased revision", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET doc = '{"firstName":"Jo"}' WHERE licence_id = '` + b.ID + `' AND version = 1`}
		}, true, false, "b", 1, 0, "marked erased but holds data"},
		// An erasure is a ledger entry: who erased, when, and the hash of
		// what each erased revision held.
		{"erasure's actor rewritten", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE ledger_entries SET body = jsonb_set(body, '{erasure,actor,principal}', '"` + mallory + `"') WHERE kind = 'erasure'`}
		}, true, false, "", 0, 7, "erasure entry does not match its hash"},
		{"erasure's actor rewritten on its revisions", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET erased = jsonb_set(erased, '{actor,principal}', '"` + mallory + `"') WHERE licence_id = '` + b.ID + `'`}
		}, true, false, "b", 0, 0, "its erasure record differs from the erasure at position 7"},
		{"erasure's actor rewritten everywhere and re-hashed", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE ledger_entries SET body = jsonb_set(body, '{erasure,actor,principal}', '"` + mallory + `"') WHERE kind = 'erasure'`,
				`UPDATE licence_history SET erased = jsonb_set(erased, '{actor,principal}', '"` + mallory + `"') WHERE licence_id = '` + b.ID + `'`,
				rehash}
		}, true, true, "", 0, 7, "differs from the digest"},
		{"erasure's entry removed", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`DELETE FROM ledger_entries WHERE kind = 'erasure'`}
		}, true, false, "b", 0, 0, "records no erasure of this licence"},
		{"erasure's time rewritten", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE ledger_entries SET tx_time = tx_time + interval '1 day' WHERE kind = 'erasure'`}
		}, true, false, "", 0, 7, "erasure entry does not match its hash"},
		{"erasure made to list a revision it did not erase, re-hashed", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE ledger_entries SET body = jsonb_set(body, '{revisions}', body->'revisions' || '[{"version": 9, "contentHash": "00"}]') WHERE kind = 'erasure'`,
				rehash}
		}, true, false, "", 0, 7, "lists 3 revisions, but 2 of them are erased"},
		// A live licence's revisions dressed as erased, by either formula.
		{"live revisions dressed as erased", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET doc = NULL, event = NULL, erased = '` + forgedErasure + `' WHERE licence_id = '` + a.ID + `' AND version < 2`}
		}, false, false, "a", 0, 0, "the ledger records no erasure of this licence"},
		{"live revision dressed as an erased formula-1 revision", func(t *testing.T, d *db, a, b licence.Licence) []string {
			return []string{`UPDATE licence_history SET formula = 1, doc = NULL, event = NULL, content_hash = NULL, erased = '` + forgedErasure + `' WHERE licence_id = '` + a.ID + `' AND version = 0`}
		}, false, false, "a", 0, 0, "this ledger never held formula 1"},
		{"live revisions dressed as erased, with an erasure entry", func(t *testing.T, d *db, a, b licence.Licence) []string {
			// The insider uses the database's own functions, so every hash
			// and the tip hold: the licence is live, which no erasure
			// leaves.
			return []string{`UPDATE licence_history SET doc = NULL, event = NULL, erased = '` + forgedErasure + `' WHERE licence_id = '` + a.ID + `' AND version < 2`,
				`SELECT ledger_append('erasure', licence_erasure_entry('` + a.ID + `', '` + forgedErasure + `'))`}
		}, false, false, "a", 2, 0, "the erasure at position 7 erased it, but its history does not end in its deletion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, a, b, digest := ledger(t)
			if c.erased {
				if _, err := d.eraser.Erase(context.Background(), b.ID, licence.Erasure{At: at, Actor: storetest.Officer}); err != nil {
					t.Fatal(err)
				}
				if digest = d.verify(t, nil).Digest; digest.Seq != 7 {
					t.Fatalf("the erasure is at position %d, want 7", digest.Seq)
				}
			}
			d.tamper(t, c.tamper(t, d, a, b)...)
			ids := map[string]string{"a": a.ID, "b": b.ID}
			want := BrokenLink{LicenceID: c.licence, Version: c.version, Seq: c.seq, Reason: c.reason}
			if id, ok := ids[c.licence]; ok {
				want.LicenceID = id
			}
			d.wantBroken(t, want, digest, c.hidden)
		})
	}
}

// wantBroken verifies the ledger without a digest and against digest, and
// fails the test unless each reports the break want describes: its place,
// and a reason that holds want.Reason; and verifying only what changed
// since digest (VerifySince) must find a break too. hidden: the change
// should hide from the chains alone, and only the digest catch it.
func (d *db) wantBroken(t *testing.T, want BrokenLink, digest Digest, hidden bool) {
	t.Helper()
	check := func(rep Report, what string) {
		t.Helper()
		switch got := rep.Broken; {
		case got == nil:
			t.Fatalf("%s: the tampered ledger verifies: %+v", what, rep)
		case got.LicenceID != want.LicenceID || got.Version != want.Version || got.Seq != want.Seq || !strings.Contains(got.Reason, want.Reason):
			t.Errorf("%s: %v; want licence %q version %d position %d: %q", what, got, want.LicenceID, want.Version, want.Seq, want.Reason)
		default:
			t.Logf("%s: %v", what, got)
		}
	}
	if hidden {
		if rep := d.verify(t, nil); rep.Broken != nil {
			t.Fatalf("an insider's rewrite should hide from the chains alone, but: %v", rep.Broken)
		}
	} else {
		check(d.verify(t, nil), "without a digest")
	}
	check(d.verify(t, &digest), "against the digest")
	// A run that verifies only what changed since the digest catches it
	// too, wherever it first finds it.
	if rep := d.verifySince(t, digest); rep.Broken == nil {
		t.Errorf("incrementally, the tampered ledger verifies: %+v", rep)
	} else {
		t.Logf("incrementally: %v", rep.Broken)
	}
}

// Erasure keeps every hash: the ledger verifies against the digest taken
// before, and reports what it erased. The erasure is itself the ledger's
// next entry, naming who erased and the hash of what each revision held;
// erasing again adds nothing.
func TestErasureKeepsTheLedgerVerifiable(t *testing.T) {
	d, _, b, digest := ledger(t)
	ctx := context.Background()
	for range 2 {
		res, err := d.eraser.Erase(ctx, b.ID, licence.Erasure{At: at, Actor: storetest.Officer})
		if err != nil || res.Revisions != 2 || res.Pending != 0 {
			t.Fatalf("erase = %+v, %v; want 2 revisions erased, none pending", res, err)
		}
		rep := d.verify(t, &digest)
		if rep.Broken != nil || rep.Redacted != 2 || rep.Revisions != 6 || rep.Erasures != 1 || rep.Digest.Seq != 7 {
			t.Errorf("after erasure: %+v, want 6 revisions, 2 redacted, 1 erasure at position 7, none broken", rep)
		}
	}
	var (
		seq       int64
		principal string
		listed    []erasedEntry
	)
	if err := d.owner.QueryRow(ctx, `SELECT ledger_seq, body->'erasure'->'actor'->>'principal', body->'revisions' FROM ledger_entries WHERE kind = 'erasure'`).
		Scan(&seq, &principal, &listed); err != nil {
		t.Fatal(err)
	}
	var held []erasedEntry
	rows, err := d.owner.Query(ctx, `SELECT version, encode(content_hash, 'hex') FROM licence_history WHERE licence_id = $1 AND erased IS NOT NULL ORDER BY version`, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e erasedEntry
		if err := rows.Scan(&e.Version, &e.ContentHash); err != nil {
			t.Fatal(err)
		}
		held = append(held, e)
	}
	if seq != 7 || principal != storetest.Officer.Principal || !reflect.DeepEqual(listed, held) || len(held) != 2 {
		t.Errorf("the erasure's entry: position %d by %q listing %+v; want position 7 by %q listing %+v", seq, principal, listed, storetest.Officer.Principal, held)
	}
}

// A digest taken while writers commit never covers a position a later
// commit takes: each one verifies against the ledger the writers leave.
func TestDigestsTakenWhileWritersCommitNeverSkipARevision(t *testing.T) {
	d := newDB(t)
	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		digests []Digest
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := create(t, d.api, fmt.Sprintf("writer%d@example.com", w), "")
			for i := 0; !stop.Load(); i++ {
				if _, err := d.api.Update(ctx, l.ID, func(l *licence.Licence) {
					l.ChangePoints(licence.PointsChange{Points: 1 - 2*(i%2), Reason: "x"}, at, clerk)
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 40 {
		dg, err := TakeDigest(ctx, d.digest.pool)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, dg)
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	final := d.verify(t, nil)
	if final.Broken != nil {
		t.Fatal(final.Broken)
	}
	t.Logf("%d revisions written, %d digests taken meanwhile", final.Revisions, len(digests))
	for _, dg := range digests {
		if rep := d.verify(t, &dg); rep.Broken != nil {
			t.Errorf("digest at position %d: %v", dg.Seq, rep.Broken)
		}
	}
}

// N API instances, each its own store with a Lambda instance's pool, as
// Lambda runs them, never hold more than N connections however hard they
// are driven: a reserved concurrency of N bounds the database's
// connections to N.
func TestNLambdaInstancesHoldAtMostNConnections(t *testing.T) {
	d := newDB(t)
	ctx := context.Background()
	const instances = 8
	var stores []*Store
	for range instances {
		cfg, err := pgxpool.ParseConfig(strings.Replace(d.ownerURL, "postgres@", users.API+"@", 1))
		if err != nil {
			t.Fatal(err)
		}
		LambdaPool(cfg)
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		stores = append(stores, New(p))
	}
	ids := make([]string, instances)
	for i, s := range stores {
		ids[i] = create(t, s, fmt.Sprintf("instance%d@example.com", i), "").ID
	}
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		most    atomic.Int64
		failed  atomic.Int64
		watcher = connect(t, d.ownerURL)
	)
	for i, s := range stores {
		// Each instance is driven by several callers at once: more than a
		// Lambda instance ever sees, to show the pool still holds one.
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if _, err := s.Update(ctx, ids[i], func(l *licence.Licence) {
						l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, at, clerk)
					}); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
	}
	for range 50 {
		var n int64
		if err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()`, users.API).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > most.Load() {
			most.Store(n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d instances held at most %d connections (%d failed updates)", instances, most.Load(), failed.Load())
	if most.Load() > instances || most.Load() == 0 {
		t.Errorf("%d instances held %d connections at once, want at most %d", instances, most.Load(), instances)
	}
	if failed.Load() != 0 {
		t.Errorf("%d updates failed", failed.Load())
	}
}

// Racing erasures of one licence record one erasure: each answers with
// it, and the ledger holds one entry.
func TestRacingErasuresRecordOneErasure(t *testing.T) {
	d, _, b, _ := ledger(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			actor := storetest.Officer
			actor.Principal += fmt.Sprint(i)
			if _, err := d.eraser.Erase(context.Background(), b.ID, licence.Erasure{At: at, Actor: actor}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Erasures != 1 || rep.Redacted != 2 || rep.Digest.Seq != 7 {
		t.Errorf("after 8 racing erasures: %+v; want 1 erasure of 2 revisions at position 7", rep)
	}
}

// A run after the digest reads what came after it and the licences it
// touched, not the ledger: 1,000 points changes on a ledger of 20,000
// licences read the 1,000 licences' chains and the 1,000 new positions,
// and end at the digest a full verification takes.
func TestVerifySinceReadsWhatChanged(t *testing.T) {
	const licences, changed = 20000, 1000
	d := newDB(t)
	fillLedger(t, d, licences)
	full := d.verify(t, nil)
	if full.Broken != nil || full.Digest.Horizon == 0 {
		t.Fatalf("the full verification: %+v", full)
	}
	d.tamper(t, `UPDATE licences SET doc = doc || jsonb_build_object('penaltyPoints', 4, 'lastEvent',
		'{"kind":"PenaltyPointsAdded","points":1,"reason":"again","at":"2026-11-26T09:00:00Z","actor":{"principal":"bench"}}'::jsonb)
		WHERE id <= lpad('`+fmt.Sprint(changed)+`', 22, '0')`)
	since := d.verifySince(t, full.Digest)
	again := d.verify(t, nil)
	switch {
	case since.Broken != nil || again.Broken != nil:
		t.Fatalf("after %d changes: %v, %v", changed, since.Broken, again.Broken)
	case since.Digest.Seq != full.Digest.Seq+changed || !bytes.Equal(since.Digest.Hash, again.Digest.Hash) || len(since.Digest.Checkpoints) != len(again.Digest.Checkpoints):
		t.Errorf("the incremental digest %d %x, the full one %d %x", since.Digest.Seq, since.Digest.Hash, again.Digest.Seq, again.Digest.Hash)
	case since.Revisions != 3*changed:
		t.Errorf("it checked %d revisions, want the %d changed licences' %d", since.Revisions, changed, 3*changed)
	case since.Read > 5*changed:
		t.Errorf("it read %d rows for %d changes (a full verification reads %d)", since.Read, changed, again.Read)
	}
	t.Logf("after %d changes to a ledger of %d revisions: the incremental run read %d rows, a full one %d", changed, again.Revisions, since.Read, again.Read)
}
