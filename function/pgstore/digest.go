package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what Verify and TakeDigest read through: a connection, a
// pool or a transaction.
type Querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}

// Digest is the ledger at one position: how many entries it held (Seq),
// revisions and the entries that are not (erasures, the formula's record),
// and the hash chained over all of them in commit order. Kept outside the
// database, it anchors the history: deleting, inserting or rewriting any
// entry up to Seq changes the chain, while erasing a revision's data (its
// hash stays, and the erasure is an entry of its own) does not.
type Digest struct {
	Seq  int64     `json:"seq"`
	Hash []byte    `json:"hash"`
	At   time.Time `json:"at"`
	// Checkpoints are the chain at every CheckpointEvery positions, so a
	// divergence is placed within that many entries.
	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`
	// Horizon is the oldest transaction the digest's snapshot did not see
	// (pg_snapshot_xmin): every row written or changed since has a
	// transaction id at or past it, which is how VerifySince finds what to
	// look at again. 0 in a digest taken before it was recorded.
	Horizon int64 `json:"horizon,omitempty"`
}

// Checkpoint is the chain's hash at a position.
type Checkpoint struct {
	Seq  int64  `json:"seq"`
	Hash []byte `json:"hash"`
}

// CheckpointEvery is how many entries lie between a digest's checkpoints.
const CheckpointEvery = 1024

// link chains an entry's hash (a revision's or another entry's), at
// position seq, onto the hash before it: the database's
// licence_ledger_link.
func link(prev []byte, seq int64, entry []byte) []byte {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seq)) //nolint:gosec // G115: positions count up from 1, as int8send writes them
	h := sha256.New()
	h.Write(prev)
	h.Write(n[:])
	h.Write(entry)
	return h.Sum(nil)
}

// TakeDigest reads the ledger's tip: the position of the last committed
// entry and the chain up to it. A writer holds the tip until it commits,
// so no entry that commits later can take a position the digest covers. Verify recomputes the chain and its checkpoints; the tip
// alone is cheap enough to read for a quick comparison.
func TakeDigest(ctx context.Context, q Querier) (Digest, error) {
	var d Digest
	if err := q.QueryRow(ctx, `SELECT seq, hash, now(), pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM ledger_tip`).
		Scan(&d.Seq, &d.Hash, &d.At, &d.Horizon); err != nil {
		return d, fmt.Errorf("read the ledger's tip: %w", err)
	}
	d.At = d.At.UTC()
	return d, nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
