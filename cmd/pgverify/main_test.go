package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/testdouble/localpg"
)

func TestVerifyWritesAndChecksDigests(t *testing.T) {
	ctx := context.Background()
	s := localpg.StartForTest(t)
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }() // the verdicts are checked below
	users := pgstore.Users{API: env.APIDatabaseUser, Eraser: env.EraserDatabaseUser, Digest: env.DigestDatabaseUser}
	if err := pgstore.Migrate(ctx, conn, users, false); err != nil {
		t.Fatal(err)
	}
	exec := func(stmts ...string) {
		t.Helper()
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	// Licences as the domain writes them: made, then points added, so the
	// history replays.
	doc := func(points int, event string) string {
		return fmt.Sprintf(`{"email":"a@example.com","penaltyPoints":%d,"lastEvent":%s}`, points, event)
	}
	const made = `{"kind":"LicenceCreated","actor":{"principal":"operator"}}`
	added := func(n int) string {
		return fmt.Sprintf(`{"kind":"PenaltyPointsAdded","points":%d,"actor":{"principal":"operator"}}`, n)
	}
	exec(`INSERT INTO licences (id, email, doc) VALUES ('AAAAAAAAAAAAAAAAAAAAAA', 'a@example.com', '`+doc(0, made)+`')`,
		`UPDATE licences SET doc = '`+doc(3, added(3))+`'`)

	digest := filepath.Join(t.TempDir(), "digest.json")
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-digest-out", digest}, s.URL, &out, &errOut); code != 0 || !strings.Contains(out.String(), "ok: 2 revisions (0 redacted)") || !strings.Contains(out.String(), "position 2") {
		t.Fatalf("intact: exit %d, %q %q", code, out.String(), errOut.String())
	}
	exec(`UPDATE licences SET doc = '` + doc(5, added(2)) + `'`)
	out.Reset()
	if code := run(ctx, []string{"-digest", digest}, s.URL, &out, &errOut); code != 0 || !strings.Contains(out.String(), "matches the digest") {
		t.Fatalf("written on since the digest: exit %d, %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(ctx, []string{"-digest", digest, "-since"}, s.URL, &out, &errOut); code != 0 || !strings.Contains(out.String(), "changed since the digest holds") ||
		!strings.Contains(out.String(), "3 revisions (0 redacted) of 1 licences") {
		t.Fatalf("what changed since the digest: exit %d, %q %q; want the changed licence's whole chain", code, out.String(), errOut.String())
	}
	if code := run(ctx, []string{"-since"}, s.URL, &out, &errOut); code != 2 {
		t.Errorf("-since without -digest: exit %d, want 2", code)
	}
	exec(`DELETE FROM licence_history WHERE version = 0`)
	out.Reset()
	if code := run(ctx, []string{"-digest", digest}, s.URL, &out, &errOut); code != 1 || !strings.Contains(out.String(), "breaks at version 1") {
		t.Fatalf("a removed revision: exit %d, %q", code, out.String())
	}
	if code := run(ctx, nil, "", &out, &errOut); code != 2 {
		t.Errorf("no DATABASE_URL: exit %d", code)
	}
	if code := run(ctx, []string{"-digest", filepath.Join(t.TempDir(), "missing")}, s.URL, &out, &errOut); code != 1 {
		t.Errorf("a missing digest: exit %d", code)
	}
}
