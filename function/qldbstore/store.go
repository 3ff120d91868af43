// Package qldbstore keeps licences in an Amazon QLDB ledger through the
// official driver. Every operation is one transaction with the fewest
// statements it can take, and every statement takes its values as
// parameters: no statement is ever built from input.
package qldbstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/schema"
)

// The statements the store runs. A licence's id is its QLDB document id,
// which QLDB looks up without an index and history() is keyed by; every
// other lookup is an equality on an indexed field (schema.Tables).
const (
	licences       = schema.LicenceTable
	deletions      = schema.DeletionTable
	stmtByEmail    = "SELECT docId, l FROM " + licences + " AS l BY docId WHERE l.email = ?"
	stmtByKey      = "SELECT docId, l FROM " + licences + " AS l BY docId WHERE l.idempotencyKey = ?"
	stmtByID       = "SELECT docId, l FROM " + licences + " AS l BY docId WHERE docId = ?"
	stmtInsert     = "INSERT INTO " + licences + " ?"
	stmtUpdate     = "UPDATE " + licences + " AS l BY docId SET l.telephone = ?, l.postcode = ?, l.penaltyPoints = ?, l.lastEvent = ? WHERE docId = ?"
	stmtDelete     = "DELETE FROM " + licences + " AS l BY docId WHERE docId = ?"
	stmtRecordDel  = "INSERT INTO " + deletions + " ?"
	stmtDeletion   = "SELECT * FROM " + deletions + " AS d WHERE d.licenceId = ?"
	stmtRecordEras = "UPDATE " + deletions + " AS d SET d.erasure = ? WHERE d.licenceId = ?"
	stmtHistory    = "SELECT * FROM history(" + licences + ") AS h WHERE h.metadata.id = ? AND h.metadata.version >= ? AND h.metadata.version <= ?"
	stmtRedact     = "EXEC REDACT_REVISION ?, ?, ?"
	stmtTableID    = "SELECT t.tableId FROM information_schema.user_tables AS t WHERE t.name = ?"
	stmtCatalog    = "SELECT * FROM information_schema.user_tables"
	stmtNewTable   = "CREATE TABLE %s"
	stmtNewIndex   = "CREATE INDEX ON %s (%s)"
)

// Store is a licence.Store and licence.Eraser on a QLDB ledger.
type Store struct {
	driver *qldbdriver.QLDBDriver
	// slots holds one token per transaction in flight: the driver refuses
	// a transaction past its limit at once, the store makes it wait for a
	// slot until the request's deadline instead.
	slots chan struct{}

	mu      sync.Mutex
	tableID string // the licence table's id, once looked up
}

// New returns a Store that runs at most concurrency transactions at a time
// (the driver's MaxConcurrentTransactions) through driver.
func New(driver *qldbdriver.QLDBDriver, concurrency int) *Store {
	return &Store{driver: driver, slots: make(chan struct{}, concurrency)}
}

var (
	_ licence.Store  = (*Store)(nil)
	_ licence.Eraser = (*Store)(nil)
)

// document is a licence as the ledger keeps it: everything but the id,
// which is the document's own. Its size does not depend on the licence's
// history: that is the ledger's history.
type document struct {
	FirstName      string `ion:"firstName"`
	LastName       string `ion:"lastName"`
	Email          string `ion:"email"`
	Telephone      string `ion:"telephone"`
	Postcode       string `ion:"postcode"`
	PenaltyPoints  int    `ion:"penaltyPoints"`
	LastEvent      event  `ion:"lastEvent"`
	IdempotencyKey string `ion:"idempotencyKey,omitempty"`
	RequestHash    string `ion:"requestHash,omitempty"`
}

type event struct {
	Kind   string    `ion:"kind"`
	Reason string    `ion:"reason,omitempty"`
	Points int       `ion:"points,omitempty"`
	At     time.Time `ion:"at"`
	Actor  actor     `ion:"actor"`
}

type actor struct {
	Principal string `ion:"principal"`
	Role      string `ion:"role,omitempty"`
}

func toEvent(e licence.Event) event {
	return event{e.Kind, e.Reason, e.Points, e.At.UTC(), actor(e.Actor)}
}

func (e event) event() licence.Event {
	return licence.Event{Kind: e.Kind, Reason: e.Reason, Points: e.Points, At: e.At.UTC(), Actor: licence.Actor(e.Actor)}
}

func toDocument(l licence.Licence, key licence.IdempotencyKey) document {
	d := document{
		FirstName: l.FirstName, LastName: l.LastName, Email: l.Email,
		Telephone: l.Telephone, Postcode: l.Postcode, PenaltyPoints: l.PenaltyPoints,
		IdempotencyKey: key.Key, RequestHash: key.RequestHash,
	}
	if l.LastEvent != nil {
		d.LastEvent = toEvent(*l.LastEvent)
	}
	return d
}

// licence is the licence d keeps, with its last event.
func (d document) licence(id string) licence.Licence {
	e := d.LastEvent.event()
	return licence.Licence{
		ID: id, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email,
		Telephone: d.Telephone, Postcode: d.Postcode, PenaltyPoints: d.PenaltyPoints,
		LastEvent: &e,
	}
}

// row is a result of stmtByEmail, stmtByKey or stmtByID.
type row struct {
	DocID string   `ion:"docId"`
	Doc   document `ion:"l"`
}

// one runs statement and decodes its single row, if any, into out.
func one(txn qldbdriver.Transaction, out any, statement string, params ...any) (bool, error) {
	r, err := txn.Execute(statement, params...)
	if err != nil {
		return false, err
	}
	if !r.Next(txn) {
		return false, r.Err()
	}
	if err := ion.Unmarshal(r.GetCurrentData(), out); err != nil {
		return false, fmt.Errorf("decode row: %w", err)
	}
	return true, nil
}

// Create implements licence.Store: with a key, a select by key; then a
// select by email and an insert.
func (s *Store) Create(ctx context.Context, l licence.Licence, key licence.IdempotencyKey) (licence.Licence, bool, error) {
	doc := toDocument(l, key)
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		var existing row
		if key.Key != "" {
			found, err := one(txn, &existing, stmtByKey, key.Key)
			if err != nil {
				return nil, err
			}
			if found {
				return replayOrReused(existing, key)
			}
		}
		found, err := one(txn, &existing, stmtByEmail, doc.Email)
		if err != nil {
			return nil, err
		}
		if found {
			// A create with the same key may have committed between the
			// two reads (a transaction that ends without committing is
			// never checked for conflicts): the licence holding the email
			// is then that create's, and this one is its replay or reuses
			// its key.
			if key.Key != "" && existing.Doc.IdempotencyKey == key.Key {
				return replayOrReused(existing, key)
			}
			return nil, licence.ErrEmailTaken
		}
		var inserted struct {
			DocumentID string `ion:"documentId"`
		}
		if found, err := one(txn, &inserted, stmtInsert, doc); err != nil || !found {
			return nil, errors.Join(errors.New("insert returned no document id"), err)
		}
		return created{doc.licence(inserted.DocumentID), false}, nil
	})
	if err != nil {
		return licence.Licence{}, false, err
	}
	r := out.(created)
	return r.l, r.replayed, nil
}

// created is what a create made or found.
type created struct {
	l        licence.Licence
	replayed bool
}

// replayOrReused answers a create whose key existing holds: its replay for
// the same request, ErrKeyReused for another.
func replayOrReused(existing row, key licence.IdempotencyKey) (any, error) {
	if existing.Doc.RequestHash != key.RequestHash {
		return nil, licence.ErrKeyReused
	}
	return created{existing.Doc.licence(existing.DocID), true}, nil
}

// byID reads the licence document with id, or fails with ErrNotFound.
func byID(txn qldbdriver.Transaction, id string) (row, error) {
	var r row
	found, err := one(txn, &r, stmtByID, id)
	if err == nil && !found {
		err = licence.ErrNotFound
	}
	return r, err
}

// Get implements licence.Store: one select by document id.
func (s *Store) Get(ctx context.Context, id string) (licence.Licence, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		r, err := byID(txn, id)
		if err != nil {
			return nil, err
		}
		return r.Doc.licence(id), nil
	})
	if err != nil {
		return licence.Licence{}, err
	}
	return out.(licence.Licence), nil
}

// Update implements licence.Store: one select and one update, in a
// transaction QLDB commits only if no other changed the licence meanwhile.
func (s *Store) Update(ctx context.Context, id string, change func(*licence.Licence)) (licence.Licence, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		r, err := byID(txn, id)
		if err != nil {
			return nil, err
		}
		l := r.Doc.licence(id)
		change(&l)
		d := toDocument(l, licence.IdempotencyKey{})
		if _, err := txn.Execute(stmtUpdate, d.Telephone, d.Postcode, d.PenaltyPoints, d.LastEvent, id); err != nil {
			return nil, err
		}
		return l, nil
	})
	if err != nil {
		return licence.Licence{}, err
	}
	return out.(licence.Licence), nil
}

// deletion is a document of the deletion table.
type deletion struct {
	LicenceID string   `ion:"licenceId"`
	Event     event    `ion:"event"`
	Erasure   *erasure `ion:"erasure,omitempty"`
}

// erasure records an erasure and how far it has got: Through is the
// newest version whose redaction the ledger has accepted (-1: none yet).
type erasure struct {
	At      time.Time `ion:"at"`
	Actor   actor     `ion:"actor"`
	Through int       `ion:"through"`
}

func (e erasure) erasure() licence.Erasure {
	return licence.Erasure{At: e.At.UTC(), Actor: licence.Actor(e.Actor)}
}

// Delete implements licence.Store: a delete by document id and the
// insertion of its deletion record, in one transaction.
func (s *Store) Delete(ctx context.Context, id string, e licence.Event) error {
	_, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		var deleted struct {
			DocumentID string `ion:"documentId"`
		}
		found, err := one(txn, &deleted, stmtDelete, id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, licence.ErrNotFound
		}
		_, err = txn.Execute(stmtRecordDel, deletion{LicenceID: id, Event: toEvent(e)})
		return nil, err
	})
	return err
}
