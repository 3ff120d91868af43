// Package pgstore keeps licences in PostgreSQL (Aurora PostgreSQL on AWS)
// with the ledger's guarantees: every change to a licence leaves a revision
// in an append-only history that the application cannot alter, each
// revision hash-chained to the one before and all of them chained in
// commit order into the ledger's digest, and Verify checks it all. Every
// operation is one transaction of at most two statements.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/privateledger/licences/function/licence"
)

// Store is a licence.Store and licence.Eraser on PostgreSQL. Which of them
// works depends on the user its pool connects as: the API's user may use
// the first, the eraser's only the second (Migrate grants them).
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ licence.Store  = (*Store)(nil)
	_ licence.Eraser = (*Store)(nil)
)

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// document is a licence as the licences table keeps it: everything but the
// id. Its size does not depend on the licence's history: that is the
// history table's.
type document struct {
	FirstName     string         `json:"firstName"`
	LastName      string         `json:"lastName"`
	Email         string         `json:"email"`
	Telephone     string         `json:"telephone"`
	Postcode      string         `json:"postcode"`
	PenaltyPoints int            `json:"penaltyPoints"`
	LastEvent     *licence.Event `json:"lastEvent,omitempty"`
	// Events is where schema version 1 kept a licence's story; read only,
	// for licences written then.
	Events []licence.Event `json:"events,omitempty"`
}

func toDocument(l licence.Licence) document {
	return document{l.FirstName, l.LastName, l.Email, l.Telephone, l.Postcode, l.PenaltyPoints, l.LastEvent, nil}
}

func (d document) licence(id string) licence.Licence {
	last := d.LastEvent
	if last == nil && len(d.Events) > 0 {
		last = &d.Events[len(d.Events)-1]
	}
	return licence.Licence{ID: id, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email,
		Telephone: d.Telephone, Postcode: d.Postcode, PenaltyPoints: d.PenaltyPoints, LastEvent: last}
}

// inTx runs fn in one transaction and classifies what fails.
//
// The COMMIT, once sent, is waited for up to licence.CommitWait past ctx's
// end: were the request's deadline to cancel it, the client would hear 503
// about a change the database may have committed, and send it again. If
// ctx ends before fn returns, nothing is committed.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := s.commit(ctx, fn); err != nil {
		return classify(ctx, err)
	}
	return nil
}

func (s *Store) commit(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // the error that matters is fn's
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	wait, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(licence.CommitWait, cancel) })
	defer stop()
	return tx.Commit(wait)
}

// retryAfterResume is what a client is told to wait while the database is
// unreachable: about as long as Aurora Serverless takes to resume from 0
// ACU or to fail over.
const retryAfterResume = 15 * time.Second

// classify keeps the domain's errors and reports as
// licence.UnavailableError what may succeed if sent again: a serialization
// failure, deadlock or lock timeout, a database starting, resuming,
// shutting down or out of connections, a connection that failed or was
// never made, and the request's deadline.
func classify(ctx context.Context, err error) error {
	for _, domain := range []error{licence.ErrNotFound, licence.ErrEmailTaken, licence.ErrKeyReused, licence.ErrStillLive} {
		if errors.Is(err, domain) {
			return err
		}
	}
	var (
		pgErr   *pgconn.PgError
		connErr *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "40001", "40P01", "55P03", "57014":
			return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
		case "57P01", "57P02", "57P03", "53300", "53400":
			return &licence.UnavailableError{RetryAfter: retryAfterResume, Err: err}
		}
		if pgErr.Code[:2] == "08" { // connection exception
			return &licence.UnavailableError{RetryAfter: retryAfterResume, Err: err}
		}
		return fmt.Errorf("database: %w", err)
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.SafeToRetry(err):
		return &licence.UnavailableError{RetryAfter: retryAfterResume, Err: err}
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
	}
	return fmt.Errorf("database: %w", err)
}

// createAttempts bounds Create's retries when the row it collided with is
// gone by the time it looks (a delete raced it).
const createAttempts = 3

// Create implements licence.Store: an insert that yields on a taken email
// or key, then, only then, a read of the licence that holds them.
func (s *Store) Create(ctx context.Context, l licence.Licence, key licence.IdempotencyKey) (licence.Licence, bool, error) {
	doc := toDocument(l)
	body, err := json.Marshal(doc)
	if err != nil {
		return licence.Licence{}, false, err
	}
	var k, hash *string
	if key.Key != "" {
		k, hash = &key.Key, &key.RequestHash
	}
	var out licence.Licence
	var replayed bool
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		for range createAttempts {
			id := licence.NewID()
			err := tx.QueryRow(ctx,
				`INSERT INTO licences (id, email, idempotency_key, request_hash, doc) VALUES ($1, $2, $3, $4, $5)
				 ON CONFLICT DO NOTHING RETURNING id`, id, doc.Email, k, hash, body).Scan(&id)
			if err == nil {
				out = doc.licence(id)
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			// Each statement sees what committed before it: the licence
			// that holds the email or key, unless it is gone meanwhile.
			rows, err := tx.Query(ctx,
				`SELECT id, email, idempotency_key, request_hash, doc FROM licences WHERE email = $1 OR idempotency_key = $2`, doc.Email, k)
			if err != nil {
				return err
			}
			holders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[holder])
			if err != nil {
				return err
			}
			if err := classifyConflict(holders, key, doc.Email, &out, &replayed); err != nil || replayed {
				return err
			}
		}
		return &licence.UnavailableError{RetryAfter: time.Second, Err: errors.New("the licence this create collided with keeps changing")}
	})
	return out, replayed, err
}

// holder is a licence that holds an email or an idempotency key.
type holder struct {
	ID          string
	Email       string
	Key         *string
	RequestHash *string
	Doc         document
}

// classifyConflict decides a create that collided with holders: the same
// request replayed, its key reused, or its email taken. With no holder
// left (deleted meanwhile) it returns nil and no replay: try again.
func classifyConflict(holders []holder, key licence.IdempotencyKey, email string, out *licence.Licence, replayed *bool) error {
	for _, h := range holders {
		if key.Key != "" && h.Key != nil && *h.Key == key.Key {
			if h.RequestHash == nil || *h.RequestHash != key.RequestHash {
				return licence.ErrKeyReused
			}
			*out, *replayed = h.Doc.licence(h.ID), true
			return nil
		}
	}
	for _, h := range holders {
		if h.Email == email {
			return licence.ErrEmailTaken
		}
	}
	return nil
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

// Delete implements licence.Store: the deletion event goes to the history
// trigger through a setting local to the transaction, then the row goes.
func (s *Store) Delete(ctx context.Context, id string, e licence.Event) error {
	ev, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('licences.deletion_event', $1, true)`, string(ev)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM licences WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			return licence.ErrNotFound
		}
		return err
	})
}
