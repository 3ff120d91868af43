// Package qldbstore keeps licences in an Amazon QLDB ledger through the
// official driver. Every operation is one transaction with the fewest
// statements it can take, and every statement takes its values as
// parameters: no statement is ever built from input.
package qldbstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/function/schema"
)

// The statements the store runs. A licence's id is its QLDB document id,
// which QLDB looks up without an index and history() is keyed by.
const (
	table         = schema.LicenceTable
	stmtByEmail   = "SELECT docId, l FROM " + table + " AS l BY docId WHERE l.email = ?"
	stmtByID      = "SELECT docId, l FROM " + table + " AS l BY docId WHERE docId = ?"
	stmtInsert    = "INSERT INTO " + table + " ?"
	stmtUpdate    = "UPDATE " + table + " AS l BY docId SET l.telephone = ?, l.postcode = ?, l.penaltyPoints = ?, l.events = ? WHERE docId = ?"
	stmtDelete    = "DELETE FROM " + table + " AS l BY docId WHERE docId = ?"
	stmtHistory   = "SELECT * FROM history(" + table + ") AS h WHERE h.metadata.id = ?"
	stmtCatalog   = "SELECT * FROM information_schema.user_tables"
	stmtNewTable  = "CREATE TABLE " + table
	stmtNewIndex  = "CREATE INDEX ON " + table + " (%s)"
	retryAfterOCC = time.Second
)

// Store is a licence.Store on a QLDB ledger.
type Store struct {
	driver *qldbdriver.QLDBDriver
	now    func() time.Time
}

// New returns a Store that runs its transactions through driver.
func New(driver *qldbdriver.QLDBDriver) *Store {
	return &Store{driver: driver, now: func() time.Time { return time.Now().UTC() }}
}

var _ licence.Store = (*Store)(nil)

// document is a licence as the ledger keeps it: everything but the id,
// which is the document's own.
type document struct {
	FirstName      string  `ion:"firstName"`
	LastName       string  `ion:"lastName"`
	Email          string  `ion:"email"`
	Telephone      string  `ion:"telephone"`
	Postcode       string  `ion:"postcode"`
	PenaltyPoints  int     `ion:"penaltyPoints"`
	Events         []event `ion:"events"`
	IdempotencyKey string  `ion:"idempotencyKey,omitempty"`
}

type event struct {
	Kind        string    `ion:"kind"`
	Description string    `ion:"description,omitempty"`
	Points      int       `ion:"points,omitempty"`
	At          time.Time `ion:"at"`
}

// row is a result of stmtByEmail or stmtByID.
type row struct {
	DocID string   `ion:"docId"`
	Doc   document `ion:"l"`
}

func toDocument(l licence.Licence, key string) document {
	d := document{
		FirstName: l.FirstName, LastName: l.LastName, Email: l.Email,
		Telephone: l.Telephone, Postcode: l.Postcode, PenaltyPoints: l.PenaltyPoints,
		IdempotencyKey: key,
	}
	for _, e := range l.Events {
		d.Events = append(d.Events, event{e.Kind, e.Description, e.Points, e.At.UTC()})
	}
	return d
}

func (d document) licence(id string) licence.Licence {
	l := licence.Licence{
		ID: id, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email,
		Telephone: d.Telephone, Postcode: d.Postcode, PenaltyPoints: d.PenaltyPoints,
		Events: []licence.Event{},
	}
	for _, e := range d.Events {
		l.Events = append(l.Events, licence.Event{Kind: e.Kind, Description: e.Description, Points: e.Points, At: e.At.UTC()})
	}
	return l
}

// sameApplication reports whether d was created from the same application
// as other: what an idempotent retry must repeat.
func (d document) sameApplication(other document) bool {
	return d.FirstName == other.FirstName && d.LastName == other.LastName && d.Email == other.Email &&
		d.Telephone == other.Telephone && d.Postcode == other.Postcode
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

// Create implements licence.Store: one select by email and one insert.
func (s *Store) Create(ctx context.Context, l licence.Licence, key string) (licence.Licence, bool, error) {
	doc := toDocument(l, key)
	type result struct {
		l        licence.Licence
		replayed bool
	}
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		var existing row
		found, err := one(txn, &existing, stmtByEmail, doc.Email)
		if err != nil {
			return nil, err
		}
		if found {
			switch {
			case key == "" || existing.Doc.IdempotencyKey != key:
				return nil, licence.ErrEmailTaken
			case !existing.Doc.sameApplication(doc):
				return nil, licence.ErrKeyReused
			}
			return result{existing.Doc.licence(existing.DocID), true}, nil
		}
		var inserted struct {
			DocumentID string `ion:"documentId"`
		}
		if found, err := one(txn, &inserted, stmtInsert, doc); err != nil || !found {
			return nil, errors.Join(errors.New("insert returned no document id"), err)
		}
		return result{doc.licence(inserted.DocumentID), false}, nil
	})
	if err != nil {
		return licence.Licence{}, false, err
	}
	r := out.(result)
	return r.l, r.replayed, nil
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
		d := toDocument(l, r.Doc.IdempotencyKey)
		if _, err := txn.Execute(stmtUpdate, d.Telephone, d.Postcode, d.PenaltyPoints, d.Events, id); err != nil {
			return nil, err
		}
		return l, nil
	})
	if err != nil {
		return licence.Licence{}, err
	}
	return out.(licence.Licence), nil
}

// Delete implements licence.Store: one delete by document id.
func (s *Store) Delete(ctx context.Context, id string) error {
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
		return nil, nil
	})
	return err
}

// revisionRow is a row of history().
type revisionRow struct {
	Data     *document `ion:"data"`
	Metadata struct {
		ID      string    `ion:"id"`
		Version int       `ion:"version"`
		TxTime  time.Time `ion:"txTime"`
		TxID    string    `ion:"txId"`
	} `ion:"metadata"`
}

// History implements licence.Store: one read of history().
func (s *Store) History(ctx context.Context, id string) ([]licence.Revision, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		r, err := txn.Execute(stmtHistory, id)
		if err != nil {
			return nil, err
		}
		revs := []licence.Revision{}
		for r.Next(txn) {
			var rr revisionRow
			if err := ion.Unmarshal(r.GetCurrentData(), &rr); err != nil {
				return nil, fmt.Errorf("decode revision: %w", err)
			}
			rev := licence.Revision{Version: rr.Metadata.Version, TransactionID: rr.Metadata.TxID, TransactionAt: rr.Metadata.TxTime.UTC()}
			if rr.Data != nil {
				l := rr.Data.licence(id)
				rev.Licence = &l
			}
			revs = append(revs, rev)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if len(revs) == 0 {
			return nil, licence.ErrNotFound
		}
		return revs, nil
	})
	if err != nil {
		return nil, err
	}
	return out.([]licence.Revision), nil
}
