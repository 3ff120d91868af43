package localqldb

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"

	"github.com/amzn/ion-go/ion"
)

// The PartiQL this ledger understands: the statement shapes the licence
// store and its migration run, each with parameters only. Anything else is
// refused with a BadRequestException that says so, rather than guessed at.
var (
	reCatalog     = regexp.MustCompile(`(?i)^SELECT \* FROM information_schema\.user_tables$`)
	reCreateTable = regexp.MustCompile(`(?i)^CREATE TABLE (\w+)$`)
	reCreateIndex = regexp.MustCompile(`(?i)^CREATE INDEX ON (\w+) ?\((\w+)\)$`)
	reSelect      = regexp.MustCompile(`(?i)^SELECT (\*|\w+, \w+) FROM (\w+) AS (\w+)(?: BY (\w+))? WHERE ([\w.]+) = \?$`)
	reInsert      = regexp.MustCompile(`(?i)^INSERT INTO (\w+) \?$`)
	reUpdate      = regexp.MustCompile(`(?i)^UPDATE (\w+) AS (\w+)(?: BY (\w+))? SET (.+) WHERE ([\w.]+) = \?$`)
	reSetItem     = regexp.MustCompile(`^(\w+)\.(\w+) = \?$`)
	reDelete      = regexp.MustCompile(`(?i)^DELETE FROM (\w+) AS (\w+)(?: BY (\w+))? WHERE ([\w.]+) = \?$`)
	reHistory     = regexp.MustCompile(`(?i)^SELECT \* FROM history\((\w+)\) AS (\w+) WHERE (\w+)\.metadata\.id = \?$`)
)

// execute runs one statement in t and returns its result values as Ion.
func (l *ledger) execute(t *txn, statement string, params [][]byte) ([][]byte, error) {
	s := strings.Join(strings.Fields(statement), " ")
	args := make([]any, len(params))
	for i, p := range params {
		if err := ion.Unmarshal(p, &args[i]); err != nil {
			return nil, badRequest("parameter %d is not Ion: %v", i+1, err)
		}
	}
	want := func(n int) error {
		if len(args) != n {
			return badRequest("statement takes %d parameters, got %d", n, len(args))
		}
		return nil
	}

	var rows []any
	var err error
	switch {
	case reCatalog.MatchString(s):
		err = want(0)
		if err == nil {
			rows = l.catalog()
		}
	case reCreateTable.MatchString(s):
		m := reCreateTable.FindStringSubmatch(s)
		if err = want(0); err == nil {
			rows, err = l.createTable(t, m[1])
		}
	case reCreateIndex.MatchString(s):
		m := reCreateIndex.FindStringSubmatch(s)
		if err = want(0); err == nil {
			rows, err = l.createIndex(t, m[1], m[2])
		}
	case reHistory.MatchString(s):
		m := reHistory.FindStringSubmatch(s)
		if m[2] != m[3] {
			return nil, badRequest("unknown alias %s", m[3])
		}
		if err = want(1); err == nil {
			rows, err = l.history(t, m[1], args[0])
		}
	case reSelect.MatchString(s):
		m := reSelect.FindStringSubmatch(s)
		if err = want(1); err == nil {
			rows, err = l.selectWhere(t, m[2], alias{m[3], m[4]}, m[1], m[5], args[0])
		}
	case reInsert.MatchString(s):
		m := reInsert.FindStringSubmatch(s)
		if err = want(1); err == nil {
			rows, err = l.insert(t, m[1], args[0])
		}
	case reUpdate.MatchString(s):
		m := reUpdate.FindStringSubmatch(s)
		rows, err = l.update(t, m[1], alias{m[2], m[3]}, m[4], m[5], args)
	case reDelete.MatchString(s):
		m := reDelete.FindStringSubmatch(s)
		if err = want(1); err == nil {
			rows, err = l.deleteWhere(t, m[1], alias{m[2], m[3]}, m[4], args[0])
		}
	default:
		return nil, badRequest("this local ledger does not support the statement %q", s)
	}
	if err != nil {
		return nil, err
	}
	if err := t.digest.addStatement(statement, params); err != nil {
		return nil, err
	}
	out := make([][]byte, len(rows))
	for i, r := range rows {
		if out[i], err = ion.MarshalBinary(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// alias is a table's alias in a statement and, with BY, its id alias.
type alias struct{ doc, id string }

// predicate is the WHERE clause "path = value", resolved against a table.
type predicate struct {
	byID  bool
	field string
	value any
}

func (a alias) where(path string, value any) (predicate, error) {
	if a.id != "" && path == a.id {
		id, ok := value.(string)
		if !ok {
			return predicate{}, badRequest("document id must be a string")
		}
		return predicate{byID: true, value: id}, nil
	}
	field, ok := strings.CutPrefix(path, a.doc+".")
	if !ok || strings.Contains(field, ".") {
		return predicate{}, badRequest("unsupported WHERE path %s", path)
	}
	return predicate{field: field, value: value}, nil
}

func (p predicate) read(table string) read {
	if p.byID {
		return read{table: table, docID: p.value.(string)}
	}
	return read{table: table, field: p.field, value: p.value}
}

// holds reports whether the document satisfies p.
func (p predicate) holds(id string, data map[string]any) bool {
	if p.byID {
		return id == p.value
	}
	return equal(data[p.field], p.value)
}

// matchingWhere returns the documents of the table for which the WHERE
// clause "path = value" holds, recording the read for the concurrency check.
func (l *ledger) matchingWhere(t *txn, table string, a alias, path string, value any) ([]viewDoc, error) {
	p, err := a.where(path, value)
	if err != nil {
		return nil, err
	}
	docs, err := l.find(t, table, p)
	if err != nil {
		return nil, err
	}
	t.reads = append(t.reads, p.read(table))
	return docs, nil
}

// selectWhere answers SELECT * (the documents) or SELECT id, doc, where id
// is the BY alias and doc the table's alias (each row a struct of both).
func (l *ledger) selectWhere(t *txn, table string, a alias, projection, path string, value any) ([]any, error) {
	withID := projection != "*"
	if withID && projection != a.id+", "+a.doc {
		return nil, badRequest("unsupported projection %q: want * or %s, %s", projection, a.id, a.doc)
	}
	docs, err := l.matchingWhere(t, table, a, path, value)
	if err != nil {
		return nil, err
	}
	rows := make([]any, len(docs))
	for i, d := range docs {
		if withID {
			rows[i] = map[string]any{a.id: d.id, a.doc: d.data}
		} else {
			rows[i] = d.data
		}
	}
	return rows, nil
}

func (l *ledger) insert(t *txn, table string, value any) ([]any, error) {
	if !l.hasTable(table) {
		return nil, badRequest("No such table: %s", table)
	}
	data, ok := value.(map[string]any)
	if !ok {
		return nil, badRequest("INSERT takes a struct")
	}
	id := newID()
	t.writes = append(t.writes, write{table: table, docID: id, after: data})
	return []any{map[string]any{"documentId": id}}, nil
}

func (l *ledger) update(t *txn, table string, a alias, set, path string, args []any) ([]any, error) {
	items := strings.Split(set, ", ")
	if len(args) != len(items)+1 {
		return nil, badRequest("statement takes %d parameters, got %d", len(items)+1, len(args))
	}
	fields := make([]string, len(items))
	for i, item := range items {
		m := reSetItem.FindStringSubmatch(item)
		if m == nil || m[1] != a.doc {
			return nil, badRequest("unsupported SET item %q", item)
		}
		fields[i] = m[2]
	}
	docs, err := l.matchingWhere(t, table, a, path, args[len(items)])
	if err != nil {
		return nil, err
	}
	var rows []any
	for _, d := range docs {
		after := make(map[string]any, len(d.data)+len(fields))
		for k, v := range d.data {
			after[k] = v
		}
		for i, f := range fields {
			after[f] = args[i]
		}
		t.writes = append(t.writes, write{table: table, docID: d.id, before: d.data, after: after})
		rows = append(rows, map[string]any{"documentId": d.id})
	}
	return rows, nil
}

func (l *ledger) deleteWhere(t *txn, table string, a alias, path string, value any) ([]any, error) {
	docs, err := l.matchingWhere(t, table, a, path, value)
	if err != nil {
		return nil, err
	}
	var rows []any
	for _, d := range docs {
		t.writes = append(t.writes, write{table: table, docID: d.id, before: d.data})
		rows = append(rows, map[string]any{"documentId": d.id})
	}
	return rows, nil
}

// history returns every committed revision of one document, oldest first,
// shaped as QLDB's history() shapes them.
func (l *ledger) history(t *txn, table string, value any) ([]any, error) {
	id, ok := value.(string)
	if !ok {
		return nil, badRequest("document id must be a string")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tab, ok := l.tables[table]
	if !ok {
		return nil, badRequest("No such table: %s", table)
	}
	t.reads = append(t.reads, read{table: table, docID: id})
	doc := tab.docs[id]
	if doc == nil {
		return nil, nil
	}
	rows := make([]any, len(doc.revisions))
	for i, r := range doc.revisions {
		meta := map[string]any{"id": id, "version": r.version, "txTime": r.txTime, "txId": r.txID}
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%s", id, r.version, r.txID)))
		row := map[string]any{
			"blockAddress": map[string]any{"strandId": "local", "sequenceNo": r.seq},
			"hash":         sum[:],
			"metadata":     meta,
		}
		if r.data != nil {
			row["data"] = r.data
		}
		rows[i] = row
	}
	return rows, nil
}

func (l *ledger) createTable(t *txn, name string) ([]any, error) {
	l.mu.Lock()
	_, exists := l.tables[name]
	l.mu.Unlock()
	if exists {
		return nil, badRequest("Table with name: %s already exists", name)
	}
	id := newID()
	t.ddl = append(t.ddl, func(l *ledger) error {
		if _, exists := l.tables[name]; exists {
			return badRequest("Table with name: %s already exists", name)
		}
		l.tables[name] = &table{id: id, name: name, docs: map[string]*document{}}
		return nil
	})
	return []any{map[string]any{"tableId": id}}, nil
}

func (l *ledger) createIndex(t *txn, tableName, field string) ([]any, error) {
	l.mu.Lock()
	tab, ok := l.tables[tableName]
	l.mu.Unlock()
	if !ok {
		return nil, badRequest("No such table: %s", tableName)
	}
	t.ddl = append(t.ddl, func(l *ledger) error {
		for _, f := range tab.indexes {
			if f == field {
				return badRequest("Index on %s already exists", field)
			}
		}
		tab.indexes = append(tab.indexes, field)
		return nil
	})
	return []any{map[string]any{"tableId": tab.id}}, nil
}

// catalog is information_schema.user_tables: each table with its indexes.
func (l *ledger) catalog() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rows []any
	for _, tab := range l.tables {
		var indexes []any
		for _, f := range tab.indexes {
			indexes = append(indexes, map[string]any{"indexId": tab.id + "-" + f, "expr": "[" + f + "]", "status": "ONLINE"})
		}
		rows = append(rows, map[string]any{"name": tab.name, "tableId": tab.id, "status": "ACTIVE", "indexes": indexes})
	}
	return rows
}

// equal compares Ion values decoded into Go values: strings, booleans and
// integers directly, anything else by its Ion encoding.
func equal(a, b any) bool {
	a, b = deref(a), deref(b)
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	if x, ok := asInt(a); ok {
		y, ok := asInt(b)
		return ok && x == y
	}
	ab, err1 := ion.MarshalBinary(a)
	bb, err2 := ion.MarshalBinary(b)
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// deref turns the *string Ion decodes strings into into a string.
func deref(v any) any {
	if p, ok := v.(*string); ok {
		if p == nil {
			return nil
		}
		return *p
	}
	return v
}
