package qldbstore

import (
	"context"
	"fmt"

	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
)

// Erasure bounds: how many revisions one Erase reads at a time, and how
// many it asks QLDB to redact before answering (each in a transaction of
// its own, as QLDB requires), so one call stays well inside the function's
// timeout; the next call carries on.
const (
	eraseWindow   = 100
	redactsPerRun = 100
)

// Erase implements licence.Eraser with QLDB's REDACT_REVISION: each
// revision of the deleted licence that still has data is redacted, one per
// transaction, inactive revisions only (every revision of a deleted
// licence is). QLDB completes a redaction asynchronously: until it has,
// the revision counts as pending, and History already shows none of it,
// because the erasure is recorded first, in the licence's deletion record.
func (s *Store) Erase(ctx context.Context, id string, e licence.Erasure) (licence.ErasureResult, error) {
	rec, err := s.recordErasure(ctx, id, e)
	if err != nil {
		return licence.ErasureResult{}, err
	}
	tableID, err := s.licenceTableID(ctx)
	if err != nil {
		return licence.ErasureResult{}, err
	}
	res := licence.ErasureResult{Erasure: rec.erasure()}
	redacted := 0
	for from := 0; ; from += eraseWindow {
		out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
			return revisions(txn, id, from, from+eraseWindow-1)
		})
		if err != nil {
			return res, fmt.Errorf("read history to erase: %w", err)
		}
		rows := out.([]revisionRow)
		for _, rr := range rows {
			switch {
			case rr.DataHash != nil: // redacted
				res.Revisions++
			case rr.Data == nil: // the deleting revision: no data
			case rr.Metadata.Version <= rec.Through:
				res.Revisions++
				res.Pending++
			case redacted < redactsPerRun:
				if err := s.redact(ctx, id, tableID, rr, rec); err != nil {
					return res, err
				}
				rec.Through = rr.Metadata.Version
				redacted++
				res.Revisions++
				res.Pending++
			default:
				res.Revisions++
				res.Pending++
			}
		}
		if len(rows) < eraseWindow {
			return res, nil
		}
	}
}

// recordErasure records e in the deletion record of the licence with id,
// unless an erasure is recorded already, and returns the recorded one.
func (s *Store) recordErasure(ctx context.Context, id string, e licence.Erasure) (erasure, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		if _, err := byID(txn, id); err == nil {
			return nil, licence.ErrStillLive
		} else if err != licence.ErrNotFound {
			return nil, err
		}
		del, err := deletionOf(txn, id)
		switch {
		case err != nil:
			return nil, err
		case del == nil:
			return nil, licence.ErrNotFound
		case del.Erasure != nil:
			return *del.Erasure, nil
		}
		rec := erasure{At: e.At.UTC(), Actor: actor(e.Actor), Through: -1}
		if _, err := txn.Execute(stmtRecordEras, rec, id); err != nil {
			return nil, err
		}
		return rec, nil
	})
	if err != nil {
		return erasure{}, err
	}
	return out.(erasure), nil
}

// redact asks QLDB to redact one revision and records, in the same
// transaction, that the erasure has got this far. It reads the record
// first, in that transaction: where another erasure of the licence has
// already asked for this revision (they race; QLDB's optimistic
// concurrency makes one of them retry on the record), it asks nothing,
// since QLDB refuses a second redaction of a revision with
// BadRequestException.
func (s *Store) redact(ctx context.Context, id, tableID string, rr revisionRow, rec erasure) error {
	_, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		del, err := deletionOf(txn, id)
		if err != nil {
			return nil, err
		}
		next := rec
		if del != nil && del.Erasure != nil {
			if del.Erasure.Through >= rr.Metadata.Version {
				return nil, nil
			}
			next = *del.Erasure
		}
		next.Through = rr.Metadata.Version
		if _, err := txn.Execute(stmtRedact, rr.BlockAddress, tableID, id); err != nil {
			return nil, err
		}
		return txn.Execute(stmtRecordEras, next, id)
	})
	if err != nil {
		// Another erasure may have asked for this revision between this
		// transaction's read and its redaction, which QLDB then refuses:
		// if the record says so, the revision is on its way out.
		if done, rerr := s.redactedThrough(ctx, id, rr.Metadata.Version); rerr == nil && done {
			return nil
		}
		return fmt.Errorf("redact version %d of %s: %w", rr.Metadata.Version, id, err)
	}
	return nil
}

// redactedThrough reports whether the licence's erasure record says its
// revisions up to version have been asked to be redacted.
func (s *Store) redactedThrough(ctx context.Context, id string, version int) (bool, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		del, err := deletionOf(txn, id)
		if err != nil {
			return false, err
		}
		return del != nil && del.Erasure != nil && del.Erasure.Through >= version, nil
	})
	if err != nil {
		return false, err
	}
	return out.(bool), nil
}

// licenceTableID is the licence table's id, which REDACT_REVISION names:
// read from the catalog once, since a table keeps its id for life.
func (s *Store) licenceTableID(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tableID != "" {
		return s.tableID, nil
	}
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		var t struct {
			TableID string `ion:"tableId"`
		}
		found, err := one(txn, &t, stmtTableID, licences)
		if err == nil && (!found || t.TableID == "") {
			err = fmt.Errorf("no table %s in the catalog", licences)
		}
		return t.TableID, err
	})
	if err != nil {
		return "", fmt.Errorf("look up the licence table's id: %w", err)
	}
	s.tableID = out.(string)
	return s.tableID, nil
}
