package localqldb

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/privateledger/licences/function/docid"
)

// QLDB's fixed quotas, which the local ledger holds every transaction to
// (https://docs.aws.amazon.com/qldb/latest/developerguide/limits.html).
const (
	maxActiveTables        = 20
	maxTables              = 40 // active and inactive
	maxIndexesPerTable     = 5
	maxDocumentsPerTx      = 40
	maxRedactionsPerTx     = 1
	maxDocumentBytes       = 128 << 10 // in Ion binary
	maxParameterBytes      = 128 << 10 // in Ion binary
	maxParameterTextBytes  = 1 << 20   // in Ion text
	maxStatementCharacters = 100000
	maxTransactionBytes    = 4 << 20
	transactionTimeout     = 30 * time.Second
	maxSessions            = 3000
)

// ledger is an in-memory ledger: tables of documents, each keeping every
// revision, changed only by transactions that pass QLDB's optimistic
// concurrency check at commit.
type ledger struct {
	name string
	now  func() time.Time
	// redactionDelay is how long a redaction takes to complete after its
	// transaction commits: QLDB redacts asynchronously.
	redactionDelay time.Duration

	mu      sync.Mutex
	tables  map[string]*table // by name
	byID    map[string]*table // by table id
	seq     int64             // sequence number of the last commit
	commits []commitRecord    // recent commits, for the concurrency check
	pending []redaction       // redactions not yet complete
}

type table struct {
	id       string
	name     string
	indexes  []string // indexed top-level fields
	indexIDs []string // each index's system-assigned id, as indexes
	docs     map[string]*document
	order    []string // document ids, in the order inserted
}

type document struct {
	id        string
	revisions []*revision
}

// current is the document's latest data, or nil once deleted.
func (d *document) current() *value {
	return d.revisions[len(d.revisions)-1].data
}

type revision struct {
	version int
	txID    string
	txTime  time.Time
	seq     int64
	data    *value // nil: the revision deleted the document, or was redacted
	// dataHash is the Ion hash of the data; once redacted it is all that
	// remains of it.
	dataHash []byte
	redacted bool
	// hash is the revision's hash, once a history query has computed it.
	hash []byte
}

// redaction is a REDACT_REVISION request waiting to complete.
type redaction struct {
	rev *revision
	at  time.Time
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
	before *value // nil for an insert
	after  *value // nil for a delete
}

// read is what a transaction's result depended on: a document by id, the
// documents an indexed equality found, or the whole table (a scan).
type read struct {
	table string
	docID string
	field string
	value *value
	scan  bool
}

// conflicts reports whether a write touches what r read, as QLDB decides
// it: a scan conflicts with any write to the table, an indexed lookup with
// writes to documents the value matches before or after, a read by id with
// writes to that document.
func (r read) conflicts(w write) bool {
	switch {
	case r.table != w.table:
		return false
	case r.scan:
		return true
	case r.docID != "":
		return r.docID == w.docID
	}
	for _, data := range []*value{w.before, w.after} {
		if v, ok := data.get(r.field); ok {
			if t, _ := compare(v, r.value, "="); t == yes {
				return true
			}
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
	id         string
	started    time.Time
	startSeq   int64
	digest     *digest
	statements int
	reads      []read
	writes     []write
	ddl        []func(*ledger) error
	hasDDL     bool
	redactions []*revision
}

func newLedger(name string, now func() time.Time, redactionDelay time.Duration) *ledger {
	return &ledger{name: name, now: now, redactionDelay: redactionDelay, tables: map[string]*table{}, byID: map[string]*table{}}
}

func (l *ledger) begin() (*txn, error) {
	id := docid.New()
	d, err := newDigest(id)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return &txn{id: id, started: l.now(), startSeq: l.seq, digest: d}, nil
}

// expired reports whether the transaction has outlived QLDB's 30 seconds.
func (l *ledger) expired(t *txn) error {
	if l.now().Sub(t.started) > transactionTimeout {
		return &apiError{Type: "InvalidSessionException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Transaction %s has expired", t.id)}
	}
	return nil
}

// errOCC is returned by commit when another transaction changed what this
// one read.
type errOCC struct{ txID string }

func (e errOCC) Error() string {
	return fmt.Sprintf("Transaction %s has not committed because of an OCC conflict", e.txID)
}

// commit applies the transaction's writes unless a transaction committed
// since it began wrote what it read, or the transaction breaks a limit.
func (l *ledger) commit(t *txn) error {
	if err := l.expired(t); err != nil {
		return err
	}
	if err := t.withinLimits(); err != nil {
		return err
	}
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
				if r.conflicts(w) {
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
	if len(t.writes) == 0 && len(t.redactions) == 0 {
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
			tab.order = append(tab.order, w.docID)
		}
		rev := &revision{version: len(doc.revisions), txID: t.id, txTime: at, seq: l.seq, data: w.after}
		if w.after != nil {
			h, err := w.after.hash()
			if err != nil {
				return err
			}
			rev.dataHash = h
		}
		doc.revisions = append(doc.revisions, rev)
	}
	for _, rev := range t.redactions {
		l.pending = append(l.pending, redaction{rev, at.Add(l.redactionDelay)})
	}
	l.completeRedactions()
	l.commits = append(l.commits, commitRecord{seq: l.seq, writes: t.writes})
	if len(l.commits) > maxCommitRecords {
		l.commits = l.commits[len(l.commits)-maxCommitRecords:]
	}
	return nil
}

// completeRedactions carries out the redactions whose time has come: the
// revision's data goes, its hash stays. l.mu is held.
func (l *ledger) completeRedactions() {
	now := l.now()
	l.pending = slices.DeleteFunc(l.pending, func(r redaction) bool {
		if now.Before(r.at) {
			return false
		}
		r.rev.data, r.rev.redacted = nil, true
		return true
	})
}

// withinLimits checks the transaction against QLDB's per-transaction
// quotas before it commits.
func (t *txn) withinLimits() error {
	docs := map[string]bool{}
	size := 0
	for _, w := range t.writes {
		docs[w.table+"/"+w.docID] = true
		if w.after != nil {
			b, err := w.after.binary()
			if err != nil {
				return err
			}
			size += len(b)
		}
	}
	switch {
	case len(docs) > maxDocumentsPerTx:
		return badRequest("Transaction %s modifies %d documents: at most %d documents may be modified in a transaction", t.id, len(docs), maxDocumentsPerTx)
	case size > maxTransactionBytes:
		return badRequest("Transaction %s writes %d bytes: a transaction may be at most 4 MB", t.id, size)
	}
	return nil
}

// checkDocument refuses a document over QLDB's size limit.
func checkDocument(v *value) error {
	b, err := v.binary()
	if err != nil {
		return err
	}
	if len(b) > maxDocumentBytes {
		return badRequest("Document is %d bytes in Ion binary: a document may be at most 128 KB", len(b))
	}
	return nil
}

// viewDoc is a document as a transaction sees it.
type viewDoc struct {
	id   string
	data *value
}

// view returns the documents of a table as the transaction sees them:
// committed documents with its own writes laid over them, in insertion
// order. l.mu is held.
func (l *ledger) view(t *txn, tab *table) []viewDoc {
	var out []viewDoc
	seen := map[string]int{}
	for _, id := range tab.order {
		if cur := tab.docs[id].current(); cur != nil {
			seen[id] = len(out)
			out = append(out, viewDoc{id, cur})
		}
	}
	for _, w := range t.writes {
		if w.table != tab.name {
			continue
		}
		i, ok := seen[w.docID]
		switch {
		case ok && w.after == nil:
			out[i].data = nil
		case ok:
			out[i].data = w.after
		case w.after != nil:
			seen[w.docID] = len(out)
			out = append(out, viewDoc{w.docID, w.after})
		}
	}
	return slices.DeleteFunc(out, func(d viewDoc) bool { return d.data == nil })
}

// table returns a table by name.
func (l *ledger) table(name string) (*table, error) {
	tab, ok := l.tables[name]
	if !ok {
		return nil, badRequest("No such table: %s", name)
	}
	return tab, nil
}

func (l *ledger) activeTables() int { return len(l.tables) }

// catalog is information_schema.user_tables, one row per table as QLDB
// documents it (https://docs.aws.amazon.com/qldb/latest/developerguide/working.catalog.html):
// tableId, name, indexes (each with its indexId, expr "[field]" and
// status) and status. Every table is ACTIVE, as the local ledger has no
// DROP TABLE, and every index ONLINE: the local ledger builds an index when
// its transaction commits, where QLDB shows one on a table with documents
// as BUILDING for a while.
func (l *ledger) catalog() []*value {
	names := make([]string, 0, len(l.tables))
	for n := range l.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	var rows []*value
	for _, n := range names {
		tab := l.tables[n]
		indexes := ionList()
		for i, f := range tab.indexes {
			indexes.items = append(indexes.items, ionStruct(
				field{"indexId", ionString(tab.indexIDs[i])}, field{"expr", ionString("[" + f + "]")}, field{"status", ionString("ONLINE")}))
		}
		rows = append(rows, ionStruct(field{"tableId", ionString(tab.id)}, field{"name", ionString(tab.name)},
			field{"indexes", indexes}, field{"status", ionString("ACTIVE")}))
	}
	return rows
}

// newID returns a random id in the shape QLDB uses for documents,
// transactions and sessions.
func newID() string { return docid.New() }
