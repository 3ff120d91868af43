package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/testdouble/localpg"
)

func TestVerifyReportsIntactAndBrokenChains(t *testing.T) {
	ctx := context.Background()
	s := localpg.StartForTest(t)
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }() // the verdicts are checked below
	if err := pgstore.Migrate(ctx, conn, "licences_api", false); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO licences (id, email, doc) VALUES ('AAAAAAAAAAAAAAAAAAAAAA', 'a@example.com', '{"penaltyPoints": 0}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE licences SET doc = '{"penaltyPoints": 3}'`); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, s.URL, &out, &errOut); code != 0 || !strings.Contains(out.String(), "ok: 2 revisions") {
		t.Fatalf("intact: exit %d, %q %q", code, out.String(), errOut.String())
	}
	if _, err := conn.Exec(ctx, `DELETE FROM licence_history WHERE version = 0`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(ctx, s.URL, &out, &errOut); code != 1 || !strings.Contains(out.String(), "breaks at version 1") {
		t.Fatalf("a removed revision: exit %d, %q", code, out.String())
	}
	if code := run(ctx, "", &out, &errOut); code != 1 {
		t.Errorf("no DATABASE_URL: exit %d", code)
	}
}
