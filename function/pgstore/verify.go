package pgstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BrokenLink is the first revision whose chain does not hold.
type BrokenLink struct {
	LicenceID string
	Version   int
	Reason    string
}

func (b *BrokenLink) Error() string {
	return fmt.Sprintf("history of licence %s breaks at version %d: %s", b.LicenceID, b.Version, b.Reason)
}

// revisionHash is the hash of one revision, computed here as the database's
// licence_revision_hash computes it, so a change made to the history or to
// that function behind the application's back shows.
func revisionHash(prev []byte, id string, version int, tx int64, at time.Time, doc *string) []byte {
	d := "deleted"
	if doc != nil {
		d = *doc
	}
	h := sha256.New()
	h.Write(prev)
	_, _ = fmt.Fprintf(h, "%s|%d|%d|%d|%s", id, version, tx, at.UnixMicro(), d) // a hash.Hash never fails to write
	return h.Sum(nil)
}

// Verify walks every licence's chain of revisions, oldest first, and
// returns the first broken link (nil when every chain holds) and how many
// revisions it checked.
func Verify(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (*BrokenLink, int, error) {
	rows, err := q.Query(ctx, `SELECT licence_id, version, tx_id, tx_time, doc::text, prev_hash, hash
		FROM licence_history ORDER BY licence_id, version`)
	if err != nil {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var (
		checked  int
		lastID   string
		lastHash []byte
		wantVer  int
	)
	for rows.Next() {
		var id string
		var version int
		var tx int64
		var at time.Time
		var doc *string
		var prev, hash []byte
		if err := rows.Scan(&id, &version, &tx, &at, &doc, &prev, &hash); err != nil {
			return nil, checked, err
		}
		if id != lastID {
			lastID, lastHash, wantVer = id, []byte{}, 0
		}
		switch {
		case version != wantVer:
			return &BrokenLink{id, version, fmt.Sprintf("expected version %d: a revision is missing", wantVer)}, checked, nil
		case !bytes.Equal(prev, lastHash):
			return &BrokenLink{id, version, "it does not chain to the revision before it"}, checked, nil
		case !bytes.Equal(hash, revisionHash(prev, id, version, tx, at, doc)):
			return &BrokenLink{id, version, "its contents do not match its hash"}, checked, nil
		}
		lastHash, wantVer = hash, version+1
		checked++
	}
	return nil, checked, rows.Err()
}
