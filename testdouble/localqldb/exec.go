package localqldb

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/amzn/ion-go/ion"

	"github.com/privateledger/licences/function/docid"
)

// strandID names the local ledger's one journal strand in block addresses.
const strandID = "localStrand00000000001"

// param is one statement parameter as the wire carries it.
type param struct {
	binary []byte
	text   string
}

// execute runs one statement in t and returns its result values in Ion
// binary.
func (l *ledger) execute(t *txn, text string, params []param) ([][]byte, error) {
	if err := l.expired(t); err != nil {
		return nil, err
	}
	if n := len([]rune(text)); n > maxStatementCharacters {
		return nil, badRequest("Statement is %d characters: a statement may be at most 100,000 characters", n)
	}
	st, want, err := parse(text)
	if err != nil {
		var syntax *syntaxError
		if errors.As(err, &syntax) {
			return nil, badRequest("%s", syntax.Error())
		}
		return nil, badRequest("%s", err.Error())
	}
	if len(params) != want {
		return nil, badRequest("The statement takes %d parameters, %d were given", want, len(params))
	}
	args := make([]*value, len(params))
	raw := make([][]byte, len(params))
	for i, p := range params {
		switch {
		case len(p.binary) > maxParameterBytes:
			return nil, badRequest("Parameter %d is %d bytes in Ion binary: a parameter may be at most 128 KB", i+1, len(p.binary))
		case p.binary == nil && len(p.text) > maxParameterTextBytes:
			return nil, badRequest("Parameter %d is %d bytes in Ion text: a parameter may be at most 1 MB", i+1, len(p.text))
		}
		src := p.binary
		if src == nil {
			src = []byte(p.text)
		}
		if args[i], err = parseIon(src); err != nil {
			return nil, badRequest("Parameter %d is not one Ion value: %v", i+1, err)
		}
		if raw[i], err = args[i].binary(); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	l.completeRedactions()
	rows, err := l.run(t, st, args)
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// The digest covers what the client sent, in Ion binary.
	if err := t.digest.addStatement(text, raw); err != nil {
		return nil, err
	}
	t.statements++
	out := make([][]byte, len(rows))
	for i, r := range rows {
		if out[i], err = r.binary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run carries out a parsed statement. l.mu is held.
func (l *ledger) run(t *txn, st statement, args []*value) ([]*value, error) {
	st, err := l.resolve(st)
	if err != nil {
		return nil, err
	}
	switch s := st.(type) {
	case selectStmt:
		return l.selectRows(t, s, args)
	case insertStmt:
		return l.insert(t, s, args)
	case updateStmt:
		return l.update(t, s, args)
	case deleteStmt:
		return l.delete(t, s, args)
	case createTableStmt:
		return l.createTable(t, s.table)
	case createIndexStmt:
		return l.createIndex(t, s.table, s.field)
	case execStmt:
		if s.procedure != "REDACT_REVISION" {
			return nil, badRequest("%s", (&unsupportedError{"the stored procedure " + s.procedure}).Error())
		}
		return l.redact(t, s, args)
	}
	return nil, badRequest("unsupported statement")
}

// resolve qualifies every unqualified name in a statement with its source,
// as QLDB does: a path whose first name the FROM clause binds (the source's
// alias, or its BY alias) starts from that binding; any other first name is
// a field of the source's rows. So SELECT * FROM VehicleRegistration WHERE
// LicensePlateNumber = ?, in QLDB's own examples
// (https://docs.aws.amazon.com/qldb/latest/developerguide/working.userdata.html),
// reads each document's LicensePlateNumber, and the drivers' table listing,
// SELECT name FROM information_schema.user_tables WHERE status = 'ACTIVE'
// (https://docs.aws.amazon.com/qldb/latest/developerguide/working.catalog.html),
// each catalog row's name and status. This needs exactly one source, which
// every statement the parser accepts has: it refuses a second, beside which
// an unqualified name would be ambiguous. A first name that is a table's
// (or information_schema) is refused too: PartiQL resolves a name that is
// not a variable to the database name it names, if any
// (https://partiql.org/assets/PartiQL-Specification.pdf, scoping rules),
// and what QLDB then makes of a table in an expression is not documented.
// Every path that leaves resolve starts from a binding, so the statement's
// reads classify (lookup, historyRead) as the qualified text would.
func (l *ledger) resolve(st statement) (statement, error) {
	var err error
	switch s := st.(type) {
	case selectStmt:
		if s.items, err = l.qualifyAll(s.from, s.items); err != nil {
			return nil, err
		}
		s.where, err = l.qualifyWhere(s.from, s.where)
		return s, err
	case updateStmt:
		sets := make([]assignment, len(s.sets))
		for i, a := range s.sets {
			// A SET target is a place in the document, not a value: it
			// stays as written, and update refuses what is not alias.field.
			sets[i] = a
			if sets[i].value, err = l.qualifyOperand(s.from, a.value); err != nil {
				return nil, err
			}
		}
		s.sets = sets
		s.where, err = l.qualifyWhere(s.from, s.where)
		return s, err
	case deleteStmt:
		s.where, err = l.qualifyWhere(s.from, s.where)
		return s, err
	}
	return st, nil
}

// qualify is resolve for one path.
func (l *ledger) qualify(from source, p path) (path, error) {
	if p[0] == from.alias || from.by != "" && p[0] == from.by {
		return p, nil
	}
	if _, isTable := l.tables[p[0]]; isTable || strings.EqualFold(p[0], "information_schema") {
		return nil, badRequest("%s", (&unsupportedError{fmt.Sprintf("the name %q, which names a table, as a field of %s: qualify it with the source's alias", p[0], from.alias)}).Error())
	}
	return append(path{from.alias}, p...), nil
}

func (l *ledger) qualifyAll(from source, paths []path) ([]path, error) {
	if paths == nil {
		return nil, nil // SELECT *
	}
	out := make([]path, len(paths))
	for i, p := range paths {
		q, err := l.qualify(from, p)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

func (l *ledger) qualifyOperand(from source, o operand) (operand, error) {
	if o.path == nil {
		return o, nil
	}
	var err error
	o.path, err = l.qualify(from, o.path)
	return o, err
}

func (l *ledger) qualifyWhere(from source, where []comparison) ([]comparison, error) {
	out := make([]comparison, len(where))
	for i, c := range where {
		var err error
		if c.left, err = l.qualifyOperand(from, c.left); err != nil {
			return nil, err
		}
		if c.right, err = l.qualifyOperand(from, c.right); err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// row is one thing a condition is evaluated on: a document (with its id)
// or a history or catalog row.
type row struct {
	names map[string]*value // alias (and BY alias) → value
}

func (r row) eval(o operand, args []*value) (*value, error) {
	switch {
	case o.missing:
		return nil, nil
	case o.literal != nil:
		return o.literal, nil
	case o.param > 0:
		return args[o.param-1], nil
	}
	v, ok := r.names[o.path[0]]
	if !ok {
		return nil, badRequest("%s", (&unsupportedError{fmt.Sprintf("the name %q, which is not the source's alias", o.path[0])}).Error())
	}
	for _, f := range o.path[1:] {
		if v, ok = v.get(f); !ok {
			return nil, nil
		}
	}
	return v, nil
}

// holds reports whether every comparison is true for the row.
func (r row) holds(where []comparison, args []*value) (bool, error) {
	for _, c := range where {
		a, err := r.eval(c.left, args)
		if err != nil {
			return false, err
		}
		b, err := r.eval(c.right, args)
		if err != nil {
			return false, err
		}
		t, err := compare(a, b, c.op)
		if err != nil {
			return false, badRequest("%s", err.Error())
		}
		if t != yes {
			return false, nil
		}
	}
	return true, nil
}

// lookup classifies what a WHERE clause reads from a table, for the
// concurrency check: a document by id (an equality on the BY alias), the
// documents an indexed field's equality finds, or, failing both, a scan.
func lookup(tab *table, s source, where []comparison, args []*value) read {
	var byField *read
	for _, c := range where {
		if c.op != "=" {
			continue
		}
		for _, pair := range [][2]operand{{c.left, c.right}, {c.right, c.left}} {
			p, o := pair[0], pair[1]
			if p.path == nil || o.path != nil {
				continue
			}
			v := constant(o, args)
			switch {
			case s.by != "" && len(p.path) == 1 && p.path[0] == s.by && v != nil && v.isText():
				return read{table: tab.name, docID: v.text}
			case len(p.path) == 2 && p.path[0] == s.alias && slicesContains(tab.indexes, p.path[1]) && byField == nil:
				byField = &read{table: tab.name, field: p.path[1], value: v}
			}
		}
	}
	if byField != nil {
		return *byField
	}
	return read{table: tab.name, scan: true}
}

// constant is an operand that is not a path.
func constant(o operand, args []*value) *value {
	switch {
	case o.literal != nil:
		return o.literal
	case o.param > 0:
		return args[o.param-1]
	}
	return nil
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// matching returns the documents of a table a WHERE clause selects, as the
// transaction sees them, and records what it read.
func (l *ledger) matching(t *txn, s source, where []comparison, args []*value) (*table, []viewDoc, error) {
	tab, err := l.table(s.table)
	if err != nil {
		return nil, nil, err
	}
	var out []viewDoc
	for _, d := range l.view(t, tab) {
		ok, err := docRow(s, d).holds(where, args)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	t.reads = append(t.reads, lookup(tab, s, where, args))
	return tab, out, nil
}

func docRow(s source, d viewDoc) row {
	r := row{names: map[string]*value{s.alias: d.data}}
	if s.by != "" {
		r.names[s.by] = ionString(d.id)
	}
	return r
}

func (l *ledger) selectRows(t *txn, s selectStmt, args []*value) ([]*value, error) {
	var rows []row
	switch s.from.kind {
	case fromCatalog:
		for _, v := range l.catalog() {
			rows = append(rows, row{names: map[string]*value{s.from.alias: v}})
		}
	case fromHistory:
		tab, err := l.table(s.from.table)
		if err != nil {
			return nil, err
		}
		r := historyRead(tab, s.from, s.where, args)
		ids := tab.order
		if r.docID != "" {
			// Only that document's revisions can satisfy the WHERE: the
			// others need not be built to be refused.
			ids = nil
			if _, ok := tab.docs[r.docID]; ok {
				ids = []string{r.docID}
			}
		}
		for _, id := range ids {
			for _, rev := range tab.docs[id].revisions {
				hr, err := historyRow(id, rev)
				if err != nil {
					return nil, err
				}
				rows = append(rows, row{names: map[string]*value{s.from.alias: hr}})
			}
		}
		t.reads = append(t.reads, r)
	default:
		_, docs, err := l.matching(t, s.from, s.where, args)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			rows = append(rows, docRow(s.from, d))
		}
	}
	var out []*value
	for _, r := range rows {
		if s.from.kind != fromTable {
			ok, err := r.holds(s.where, args)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		v, err := project(s, r, args)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// project shapes a row: SELECT * is the row itself (a document with its BY
// id as a field, as QLDB returns it); SELECT a, b.c is a struct of the
// paths, each named for its last step, MISSING ones left out.
func project(s selectStmt, r row, args []*value) (*value, error) {
	src := r.names[s.from.alias]
	if s.items == nil {
		if s.from.by != "" {
			return src.with(s.from.by, r.names[s.from.by]), nil
		}
		return src, nil
	}
	out := ionStruct()
	for _, item := range s.items {
		v, err := r.eval(operand{path: item}, args)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out.fields = append(out.fields, field{item[len(item)-1], v})
		}
	}
	return out, nil
}

// historyRow is a revision as history() returns it.
func historyRow(id string, rev *revision) (*value, error) {
	meta := ionStruct(
		field{"id", ionString(id)},
		field{"version", ionInt(int64(rev.version))},
		field{"txTime", ionTime(ion.NewTimestampWithFractionalSeconds(rev.txTime.UTC(), ion.TimestampPrecisionNanosecond, ion.TimezoneUTC, 3))},
		field{"txId", ionString(rev.txID)},
	)
	if rev.hash == nil {
		// A revision's hash never changes (redaction keeps it): computed
		// once, as history queries read every revision of a table.
		metaHash, err := meta.hash()
		if err != nil {
			return nil, err
		}
		if rev.hash, err = dot(rev.dataHash, metaHash); err != nil {
			return nil, err
		}
	}
	hash := rev.hash
	out := ionStruct(
		field{"blockAddress", ionStruct(field{"strandId", ionString(strandID)}, field{"sequenceNo", ionInt(rev.seq)})},
		field{"hash", ionBlob(hash)},
	)
	switch {
	case rev.redacted:
		out.fields = append(out.fields, field{"dataHash", ionBlob(rev.dataHash)})
	case rev.data != nil:
		out.fields = append(out.fields, field{"data", rev.data})
	}
	out.fields = append(out.fields, field{"metadata", meta})
	return out, nil
}

// historyRead is what a history query read: one document's revisions when
// it names the document, else the table's.
func historyRead(tab *table, s source, where []comparison, args []*value) read {
	for _, c := range where {
		if c.op != "=" {
			continue
		}
		for _, pair := range [][2]operand{{c.left, c.right}, {c.right, c.left}} {
			p, o := pair[0], pair[1]
			if len(p.path) == 3 && p.path[0] == s.alias && p.path[1] == "metadata" && p.path[2] == "id" {
				if v := constant(o, args); v != nil && v.isText() {
					return read{table: tab.name, docID: v.text}
				}
			}
		}
	}
	return read{table: tab.name, scan: true}
}

func documentIDRow(id string) *value { return ionStruct(field{"documentId", ionString(id)}) }

func (l *ledger) insert(t *txn, s insertStmt, args []*value) ([]*value, error) {
	if _, err := l.table(s.table); err != nil {
		return nil, err
	}
	var docs []*value
	for _, o := range s.values {
		v := constant(o, args)
		switch {
		case v != nil && (v.typ == ion.ListType || v.typ == ion.SexpType) && !v.null && len(s.values) == 1:
			docs = append(docs, v.items...)
		default:
			docs = append(docs, v)
		}
	}
	var rows []*value
	for _, d := range docs {
		if !d.isStruct() {
			return nil, badRequest("INSERT takes structs: a document is an Ion struct")
		}
		if err := checkDocument(d); err != nil {
			return nil, err
		}
		id := docid.New()
		t.writes = append(t.writes, write{table: s.table, docID: id, after: d})
		rows = append(rows, documentIDRow(id))
	}
	return rows, nil
}

func (l *ledger) update(t *txn, s updateStmt, args []*value) ([]*value, error) {
	for _, a := range s.sets {
		if len(a.target) != 2 || a.target[0] != s.from.alias {
			return nil, badRequest("%s", (&unsupportedError{"SET on " + a.target.String() + ": only the alias's top-level fields"}).Error())
		}
	}
	_, docs, err := l.matching(t, s.from, s.where, args)
	if err != nil {
		return nil, err
	}
	var rows []*value
	for _, d := range docs {
		after := d.data
		r := docRow(s.from, d)
		for _, a := range s.sets {
			v, err := r.eval(a.value, args)
			if err != nil {
				return nil, err
			}
			if v == nil {
				return nil, badRequest("%s", (&unsupportedError{"SET to MISSING"}).Error())
			}
			after = after.with(a.target[1], v)
		}
		if err := checkDocument(after); err != nil {
			return nil, err
		}
		t.writes = append(t.writes, write{table: s.from.table, docID: d.id, before: d.data, after: after})
		rows = append(rows, documentIDRow(d.id))
	}
	return rows, nil
}

func (l *ledger) delete(t *txn, s deleteStmt, args []*value) ([]*value, error) {
	_, docs, err := l.matching(t, s.from, s.where, args)
	if err != nil {
		return nil, err
	}
	var rows []*value
	for _, d := range docs {
		t.writes = append(t.writes, write{table: s.from.table, docID: d.id, before: d.data})
		rows = append(rows, documentIDRow(d.id))
	}
	return rows, nil
}

// tableName is what QLDB takes as a table name.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func (l *ledger) createTable(t *txn, name string) ([]*value, error) {
	if !tableName.MatchString(name) {
		return nil, badRequest("%q is not a table name: 1 to 128 letters, digits or underscores, not starting with a digit", name)
	}
	if _, exists := l.tables[name]; exists {
		return nil, badRequest("Table with name: %s already exists", name)
	}
	if l.activeTables() >= maxActiveTables {
		return nil, limitExceeded("The ledger has %d active tables: a ledger may have at most 20", l.activeTables())
	}
	if len(l.byID) >= maxTables {
		return nil, limitExceeded("The ledger has %d tables: a ledger may have at most 40, active and inactive", len(l.byID))
	}
	id := docid.New()
	t.ddl = append(t.ddl, func(l *ledger) error {
		if _, exists := l.tables[name]; exists {
			return badRequest("Table with name: %s already exists", name)
		}
		tab := &table{id: id, name: name, docs: map[string]*document{}}
		l.tables[name], l.byID[id] = tab, tab
		return nil
	})
	t.hasDDL = true
	return []*value{ionStruct(field{"tableId", ionString(id)})}, nil
}

func (l *ledger) createIndex(t *txn, tableName, f string) ([]*value, error) {
	tab, err := l.table(tableName)
	if err != nil {
		return nil, err
	}
	if slicesContains(tab.indexes, f) {
		return nil, badRequest("Index on %s already exists", f)
	}
	if len(tab.indexes) >= maxIndexesPerTable {
		return nil, limitExceeded("Table %s has %d indexes: a table may have at most 5", tableName, len(tab.indexes))
	}
	id := docid.New() // system-assigned, as QLDB assigns every index an id
	t.ddl = append(t.ddl, func(l *ledger) error {
		if slicesContains(tab.indexes, f) {
			return badRequest("Index on %s already exists", f)
		}
		tab.indexes = append(tab.indexes, f)
		tab.indexIDs = append(tab.indexIDs, id)
		return nil
	})
	t.hasDDL = true
	return []*value{ionStruct(field{"tableId", ionString(tab.id)})}, nil
}

// redact runs EXEC REDACT_REVISION block-address, table-id, document-id:
// the revision at that block address of that document, which must be
// inactive (not the document's latest), loses its data when the request
// completes, after the transaction commits; its hash stays.
func (l *ledger) redact(t *txn, s execStmt, args []*value) ([]*value, error) {
	if len(s.args) != 3 {
		return nil, badRequest("REDACT_REVISION takes a block address, a table id and a document id")
	}
	addr, tableID, docID := constant(s.args[0], args), constant(s.args[1], args), constant(s.args[2], args)
	seqV, _ := addr.get("sequenceNo")
	strand, _ := addr.get("strandId")
	seq, ok := seqV.number()
	if !addr.isStruct() || !ok || !seq.IsInt() || strand == nil || !strand.isText() || tableID == nil || !tableID.isText() || docID == nil || !docID.isText() {
		return nil, badRequest("REDACT_REVISION takes a block address {strandId, sequenceNo}, a table id and a document id")
	}
	if len(t.redactions) >= maxRedactionsPerTx {
		return nil, badRequest("Transaction %s already redacts a revision: a transaction may redact one", t.id)
	}
	tab, ok := l.byID[tableID.text]
	if !ok {
		return nil, badRequest("No table with id %s", tableID.text)
	}
	doc, ok := tab.docs[docID.text]
	if !ok || strand.text != strandID {
		return nil, badRequest("No revision of document %s at that block address", docID.text)
	}
	for i, rev := range doc.revisions {
		if rev.seq != seq.Num().Int64() {
			continue
		}
		switch {
		case i == len(doc.revisions)-1:
			return nil, badRequest("Revision %d of document %s is its latest active revision: only inactive revisions may be redacted", rev.version, doc.id)
		case rev.data == nil || rev.redacted || l.isPending(rev):
			return nil, badRequest("Revision %d of document %s has no data to redact", rev.version, doc.id)
		}
		t.redactions = append(t.redactions, rev)
		t.reads = append(t.reads, read{table: tab.name, docID: doc.id})
		return []*value{ionStruct(
			field{"blockAddress", addr}, field{"tableId", tableID}, field{"documentId", docID},
			field{"version", ionInt(int64(rev.version))},
		)}, nil
	}
	return nil, badRequest("No revision of document %s at that block address", docID.text)
}

func (l *ledger) isPending(rev *revision) bool {
	for _, p := range l.pending {
		if p.rev == rev {
			return true
		}
	}
	return false
}

func limitExceeded(format string, args ...any) error {
	return &apiError{Type: "LimitExceededException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}
