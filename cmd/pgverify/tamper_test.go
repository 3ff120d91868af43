package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/licence/storetest"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/testdouble/localpg"
)

// pgverify reports BROKEN, and where, for each change to the record made
// behind the application's back, with and without the digest taken before
// it. (pgstore's tests hold Verify to every other tampering.)
func TestItReportsEachTamperingOfTheRecord(t *testing.T) {
	const mallory = `{"at": "2025-06-01T00:00:00Z", "actor": {"principal": "arn:aws:iam::123456789012:user/mallory"}}`
	s := localpg.StartForTest(t)
	for _, c := range []struct {
		name   string
		tamper func(a string) []string
		where  string
	}{
		{"a live row changed without a revision", func(a string) []string {
			return []string{`SET session_replication_role = replica`,
				`UPDATE licences SET doc = jsonb_set(doc, '{penaltyPoints}', '0') WHERE id = '` + a + `'`}
		}, "breaks at version 2: the live licence differs"},
		{"an erasure's actor rewritten", func(string) []string {
			return []string{`UPDATE ledger_entries SET body = jsonb_set(body, '{erasure}', '` + mallory + `') WHERE kind = 'erasure'`}
		}, "breaks at position 5: its erasure entry does not match its hash"},
		{"a live licence's revisions dressed as erased", func(a string) []string {
			return []string{`UPDATE licence_history SET doc = NULL, event = NULL, erased = '` + mallory + `' WHERE licence_id = '` + a + `' AND version < 2`}
		}, "breaks at version 0: it is marked erased, but the ledger records no erasure"},
		{"a live licence's revision dressed as an erased formula-1 revision", func(a string) []string {
			return []string{`UPDATE licence_history SET formula = 1, doc = NULL, event = NULL, content_hash = NULL, erased = '` + mallory + `'
				WHERE licence_id = '` + a + `' AND version = 0`}
		}, "breaks at version 0: it has no content hash of its own (formula 1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			url, err := s.CreateDatabase(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a := writeLedger(t, url)
			digest := filepath.Join(t.TempDir(), "digest.json")
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"-digest-out", digest}, url, &out, &errOut); code != 0 || !strings.Contains(out.String(), "1 erasure") {
				t.Fatalf("intact: exit %d, %q %q", code, out.String(), errOut.String())
			}
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close(ctx) }() // the verdicts are checked below
			for _, stmt := range c.tamper(a) {
				if _, err := conn.Exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			for _, args := range [][]string{nil, {"-digest", digest}, {"-digest", digest, "-since"}} {
				out.Reset()
				code := run(ctx, args, url, &out, &errOut)
				if code != 1 || !strings.HasPrefix(out.String(), "BROKEN") || !strings.Contains(out.String(), c.where) {
					t.Errorf("pgverify %v: exit %d, %q; want 1 and BROKEN … %q", args, code, out.String(), c.where)
				}
			}
		})
	}
}

// writeLedger writes, through the store, licence a (created, then two
// points changes: positions 1, 3 and 6) and licence b (created, deleted
// and erased: positions 2, 4 and the erasure at 5), and returns a's id.
func writeLedger(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }() // only migrates
	users := pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}
	if err := pgstore.Migrate(ctx, conn, users, false); err != nil {
		t.Fatal(err)
	}
	p, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	st := pgstore.New(p)
	a := storetest.Create(t, st, "a@example.com", "")
	b := storetest.Create(t, st, "b@example.com", "")
	storetest.AddPoints(t, st, a.ID, 3, "speeding")
	if err := st.Delete(ctx, b.ID, licence.Deletion(storetest.At, storetest.Clerk)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Erase(ctx, b.ID, licence.Erasure{At: storetest.At, Actor: storetest.Officer}); err != nil {
		t.Fatal(err)
	}
	storetest.AddPoints(t, st, a.ID, 1, "speeding again")
	return a.ID
}
