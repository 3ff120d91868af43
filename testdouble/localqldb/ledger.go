package localqldb

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/privateledger/licences/function/docid"
)

// ledger is an in-memory ledger: tables of documents, each keeping every
// revision, changed only by transactions that pass QLDB's optimistic
// concurrency check at commit.
type ledger struct {
	name string
	now  func() time.Time

	mu      sync.Mutex
	tables  map[string]*table
	seq     int64          // sequence number of the last commit
	commits []commitRecord // recent commits, for the concurrency check
}

type table struct {
	id      string
	name    string
	indexes []string
	docs    map[string]*document
}

type document struct {
	id        string
	revisions []revision
}

// current is the document's latest data, or nil once deleted.
func (d *document) current() map[string]any {
	return d.revisions[len(d.revisions)-1].data
}

type revision struct {
	version int
	txID    string
	txTime  time.Time
	seq     int64
	data    map[string]any // nil: the revision deleted the document
}

// commitRecord is what one committed transaction wrote.
type commitRecord struct {
	seq    int64
	writes []write
}

// write is one document change a transaction makes.
type write struct {
	table  string
	docID  string
	before map[string]any // nil for an insert
	after  map[string]any // nil for a delete
}

// read is what a transaction's result depended on: a document by id, or
// every document of a table whose field equals value.
type read struct {
	table string
	docID string
	field string
	value any
}

// matches reports whether a write touches what r read.
func (r read) matches(w write) bool {
	if r.table != w.table {
		return false
	}
	if r.docID != "" {
		return r.docID == w.docID
	}
	for _, data := range []map[string]any{w.before, w.after} {
		if data != nil && equal(data[r.field], r.value) {
			return true
		}
	}
	return false
}

// maxCommitRecords bounds the commits kept for the concurrency check; a
// transaction older than the oldest kept commit fails with an OCC conflict.
const maxCommitRecords = 10000

// txn is an open transaction: what it read, and its writes, held back until
// commit.
type txn struct {
	id       string
	startSeq int64
	digest   *digest
	reads    []read
	writes   []write
	ddl      []func(*ledger) error
}

func newLedger(name string, now func() time.Time) *ledger {
	return &ledger{name: name, now: now, tables: map[string]*table{}}
}

func (l *ledger) begin() (*txn, error) {
	id := newID()
	d, err := newDigest(id)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return &txn{id: id, startSeq: l.seq, digest: d}, nil
}

// errOCC is returned by commit when another transaction changed what this
// one read.
type errOCC struct{ txID string }

func (e errOCC) Error() string {
	return fmt.Sprintf("Transaction %s has not committed because of an OCC conflict", e.txID)
}

// commit applies the transaction's writes unless a transaction committed
// since it began wrote what it read.
func (l *ledger) commit(t *txn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.commits) > 0 && t.startSeq < l.commits[0].seq-1 {
		return errOCC{t.id}
	}
	for _, c := range l.commits {
		if c.seq <= t.startSeq {
			continue
		}
		for _, w := range c.writes {
			for _, r := range t.reads {
				if r.matches(w) {
					return errOCC{t.id}
				}
			}
		}
	}
	for _, f := range t.ddl {
		if err := f(l); err != nil {
			return err
		}
	}
	if len(t.writes) == 0 {
		return nil
	}
	l.seq++
	at := l.now()
	for _, w := range t.writes {
		tab := l.tables[w.table]
		doc := tab.docs[w.docID]
		if doc == nil {
			doc = &document{id: w.docID}
			tab.docs[w.docID] = doc
		}
		doc.revisions = append(doc.revisions, revision{
			version: len(doc.revisions), txID: t.id, txTime: at, seq: l.seq, data: w.after,
		})
	}
	l.commits = append(l.commits, commitRecord{seq: l.seq, writes: t.writes})
	if len(l.commits) > maxCommitRecords {
		l.commits = l.commits[len(l.commits)-maxCommitRecords:]
	}
	return nil
}

// find returns the documents of a table that satisfy p as the transaction
// sees them: committed documents with its own writes laid over them, in a
// stable order. A lookup by id touches one document; a lookup by field
// scans the table, comparing cheaply.
func (l *ledger) find(t *txn, tableName string, p predicate) ([]viewDoc, error) {
	l.mu.Lock()
	tab, ok := l.tables[tableName]
	if !ok {
		l.mu.Unlock()
		return nil, badRequest("No such table: %s", tableName)
	}
	var out []viewDoc
	if p.byID {
		if d := tab.docs[p.value.(string)]; d != nil && d.current() != nil {
			out = append(out, viewDoc{d.id, d.current()})
		}
	} else {
		for id, d := range tab.docs {
			if cur := d.current(); cur != nil && equal(cur[p.field], p.value) {
				out = append(out, viewDoc{id, cur})
			}
		}
	}
	l.mu.Unlock()
	for _, w := range t.writes {
		if w.table != tableName {
			continue
		}
		out = slices.DeleteFunc(out, func(d viewDoc) bool { return d.id == w.docID })
		if w.after != nil && p.holds(w.docID, w.after) {
			out = append(out, viewDoc{w.docID, w.after})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// hasTable reports whether the table exists.
func (l *ledger) hasTable(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.tables[name]
	return ok
}

type viewDoc struct {
	id   string
	data map[string]any
}

// newID returns a random id in the shape QLDB uses for documents and
// transactions.
func newID() string { return docid.New() }
