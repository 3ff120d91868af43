package licence

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps licences. Each call is one transaction: it happens whole or
// not at all.
//
// A store that has sent a transaction's commit waits for its answer up to
// CommitWait past ctx's end, so that the request's deadline never turns a
// change that took effect into an error the client would retry: an
// UnavailableError means the change did not take effect, unless the
// connection itself failed while the commit was in flight.
type Store interface {
	// Create stores l unless its email is taken (ErrEmailTaken). With an
	// idempotency key, a retry of the same request (the same key and
	// request hash) returns the licence the first one created (and
	// replayed true) and creates nothing; the key with another request is
	// ErrKeyReused. A key is remembered while the licence it made exists.
	Create(ctx context.Context, l Licence, key IdempotencyKey) (stored Licence, replayed bool, err error)
	// Get returns the licence with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Licence, error)
	// Update reads the licence with id, applies change (which sets the
	// licence's LastEvent) and writes it back in one transaction, so
	// concurrent changes never lose one another.
	Update(ctx context.Context, id string, change func(*Licence)) (Licence, error)
	// Delete removes the licence with id, recording event (a Deletion), or
	// returns ErrNotFound.
	Delete(ctx context.Context, id string, event Event) error
	// History returns the licence's revisions from version from on, oldest
	// first, at most limit of them, and whether more follow; ErrNotFound if
	// it never existed.
	History(ctx context.Context, id string, from, limit int) (HistoryPage, error)
}

// Eraser erases the personal data of deleted licences from their history.
// It is a capability of its own, apart from Store: on AWS it runs as its
// own function, role and database user.
type Eraser interface {
	// Erase removes the personal data of every revision of the deleted
	// licence with id, recording e; ErrStillLive if the licence exists,
	// ErrNotFound if it never did. Erasing again is not an error: it
	// carries on where an earlier erasure stopped, and keeps the first
	// erasure's time and actor.
	Erase(ctx context.Context, id string, e Erasure) (ErasureResult, error)
}

// ErasureResult says how far an erasure has got.
type ErasureResult struct {
	// Erasure is the recorded erasure: the first one's time and actor.
	Erasure Erasure `json:"erasure"`
	// Revisions is how many revisions have lost their personal data, or
	// will once the ledger completes Pending.
	Revisions int `json:"revisions"`
	// Pending is how many revisions the ledger still holds data for while
	// it completes their redaction (QLDB redacts asynchronously); call
	// Erase again to carry on. History shows none of it meanwhile.
	Pending int `json:"pending"`
}

// CommitWait is how long past the end of its context a store waits for the
// answer to a commit it has sent. Callers that must answer before a hard
// deadline (Lambda's) stop the store's context at least this long before
// it.
const CommitWait = time.Second

// IdempotencyKey is a client's key for one request and the hash of that
// request (Application.Hash): the key identifies that request and no other.
type IdempotencyKey struct {
	Key         string
	RequestHash string
}

// HistoryPage is some of a licence's revisions.
type HistoryPage struct {
	Revisions []Revision
	// More says revisions follow the last one.
	More bool
}

// History paging limits.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 100
	// MaxVersion is the highest version a revision can have: versions
	// count from 0, and the stores keep them as 32-bit integers.
	MaxVersion = 1<<31 - 1
)

// Revision is one committed version of a licence: the state it left, the
// event that made it, who made it, and the ledger's proof of it.
type Revision struct {
	Version       int       `json:"version"`
	TransactionID string    `json:"transactionId"`
	TransactionAt time.Time `json:"transactionTime"`
	// Hash is the ledger's hash of the revision, base64: QLDB's revision
	// hash, or the PostgreSQL chain's link. Erasure keeps it.
	Hash string `json:"hash"`
	// Actor is who made the change (Event.Actor); nil once erased.
	Actor *Actor `json:"actor"`
	// Event is the change that made this revision; nil once erased.
	Event *Event `json:"event"`
	// Licence is the licence as this revision left it, without its
	// LastEvent (that is Event): nil when the revision deleted it, or once
	// erased.
	Licence *Licence `json:"licence"`
	// Erased says the revision's personal data is gone, when, and by whom.
	Erased *Erasure `json:"erased,omitempty"`
}

// Erasure is the erasure of a deleted licence's personal data: when, and
// who asked.
type Erasure struct {
	At    time.Time `json:"at"`
	Actor Actor     `json:"actor"`
}

// Errors a Store returns.
var (
	ErrNotFound   = errors.New("licence not found")
	ErrEmailTaken = errors.New("email already holds a licence")
	// ErrKeyReused: the idempotency key was first used for another request.
	ErrKeyReused = errors.New("idempotency key already used for a different request")
	// ErrStillLive: the licence exists, so it cannot be erased.
	ErrStillLive = errors.New("the licence still exists: delete it before erasing it")
)

// UnavailableError reports that the ledger could not serve the request now,
// after retrying; the client may try again after RetryAfter.
type UnavailableError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("ledger unavailable (retry after %s): %v", e.RetryAfter, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }
