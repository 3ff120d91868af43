package pgstore

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// No application role can create anything, temporary or in any schema: a
// table, view, function, type or operator it made could otherwise stand in
// for one the ledger's SECURITY DEFINER functions use.
func TestNoApplicationRoleCanCreateAnything(t *testing.T) {
	d := newDB(t)
	for name, s := range map[string]*Store{"api": d.api, "eraser": d.eraser, "digest": d.digest} {
		for _, stmt := range []string{
			`CREATE TEMP TABLE licence_history (licence_id text, version integer)`,
			`CREATE TEMP TABLE ledger_tip (one boolean, seq bigint, hash bytea)`,
			`CREATE TEMP VIEW licences AS SELECT 'x'::text AS id`,
			`CREATE TABLE public.licence_shadow (x integer)`,
			`CREATE VIEW public.licence_shadow AS SELECT 1 AS x`,
			`CREATE FUNCTION public.licence_fixed(doc text) RETURNS text LANGUAGE sql AS 'SELECT doc'`,
			`CREATE TYPE public.licence_shadow AS (x integer)`,
			`CREATE OPERATOR public.|| (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = byteacat)`,
			`CREATE SCHEMA licence_shadow`,
		} {
			t.Run(name, func(t *testing.T) { refused(t, s, "permission denied", stmt) })
		}
	}
}

// asRole opens a session as role on d's database: temporary objects live
// in one session.
func (d *db) asRole(t *testing.T, role string) *pgx.Conn {
	t.Helper()
	return connect(t, strings.Replace(d.ownerURL, "postgres@", role+"@", 1))
}

// Even where a role could create temporary tables and functions (a
// database whose privileges were loosened behind the migration's back),
// the SECURITY DEFINER functions ignore them: their search_path is the
// catalog, pg_temp last, and they name every table with its schema. The API's user shadowing the history and the
// ledger's tip still writes its revision to the ledger; the eraser's user
// shadowing the live licences still cannot erase a live licence's history.
func TestTheLedgerFunctionsIgnoreWhatACallerShadows(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	l := create(t, d.api, "shadow@example.com", "")
	d.tamper(t, `GRANT TEMPORARY ON DATABASE `+pgx.Identifier{d.databaseName(t)}.Sanitize()+` TO licences_api, licences_eraser`,
		`GRANT CREATE ON SCHEMA public TO licences_api`)
	before := d.verify(t, nil)

	api := d.asRole(t, "licences_api")
	for _, stmt := range []string{
		// Functions the trigger calls, in a schema the caller can create
		// in and puts first: a forged time and transaction id.
		`SET search_path = public, pg_catalog`,
		`CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01T00:00:00Z'::timestamptz $$`,
		`CREATE FUNCTION public.txid_current() RETURNS bigint LANGUAGE sql AS 'SELECT 42::bigint'`,
		`CREATE TEMP TABLE licence_history AS SELECT * FROM public.licence_history WHERE false`,
		`CREATE TEMP TABLE ledger_tip (one boolean, seq bigint, hash bytea)`,
		`INSERT INTO ledger_tip VALUES (true, 0, '')`,
		// A points change as the domain writes one, sent by hand.
		`UPDATE licences SET doc = jsonb_set(jsonb_set(doc, '{penaltyPoints}', '3'), '{lastEvent}',
			'{"kind":"PenaltyPointsAdded","points":3,"reason":"by hand","at":"2026-12-01T09:00:00Z","actor":{"principal":"clerk"}}') WHERE id = '` + l.ID + `'`,
	} {
		if _, err := api.Exec(ctx, stmt); err != nil {
			t.Fatalf("as licences_api, %s: %v", stmt, err)
		}
	}
	var shadowed int
	if err := api.QueryRow(ctx, `SELECT count(*) FROM pg_temp.licence_history`).Scan(&shadowed); err != nil || shadowed != 0 {
		t.Errorf("the shadow history holds %d revisions (%v), want none", shadowed, err)
	}
	var forged int
	if err := d.owner.QueryRow(ctx, `SELECT count(*) FROM licence_history WHERE tx_id = 42 OR tx_time < '2001-01-01'`).Scan(&forged); err != nil || forged != 0 {
		t.Errorf("%d revisions with the caller's time or transaction id (%v), want none", forged, err)
	}
	after := d.verify(t, nil)
	if after.Broken != nil || after.Revisions != before.Revisions+1 || after.Digest.Seq != before.Digest.Seq+1 {
		t.Errorf("after a change through shadowed tables: %+v, want it verified with one more revision than %d", after, before.Revisions)
	}

	eraser := d.asRole(t, "licences_eraser")
	if _, err := eraser.Exec(ctx, `CREATE TEMP TABLE licences (id text)`); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := eraser.QueryRow(ctx, `SELECT status FROM licence_erase($1, '{"actor":{"principal":"me"}}')`, l.ID).Scan(&status); err != nil || status != "live" {
		t.Errorf("erasing a live licence behind a shadow: %q, %v; want it refused as live", status, err)
	}
	if rep := d.verify(t, nil); rep.Broken != nil || rep.Redacted != 0 {
		t.Errorf("after the eraser's attempt: %+v", rep)
	}
}

// databaseName is the name of d's database.
func (d *db) databaseName(t *testing.T) string {
	t.Helper()
	var name string
	if err := d.owner.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}
