package licence

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps licences. Each call is one transaction: it happens whole or
// not at all.
type Store interface {
	// Create stores l unless its email is taken (ErrEmailTaken). With an
	// idempotency key, a retry of the same request returns the licence the
	// first one created (and replayed true) and creates nothing.
	Create(ctx context.Context, l Licence, idempotencyKey string) (stored Licence, replayed bool, err error)
	// Get returns the licence with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Licence, error)
	// Update reads the licence with id, applies change and writes it back in
	// one transaction, so concurrent changes never lose one another.
	Update(ctx context.Context, id string, change func(*Licence)) (Licence, error)
	// Delete removes the licence with id, or returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// History returns every revision of the licence with id, oldest first,
	// or ErrNotFound if it never existed.
	History(ctx context.Context, id string) ([]Revision, error)
}

// Revision is one committed version of a licence.
type Revision struct {
	Version       int       `json:"version"`
	TransactionID string    `json:"transactionId"`
	TransactionAt time.Time `json:"transactionTime"`
	// Licence is the document as this revision left it; nil when the
	// revision deleted it.
	Licence *Licence `json:"licence"`
}

// Errors a Store returns.
var (
	ErrNotFound   = errors.New("licence not found")
	ErrEmailTaken = errors.New("email already holds a licence")
	// ErrKeyReused: the idempotency key was first used for another request.
	ErrKeyReused = errors.New("idempotency key already used for a different request")
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
