package pgstore

import (
	"context"
	_ "embed"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
)

var (
	//go:embed testdata/schema_v1.sql
	schemaV1 string
	//go:embed testdata/schema_v2.sql
	schemaV2 string
)

// upgradedV1Ledger writes a ledger with schema version 1 (licence OLD…1,
// changed once and live; OLD…2, deleted), upgrades it, and connects each
// function's user: positions 1 to 4 hold version 1's revisions, and 5 the
// ledger's record that formula 2 starts there.
func upgradedV1Ledger(t *testing.T) *db {
	t.Helper()
	ctx := context.Background()
	url, err := server.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := &db{ownerURL: url, owner: connect(t, url)}
	old := `{"firstName":"Al","lastName":"Old","email":"%s","telephone":"07700900123","postcode":"SW1A 1AA","penaltyPoints":0,"events":[{"kind":"LicenceCreated","at":"2025-01-01T00:00:00Z"}]}`
	d.tamper(t, schemaV1,
		`INSERT INTO licences (id, email, doc) VALUES ('OLD0000000000000000001', 'old1@example.com', '`+strings.Replace(old, "%s", "old1@example.com", 1)+`')`,
		`INSERT INTO licences (id, email, doc) VALUES ('OLD0000000000000000002', 'old2@example.com', '`+strings.Replace(old, "%s", "old2@example.com", 1)+`')`,
		`UPDATE licences SET doc = jsonb_set(doc, '{penaltyPoints}', '3') WHERE id = 'OLD0000000000000000001'`,
		`DELETE FROM licences WHERE id = 'OLD0000000000000000002'`,
	)
	if err := Migrate(ctx, d.owner, users, false); err != nil {
		t.Fatal(err)
	}
	d.api = New(pool(t, url, users.API, nil))
	d.eraser = New(pool(t, url, users.Eraser, nil))
	d.digest = New(pool(t, url, users.Digest, nil))
	rep := d.verify(t, nil)
	if rep.Broken != nil || rep.Revisions != 4 || rep.Digest.Seq != 5 {
		t.Fatalf("the upgraded ledger: %+v; want 4 revisions and the formula's record at position 5", rep)
	}
	var since int64
	if err := d.owner.QueryRow(ctx, `SELECT (body->>'since')::bigint FROM ledger_entries WHERE kind = 'formula' AND ledger_seq = 5`).Scan(&since); err != nil || since != 5 {
		t.Fatalf("the formula's record: since %d, %v; want 5", since, err)
	}
	return d
}

// A ledger written by schema version 1, upgraded, and written on: every
// revision verifies by the formula it was written with.
func TestALedgerWrittenBeforeAndAfterTheUpgradeVerifies(t *testing.T) {
	d := upgradedV1Ledger(t)
	ctx := context.Background()
	if err := Migrate(ctx, d.owner, users, false); err != nil {
		t.Fatal(err)
	}
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Digest.Seq != 5 {
		t.Fatalf("migrated again: %+v; want nothing added", rep)
	}
	old1, err := d.api.Get(ctx, "OLD0000000000000000001")
	if err != nil || old1.PenaltyPoints != 3 || old1.LastEvent == nil || old1.LastEvent.Kind != licence.Created {
		t.Fatalf("a licence written by version 1: %+v, %v", old1, err)
	}
	storetest.AddPoints(t, d.api, old1.ID, 2, "after the upgrade")
	n := create(t, d.api, "new@example.com", "")
	if err := d.api.Delete(ctx, n.ID, licence.Deletion(at, clerk)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.eraser.Erase(ctx, "OLD0000000000000000002", licence.Erasure{At: at, Actor: storetest.Officer}); err != nil {
		t.Fatal(err)
	}
	var formulas []int
	if err := d.owner.QueryRow(ctx, `SELECT array_agg(DISTINCT formula ORDER BY formula) FROM licence_history`).Scan(&formulas); err != nil {
		t.Fatal(err)
	}
	rep := d.verify(t, nil)
	if rep.Broken != nil || rep.Revisions != 7 || rep.Redacted != 1 || rep.Erasures != 1 || len(formulas) != 2 {
		t.Errorf("written before and after: %+v, formulas %v; want 7 revisions, 1 redacted, 1 erasure, formulas 1 and 2", rep, formulas)
	}
	page, err := d.api.History(ctx, old1.ID, 0, 10)
	if err != nil || len(page.Revisions) != 3 || page.Revisions[0].Event == nil || page.Revisions[0].Actor != nil || page.Revisions[2].Actor == nil {
		t.Errorf("history across the upgrade: %+v, %v; want version 1's revisions without an actor and the new one with", page, err)
	}
}

// A revision without its own content hash (formula 1) holds only before
// the position the ledger recorded for formula 2, so a later revision
// cannot be dressed as one (and so escape its content hash); and a
// formula-1 revision of a live licence cannot be dressed as erased.
func TestFormulaOneHoldsOnlyBeforeTheLedgerRecordedFormulaTwo(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper []string
		hidden bool
		want   BrokenLink
	}{
		{"a formula-2 revision dressed as an erased formula-1 one", []string{
			`UPDATE licence_history SET formula = 1, doc = NULL, event = NULL, content_hash = NULL, erased = '` + forgedErasure + `'
				WHERE licence_id = 'OLD0000000000000000001' AND version = 2`,
		}, false, BrokenLink{LicenceID: "OLD0000000000000000001", Version: 2,
			Reason: "stands at position 6, after the ledger took formula 2 at position 5"}},
		{"a live licence's formula-1 revision dressed as erased", []string{
			`UPDATE licence_history SET doc = NULL, erased = '` + forgedErasure + `' WHERE licence_id = 'OLD0000000000000000001' AND version = 0`,
		}, false, BrokenLink{LicenceID: "OLD0000000000000000001", Reason: "the ledger records no erasure of this licence"}},
		{"the formula's record moved on", []string{
			`UPDATE ledger_entries SET body = jsonb_set(body, '{since}', '7') WHERE kind = 'formula'`,
		}, false, BrokenLink{Seq: 5, Reason: "its formula entry does not match its hash"}},
		{"the formula's record moved on and re-hashed", []string{
			`UPDATE ledger_entries SET body = jsonb_set(body, '{since}', '7') WHERE kind = 'formula'`, rehash,
		}, false, BrokenLink{Seq: 5, Reason: "declares formula 2 since position 7, after itself"}},
		{"the formula's record removed and the ledger renumbered", []string{
			`DELETE FROM ledger_entries WHERE kind = 'formula'`,
			`UPDATE licence_history SET ledger_seq = ledger_seq - 1 WHERE ledger_seq > 5`,
			`UPDATE ledger_entries SET ledger_seq = ledger_seq - 1 WHERE ledger_seq > 5`,
			rehash,
		}, false, BrokenLink{LicenceID: "OLD0000000000000000001", Reason: "this ledger never held formula 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := upgradedV1Ledger(t)
			storetest.AddPoints(t, d.api, "OLD0000000000000000001", 2, "after the upgrade")
			digest := d.verify(t, nil).Digest
			if digest.Seq != 6 {
				t.Fatalf("the change after the upgrade is at position %d, want 6", digest.Seq)
			}
			d.tamper(t, c.tamper...)
			d.wantBroken(t, c.want, digest, c.hidden)
		})
	}
}

// A ledger whose licence was erased before erasures were ledger entries
// records that erasure when it is upgraded, from what its revisions keep:
// it verifies, and erasing again adds nothing.
func TestAnEarlierErasureIsRecordedOnUpgrade(t *testing.T) {
	ctx := context.Background()
	url, err := server.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := &db{ownerURL: url, owner: connect(t, url)}
	d.tamper(t, schemaV2)
	// The owner writes through the store as the API did.
	before := New(pool(t, url, "postgres", nil))
	gone := create(t, before, "gone@example.com", "")
	storetest.AddPoints(t, before, gone.ID, 3, "speeding")
	create(t, before, "kept@example.com", "")
	if err := before.Delete(ctx, gone.ID, licence.Deletion(at, clerk)); err != nil {
		t.Fatal(err)
	}
	if _, err := before.Erase(ctx, gone.ID, licence.Erasure{At: at, Actor: storetest.Officer}); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, d.owner, users, false); err != nil {
		t.Fatal(err)
	}
	d.eraser = New(pool(t, url, users.Eraser, nil))
	d.digest = New(pool(t, url, users.Digest, nil))
	rep := d.verify(t, nil)
	if rep.Broken != nil || rep.Erasures != 1 || rep.Redacted != 2 || rep.Digest.Seq != 5 {
		t.Fatalf("upgraded: %+v; want the erasure of 2 revisions recorded at position 5", rep)
	}
	var principal string
	if err := d.owner.QueryRow(ctx, `SELECT body->'erasure'->'actor'->>'principal' FROM ledger_entries WHERE ledger_seq = 5 AND body->>'licenceId' = $1`, gone.ID).
		Scan(&principal); err != nil || principal != storetest.Officer.Principal {
		t.Errorf("the recorded erasure names %q, %v; want %q", principal, err, storetest.Officer.Principal)
	}
	if _, err := d.eraser.Erase(ctx, gone.ID, licence.Erasure{At: at, Actor: clerk}); err != nil {
		t.Fatal(err)
	}
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Digest.Seq != 5 {
		t.Errorf("erased again: %+v; want nothing added", rep)
	}
}
