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

// A fill through the store reports a row at each size, leaves the ledger
// it says it made, verified, and refuses a database that holds a ledger
// already (its figures would not be its own).
func TestFillReportsEachSizeAndLeavesTheLedger(t *testing.T) {
	ctx := context.Background()
	s := localpg.StartForTest(t)
	url, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	args := []string{"-licences", "1500", "-clients", "4", "-changes", "50", "-history", "30"}
	if code := run(ctx, args, url, &out, &errs); code != 0 {
		t.Fatalf("pgfill %v: exit %d\n%s%s", args, code, out.String(), errs.String())
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(rows) != 4 || !strings.HasPrefix(rows[2], "| 1000 | 1030 |") || !strings.HasPrefix(rows[3], "| 1500 | 1580 |") {
		t.Fatalf("the report, want a header and rows at 1,000 (1,030 revisions) and 1,500 (1,580):\n%s", out.String())
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }() // read only
	rep, err := pgstore.Verify(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 1,500 licences and the long-lived one; 30 revisions of that one and
	// 50 points changes at each of the two sizes.
	if rep.Broken != nil || rep.Live != 1501 || rep.Revisions != 1500+30+2*50 {
		t.Errorf("the ledger pgfill left: %+v", rep)
	}

	out.Reset()
	errs.Reset()
	if code := run(ctx, args, url, &out, &errs); code != 1 || !strings.Contains(errs.String(), "already holds a ledger") {
		t.Errorf("pgfill on a filled ledger: exit %d, %q; want 1 and a refusal", code, errs.String())
	}
}

func TestFillRefusesBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-licences", "0"}, {"-clients", "0"}, {"-clients", "129"}, {"-changes", "0"}, {"-history", "0"}, {"extra"}, {"-nope"},
	} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, "postgres://unused", &out, &errs); code != 2 || errs.Len() == 0 {
			t.Errorf("pgfill %v: exit %d, %q; want 2 and the reason", args, code, errs.String())
		}
	}
}
