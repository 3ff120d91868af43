package localqldb

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"
)

// The local ledger's answers are QLDB's answers: what it runs, it runs with
// PartiQL's semantics on Ion as Ion; what it does not run, it refuses.

// Comparing with NULL is never true in PartiQL, so a DELETE whose
// parameter is null removes nothing, even from documents lacking the field.
func TestEqualityWithNullIsNeverTrue(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE People")
	x := w.begin()
	x.must("INSERT INTO People << ?, ?, ? >>", `{name: "ann"}`, `{name: "bob"}`, `{name: "cat", f: null}`)
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	x = w.begin()
	if rows := x.must("DELETE FROM People AS p WHERE p.f = ?", "null"); len(rows) != 0 {
		t.Errorf("DELETE WHERE p.f = null removed %d documents, want none", len(rows))
	}
	if rows := x.must("SELECT * FROM People AS p WHERE p.f = NULL"); len(rows) != 0 {
		t.Errorf("WHERE p.f = NULL selected %d documents, want none", len(rows))
	}
	if rows := x.must("SELECT * FROM People AS p WHERE p.f = MISSING"); len(rows) != 0 {
		t.Errorf("WHERE p.f = MISSING selected %d documents, want none", len(rows))
	}
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	if rows := w.begin().must("SELECT * FROM People"); len(rows) != 3 {
		t.Errorf("%d documents left, want all 3", len(rows))
	}
}

// PartiQL compares numbers by value across int, decimal and float, strings
// and symbols by their text, and values of different kinds as unequal.
func TestNumbersCompareByValue(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE T")
	x := w.begin()
	x.must("INSERT INTO T ?", `{v: 42, s: "abc", t: 2026-11-25T09:00Z}`)
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	x = w.begin()
	for _, tc := range []struct {
		where, param string
		want         int
	}{
		{"p.v = ?", "42", 1}, {"p.v = ?", "42.0", 1}, {"p.v = ?", "42e0", 1}, {"p.v = ?", "42.000", 1},
		{"p.v = ?", "42.1", 0}, {"p.v = ?", `"42"`, 0}, {"p.v >= ?", "41.5", 1}, {"p.v < ?", "42e0", 0},
		{"p.s = ?", "abc", 1}, {"p.s = ?", `"ABC"`, 0}, {"p.s <> ?", `"abd"`, 1},
		{"p.t = ?", "2026-11-25T10:00+01:00", 1}, {"p.t > ?", "2026-11-25T08:59:59.999Z", 1},
	} {
		if got := len(x.must("SELECT * FROM T AS p WHERE "+tc.where, tc.param)); got != tc.want {
			t.Errorf("WHERE %s with %s: %d rows, want %d", tc.where, tc.param, got, tc.want)
		}
	}
}

// everyIonType is one document holding every Ion type and distinction:
// precise decimals, a big integer, symbols apart from strings, typed nulls,
// annotations, empty containers, blobs, clobs, timestamps at several
// precisions and offsets.
const everyIonType = `{
  dec: 1.50, negzero: -0.0, big: 1180591620717411303424, neg: -42,
  float: 1.5e0, 'nan': nan, 'inf': +inf,
  sym: 'a symbol', str: "a string", sym2: abc,
  nulls: [null, null.int, null.decimal, null.string, null.symbol, null.struct, null.list, null.timestamp, null.blob, null.bool],
  ann: money::units::12.00,
  emptyList: [], emptyStruct: {}, emptySexp: (),
  nested: {deep: [1, [2, {x: []}]]},
  sexp: (a b 1),
  blob: {{aGVsbG8=}}, clob: {{"hello"}},
  year: 2026T, day: 2026-11-25, minute: 2026-11-25T09:00+05:30, milli: 2026-11-25T09:00:00.123-08:00, micro: 2026-11-25T09:00:00.123456Z,
  t: true, f: false,
  dup: 1, dup: 2
}`

// Documents are kept as Ion: every Ion type comes back exactly as it went
// in, through INSERT, SELECT, UPDATE … SET and history().
func TestEveryIonTypeRoundTrips(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE T")
	want, err := parseIon([]byte(everyIonType))
	if err != nil {
		t.Fatal(err)
	}
	wantBin, _ := want.binary()
	x := w.begin()
	id := x.must("INSERT INTO T ?", everyIonType)[0]
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	docID, _ := id.get("documentId")
	x = w.begin()
	rows := x.must("SELECT * FROM T AS p")
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	if got, _ := rows[0].binary(); !bytes.Equal(got, wantBin) {
		t.Errorf("SELECT * gave back\n%s\nwant\n%s", text(t, rows[0]), text(t, want))
	}
	// A decimal SET, then reads of every kind.
	x.must("UPDATE T AS p BY pid SET p.dec = ?, p.more = ? WHERE pid = ?", "3.14159265358979323846264338327950288", everyIonType, `"`+docID.text+`"`)
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	x = w.begin()
	got := x.must("SELECT p.dec, p.more FROM T AS p BY pid WHERE pid = ?", `"`+docID.text+`"`)
	if len(got) != 1 {
		t.Fatalf("%d rows after the update", len(got))
	}
	if dec, _ := got[0].get("dec"); text(t, dec) != "3.14159265358979323846264338327950288" {
		t.Errorf("the decimal came back as %s", text(t, dec))
	}
	if more, _ := got[0].get("more"); more == nil {
		t.Error("the struct set by UPDATE is missing")
	} else if b, _ := more.binary(); !bytes.Equal(b, wantBin) {
		t.Errorf("the struct set by UPDATE came back as\n%s", text(t, more))
	}
	hist := x.must("SELECT h.data FROM history(T) AS h WHERE h.metadata.id = ?", `"`+docID.text+`"`)
	if len(hist) != 2 {
		t.Fatalf("%d revisions, want 2", len(hist))
	}
	if data, _ := hist[0].get("data"); data == nil {
		t.Error("the first revision has no data")
	} else if b, _ := data.binary(); !bytes.Equal(b, wantBin) {
		t.Errorf("history gave back\n%s", text(t, data))
	}
}

// The same document through the official driver, with Go values it
// marshals itself: what the driver sends is what it reads back.
func TestIonRoundTripsThroughTheDriver(t *testing.T) {
	_, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE T")
	in, err := parseIon([]byte(everyIonType))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, d, "INSERT INTO T ?", rawIon{in})
	rows := exec(t, d, "SELECT * FROM T")
	want, _ := in.binary()
	got, err := parseIon(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := got.binary(); !bytes.Equal(b, want) {
		t.Errorf("through the driver:\n%s\nwant\n%s", text(t, got), text(t, in))
	}
}

// rawIon is an Ion value the driver marshals as it is.
type rawIon struct{ v *value }

func (r rawIon) MarshalIon(w ion.Writer) error { return r.v.write(w) }

// SELECT * on a table read BY its document id returns the id with the
// document, as QLDB does.
func TestSelectStarCarriesTheByID(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE T")
	x := w.begin()
	id, _ := x.must("INSERT INTO T ?", `{a: 1}`)[0].get("documentId")
	rows := x.must("SELECT * FROM T AS p BY pid WHERE pid = ?", `"`+id.text+`"`)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	if pid, ok := rows[0].get("pid"); !ok || pid.text != id.text {
		t.Errorf("row %s lacks pid = %s", text(t, rows[0]), id.text)
	}
	if a, _ := rows[0].get("a"); a == nil {
		t.Errorf("row %s lacks the document's fields", text(t, rows[0]))
	}
}

// Text that is not PartiQL is a syntax error; PartiQL the local ledger does
// not run is refused as unsupported: the two read differently.
func TestSyntaxErrorsAreNotUnsupportedStatements(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE T")
	for statement, want := range map[string]string{
		"SELEC * FROM T":                                "Syntax error",
		"SELECT * FROM T WHERE":                         "Syntax error",
		"SELECT * FROM T AS p WHERE p.a = = 1":          "Syntax error",
		"SELECT * FROM 'T'":                             "Syntax error",
		"SELECT * FROM T AS p WHERE p.a = ? OR p.b = ?": "does not support OR",
		"SELECT * FROM T AS p ORDER BY p.a":             "does not support ORDER BY",
		"SELECT COUNT(*) FROM T":                        "does not support functions",
		"DROP TABLE T":                                  "does not support DROP",
	} {
		_, err := w.begin().exec(statement, "1", "2")
		if err == nil || err.Type != "BadRequestException" || !strings.Contains(err.Message, want) {
			t.Errorf("%s: %v, want a BadRequestException saying %q", statement, err, want)
		}
	}
}

// QLDB's fixed quotas, each refused as QLDB refuses it.
func TestQuotasAreQLDBs(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	_, connect := startWire(t, Options{Now: clock})
	w := connect()
	w.run("CREATE TABLE T")
	expect := func(what string, err *wireError, typ, words string) {
		t.Helper()
		if err == nil || err.Type != typ || !strings.Contains(err.Message, words) {
			t.Errorf("%s: %v, want %s naming %q", what, err, typ, words)
		}
	}

	x := w.begin()
	for range 41 {
		x.must("INSERT INTO T ?", "{a: 1}")
	}
	expect("41 documents in a transaction", x.commit(), "BadRequestException", "at most 40 documents")

	big := `{blob: {{` + strings.Repeat("QUFB", 200<<10/3) + `}}}`
	_, err := w.begin().exec("INSERT INTO T ?", big)
	expect("a 200 KB document", err, "BadRequestException", "128 KB")

	fat := `{blob: {{` + strings.Repeat("QUFB", 120<<10/3) + `}}}`
	_, err = w.begin().exec("INSERT INTO T ?", `{a: `+fat+`, b: `+fat+`}`)
	expect("a document of two 120 KB parameters", err, "BadRequestException", "128 KB")
	x = w.begin()
	for range 36 {
		x.must("INSERT INTO T ?", fat)
	}
	expect("a 4.3 MB transaction", x.commit(), "BadRequestException", "4 MB")

	_, err = w.begin().exec("SELECT * FROM T AS p WHERE p.a = 1" + strings.Repeat(" ", 100000))
	expect("a statement over 100,000 characters", err, "BadRequestException", "100,000 characters")

	x = w.begin()
	x.must("SELECT * FROM T")
	advance(31 * time.Second)
	_, err = x.exec("SELECT * FROM T")
	expect("a transaction held open 31 seconds", err, "InvalidSessionException", "has expired")
	var out struct{}
	expect("the session of an expired transaction", w.call(map[string]any{"StartTransaction": map[string]any{}}, &out), "InvalidSessionException", "No such session")

	w = connect()
	for i := range 19 {
		w.run("CREATE TABLE T" + strings.Repeat("x", i+1))
	}
	_, err = w.begin().exec("CREATE TABLE TooMany")
	expect("a 21st table", err, "LimitExceededException", "at most 20")
	for _, f := range []string{"a", "b", "c", "d", "e"} {
		w.run("CREATE INDEX ON T (" + f + ")")
	}
	_, err = w.begin().exec("CREATE INDEX ON T (f)")
	expect("a 6th index", err, "LimitExceededException", "at most 5")
}

// QLDB's optimistic concurrency: a transaction that scanned a table (a
// WHERE on an unindexed field) conflicts with one that inserted into it;
// one that looked up an indexed field conflicts only with writes to
// documents that value matches.
func TestConflictsAreQLDBs(t *testing.T) {
	_, connect := startWire(t, Options{})
	a, b := connect(), connect()
	a.run("CREATE TABLE T")
	a.run("CREATE INDEX ON T (email)")

	scan := a.begin()
	scan.must("SELECT * FROM T AS p WHERE p.name = ?", `"ann"`)
	ins := b.begin()
	ins.must("INSERT INTO T ?", `{name: "zed", email: "z@example.com"}`)
	if err := ins.commit(); err != nil {
		t.Fatal(err)
	}
	if err := scan.commit(); err == nil || err.Type != "OccConflictException" {
		t.Errorf("a scan racing an insert into its table committed: %v, want OccConflictException", err)
	}

	lookup := a.begin()
	lookup.must("SELECT * FROM T AS p WHERE p.email = ?", `"ann@example.com"`)
	other := b.begin()
	other.must("INSERT INTO T ?", `{name: "bob", email: "bob@example.com"}`)
	if err := other.commit(); err != nil {
		t.Fatal(err)
	}
	if err := lookup.commit(); err != nil {
		t.Errorf("an indexed lookup conflicted with an insert it cannot match: %v", err)
	}

	lookup = a.begin()
	lookup.must("SELECT * FROM T AS p WHERE p.email = ?", `"ann@example.com"`)
	same := b.begin()
	same.must("INSERT INTO T ?", `{name: "ann", email: "ann@example.com"}`)
	if err := same.commit(); err != nil {
		t.Fatal(err)
	}
	if err := lookup.commit(); err == nil || err.Type != "OccConflictException" {
		t.Errorf("an indexed lookup racing an insert it matches committed: %v, want OccConflictException", err)
	}
}

// A commit digest that does not match what was sent is refused in QLDB's
// words.
func TestDigestMismatchReadsAsQLDBs(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE T")
	x := w.begin()
	x.must("INSERT INTO T ?", "{a: 1}")
	x.digest.sum = bytes.Repeat([]byte{7}, 32)
	if err := x.commit(); err == nil || err.Type != "BadRequestException" || !strings.Contains(err.Message, "Digests don't match") {
		t.Errorf("commit with a wrong digest: %v", err)
	}
}

// The driver still drives it, with history in version ranges (the store's
// paging) answered with PartiQL's comparisons.
func TestHistoryByVersionRange(t *testing.T) {
	_, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE T")
	ids := exec(t, d, "INSERT INTO T ?", map[string]any{"n": 0})
	var res struct {
		DocumentID string `ion:"documentId"`
	}
	if err := ion.Unmarshal(ids[0], &res); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 10; i++ {
		exec(t, d, "UPDATE T AS p BY pid SET p.n = ? WHERE pid = ?", i, res.DocumentID)
	}
	rows := exec(t, d, "SELECT * FROM history(T) AS h WHERE h.metadata.id = ? AND h.metadata.version >= ? AND h.metadata.version < ?", res.DocumentID, 3, 7)
	if len(rows) != 4 {
		t.Fatalf("versions 3 to 6: %d rows", len(rows))
	}
	for i, r := range rows {
		var rev struct {
			Metadata struct{ Version int } `ion:"metadata"`
		}
		if err := ion.Unmarshal(r, &rev); err != nil || rev.Metadata.Version != 3+i {
			t.Errorf("row %d: version %d, %v", i, rev.Metadata.Version, err)
		}
	}
	_, err := d.Execute(context.Background(), func(txn qldbdriver.Transaction) (any, error) {
		return txn.Execute("SELECT * FROM history(T) AS h WHERE h.metadata.id = ? OR h.metadata.version > ?", res.DocumentID, 1)
	})
	if err == nil || !strings.Contains(err.Error(), "does not support OR") {
		t.Errorf("an OR in a history query: %v, want it refused", err)
	}
}

// With one source in FROM, a name the FROM clause does not bind is a field
// of the source's rows, as QLDB runs SELECT * FROM VehicleRegistration
// WHERE LicensePlateNumber = ?: in projections, in WHERE clauses of SELECT,
// UPDATE, DELETE and history(), with or without an alias. The names the
// FROM clause binds (alias, BY alias) stay what they are.
func TestUnqualifiedNamesAreTheSourcesFields(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	w.run("CREATE TABLE Licences", "CREATE TABLE Other")
	w.run("CREATE INDEX ON Licences (email)")
	x := w.begin()
	ids := x.must("INSERT INTO Licences << ?, ? >>", `{email: "ann@example.com", plan: "pro", n: {v: 1}}`, `{email: "bob@example.com", plan: "free"}`)
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	annID, _ := ids[0].get("documentId")

	x = w.begin()
	for _, tc := range []struct {
		statement, param string
		want             []string
	}{
		{"SELECT * FROM Licences WHERE email = ?", `"ann@example.com"`, []string{`{email:"ann@example.com",plan:"pro",n:{v:1}}`}},
		{"SELECT email FROM Licences WHERE email = ?", `"ann@example.com"`, []string{`{email:"ann@example.com"}`}},
		{"SELECT email, n.v FROM Licences AS l WHERE plan = ?", `"pro"`, []string{`{email:"ann@example.com",v:1}`}},
		{"SELECT email FROM Licences l WHERE l.plan = ?", `"free"`, []string{`{email:"bob@example.com"}`}},
		{"SELECT email, lid FROM Licences BY lid WHERE lid = ?", `"` + annID.text + `"`, []string{`{email:"ann@example.com",lid:"` + annID.text + `"}`}},
		{"SELECT n FROM Licences WHERE email = ?", `"bob@example.com"`, []string{`{}`}},
		{"SELECT * FROM Licences WHERE nothing = ?", `"pro"`, nil},
		{"SELECT data.email FROM history(Licences) WHERE metadata.id = ?", `"` + annID.text + `"`, []string{`{email:"ann@example.com"}`}},
	} {
		rows := x.must(tc.statement, tc.param)
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join(strings.Fields(text(t, r)), ""))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s with %s: %v, want %v", tc.statement, tc.param, got, tc.want)
		}
	}
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}

	x = w.begin()
	if rows := x.must("UPDATE Licences AS l SET l.plan = n WHERE email = ?", `"ann@example.com"`); len(rows) != 1 {
		t.Errorf("UPDATE … WHERE email = ? changed %d documents, want 1", len(rows))
	}
	if rows := x.must("DELETE FROM Licences WHERE email = ?", `"bob@example.com"`); len(rows) != 1 {
		t.Errorf("DELETE … WHERE email = ? removed %d documents, want 1", len(rows))
	}
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	rows := w.begin().must("SELECT plan FROM Licences")
	if len(rows) != 1 || strings.Join(strings.Fields(text(t, rows[0])), "") != `{plan:{v:1}}` {
		t.Errorf("after UPDATE and DELETE: %d rows, first %v", len(rows), rows)
	}

	// An unqualified indexed field is an indexed lookup, as the qualified
	// one is: it does not conflict with an insert it cannot match.
	other := connect()
	lookup := w.begin()
	lookup.must("SELECT * FROM Licences WHERE email = ?", `"cat@example.com"`)
	ins := other.begin()
	ins.must("INSERT INTO Licences ?", `{email: "dan@example.com"}`)
	if err := ins.commit(); err != nil {
		t.Fatal(err)
	}
	if err := lookup.commit(); err != nil {
		t.Errorf("an unqualified indexed lookup conflicted with an insert it cannot match: %v", err)
	}

	// Refused, never guessed: a second source, beside which an unqualified
	// name would be ambiguous, and a name that is also a table's.
	for statement, want := range map[string]string{
		"SELECT * FROM Licences, Other WHERE email = ?":           "does not support joins",
		"SELECT * FROM Licences AS l, Other AS o WHERE email = ?": "does not support joins",
		"SELECT * FROM Licences AS l WHERE Licences.email = ?":    `"Licences", which names a table`,
		"SELECT Other FROM Licences WHERE email = ?":              `"Other", which names a table`,
	} {
		_, err := w.begin().exec(statement, `"ann@example.com"`)
		if err == nil || err.Type != "BadRequestException" || !strings.Contains(err.Message, want) {
			t.Errorf("%s: %v, want a BadRequestException saying %q", statement, err, want)
		}
	}
}

// information_schema.user_tables is QLDB's catalog, read only: one row per
// table with its id, name, indexes (id, expression, status) and status, in
// the order QLDB documents them, projected and filtered as any source.
func TestCatalogIsQLDBs(t *testing.T) {
	_, connect := startWire(t, Options{})
	w := connect()
	x := w.begin()
	created := x.must("CREATE TABLE People")
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}
	tableID, _ := created[0].get("tableId")
	w.run("CREATE TABLE Licences", "CREATE INDEX ON People (name)")

	x = w.begin()
	rows := x.must("SELECT * FROM information_schema.user_tables WHERE name = 'People'")
	if len(rows) != 1 {
		t.Fatalf("%d catalog rows for People, want 1", len(rows))
	}
	var names []string
	for _, f := range rows[0].fields {
		names = append(names, f.name)
	}
	if strings.Join(names, ",") != "tableId,name,indexes,status" {
		t.Errorf("catalog row fields %v, want tableId, name, indexes, status", names)
	}
	if id, _ := rows[0].get("tableId"); id == nil || id.text != tableID.text {
		t.Errorf("catalog tableId %s, want the id CREATE TABLE returned, %s", text(t, id), tableID.text)
	}
	indexes, _ := rows[0].get("indexes")
	if indexes == nil || len(indexes.items) != 1 {
		t.Fatalf("People's indexes: %s", text(t, indexes))
	}
	index := indexes.items[0]
	indexID, _ := index.get("indexId")
	expr, _ := index.get("expr")
	status, _ := index.get("status")
	if indexID == nil || len(indexID.text) != 22 || expr == nil || expr.text != "[name]" || status == nil || status.text != "ONLINE" {
		t.Errorf("People's index: %s, want a 22-character id, expr [name], status ONLINE", text(t, index))
	}

	for _, tc := range []struct {
		statement string
		params    []string
		want      string
	}{
		{"SELECT name FROM information_schema.user_tables WHERE status = 'ACTIVE'", nil, `{name:"Licences"} {name:"People"}`},
		{"SELECT t.name, t.status FROM information_schema.user_tables AS t WHERE t.name = ?", []string{`"Licences"`}, `{name:"Licences",status:"ACTIVE"}`},
		{"SELECT tableId FROM information_schema.user_tables WHERE name = ?", []string{`"People"`}, `{tableId:"` + tableID.text + `"}`},
		{"SELECT name FROM information_schema.user_tables WHERE status = 'INACTIVE'", nil, ``},
	} {
		var got []string
		for _, r := range x.must(tc.statement, tc.params...) {
			got = append(got, strings.Join(strings.Fields(text(t, r)), ""))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.statement, got, tc.want)
		}
	}
	if err := x.commit(); err != nil {
		t.Fatal(err)
	}

	for statement, want := range map[string]string{
		"INSERT INTO information_schema.user_tables ?":                                   "only supported in the default user view",
		"UPDATE information_schema.user_tables AS t SET t.status = 'INACTIVE'":           "only supported in the default user view",
		"DELETE FROM information_schema.user_tables":                                     "only supported in the default user view",
		"DELETE FROM history(People) AS h":                                               "only supported in the default user view",
		"SELECT * FROM information_schema.tables":                                        "does not support information_schema.tables",
		"SELECT information_schema.user_tables.name FROM information_schema.user_tables": "which names a table",
	} {
		var params []string
		if strings.Contains(statement, "?") {
			params = []string{`{name: "x"}`}
		}
		_, err := w.begin().exec(statement, params...)
		if err == nil || err.Type != "BadRequestException" || !strings.Contains(err.Message, want) {
			t.Errorf("%s: %v, want a BadRequestException saying %q", statement, err, want)
		}
	}
}
