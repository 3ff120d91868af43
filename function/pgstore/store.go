// Package pgstore keeps licences in PostgreSQL (Aurora PostgreSQL on AWS)
// with the ledger's guarantees: every change to a licence leaves a revision
// in an append-only history that the application cannot alter, each
// revision hash-chained to the one before, and Verify walks the chains.
// Every operation is one transaction of at most two statements.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/licence"
)

// Store is a licence.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ licence.Store = (*Store)(nil)

// New returns a Store on pool, which must connect as the application user.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// document is a licence as the table keeps it: everything but the id.
type document struct {
	FirstName     string          `json:"firstName"`
	LastName      string          `json:"lastName"`
	Email         string          `json:"email"`
	Telephone     string          `json:"telephone"`
	Postcode      string          `json:"postcode"`
	PenaltyPoints int             `json:"penaltyPoints"`
	Events        []licence.Event `json:"events"`
}

func toDocument(l licence.Licence) document {
	return document{l.FirstName, l.LastName, l.Email, l.Telephone, l.Postcode, l.PenaltyPoints, l.Events}
}

func (d document) licence(id string) licence.Licence {
	events := d.Events
	if events == nil {
		events = []licence.Event{}
	}
	return licence.Licence{ID: id, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email,
		Telephone: d.Telephone, Postcode: d.Postcode, PenaltyPoints: d.PenaltyPoints, Events: events}
}

func (d document) sameApplication(o document) bool {
	return d.FirstName == o.FirstName && d.LastName == o.LastName && d.Email == o.Email &&
		d.Telephone == o.Telephone && d.Postcode == o.Postcode
}

// inTx runs fn in one transaction, and reports a serialization failure,
// deadlock or lost connection as licence.UnavailableError.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err == nil {
		return nil
	}
	for _, domain := range []error{licence.ErrNotFound, licence.ErrEmailTaken, licence.ErrKeyReused} {
		if errors.Is(err, domain) {
			return err
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "55P03", "57P01", "53300":
			return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
		}
	}
	if pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) {
		return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
	}
	return fmt.Errorf("database: %w", err)
}

// Create implements licence.Store: an insert that yields on a taken email,
// then, only then, a read of the licence that holds it.
func (s *Store) Create(ctx context.Context, l licence.Licence, key string) (licence.Licence, bool, error) {
	doc := toDocument(l)
	body, err := json.Marshal(doc)
	if err != nil {
		return licence.Licence{}, false, err
	}
	var out licence.Licence
	var replayed bool
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		id := licence.NewID()
		var stored string
		err := tx.QueryRow(ctx,
			`INSERT INTO licences (id, email, idempotency_key, doc) VALUES ($1, $2, NULLIF($3, ''), $4)
			 ON CONFLICT (email) DO NOTHING RETURNING id`, id, doc.Email, key, body).Scan(&stored)
		if err == nil {
			out = doc.licence(stored)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var existingID string
		var existingKey *string
		var existing document
		if err := tx.QueryRow(ctx, `SELECT id, idempotency_key, doc FROM licences WHERE email = $1`, doc.Email).
			Scan(&existingID, &existingKey, &existing); err != nil {
			return err
		}
		switch {
		case key == "" || existingKey == nil || *existingKey != key:
			return licence.ErrEmailTaken
		case !existing.sameApplication(doc):
			return licence.ErrKeyReused
		}
		out, replayed = existing.licence(existingID), true
		return nil
	})
	return out, replayed, err
}

// Get implements licence.Store.
func (s *Store) Get(ctx context.Context, id string) (licence.Licence, error) {
	var doc document
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT doc FROM licences WHERE id = $1`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return licence.ErrNotFound
		}
		return err
	})
	return doc.licence(id), err
}

// Update implements licence.Store: the row is locked while the change is
// applied, so concurrent changes queue instead of losing one another.
func (s *Store) Update(ctx context.Context, id string, change func(*licence.Licence)) (licence.Licence, error) {
	var out licence.Licence
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var doc document
		err := tx.QueryRow(ctx, `SELECT doc FROM licences WHERE id = $1 FOR UPDATE`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return licence.ErrNotFound
		}
		if err != nil {
			return err
		}
		out = doc.licence(id)
		change(&out)
		body, err := json.Marshal(toDocument(out))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE licences SET doc = $2 WHERE id = $1`, id, body)
		return err
	})
	return out, err
}

// Delete implements licence.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM licences WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			return licence.ErrNotFound
		}
		return err
	})
}

// History implements licence.Store: the licence's revisions, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]licence.Revision, error) {
	var revs []licence.Revision
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx,
			`SELECT version, tx_id, tx_time, doc FROM licence_history WHERE licence_id = $1 ORDER BY version`, id)
		if err != nil {
			return err
		}
		revs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (licence.Revision, error) {
			var rev licence.Revision
			var txID int64
			var doc *document
			if err := r.Scan(&rev.Version, &txID, &rev.TransactionAt, &doc); err != nil {
				return rev, err
			}
			rev.TransactionID = fmt.Sprint(txID)
			rev.TransactionAt = rev.TransactionAt.UTC()
			if doc != nil {
				l := doc.licence(id)
				rev.Licence = &l
			}
			return rev, nil
		})
		if err == nil && len(revs) == 0 {
			return licence.ErrNotFound
		}
		return err
	})
	return revs, err
}
