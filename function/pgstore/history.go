package pgstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/licence"
)

// History implements licence.Store: one indexed range read of the
// licence's revisions, one more than the page to tell whether more follow.
func (s *Store) History(ctx context.Context, id string, from, limit int) (licence.HistoryPage, error) {
	var page licence.HistoryPage
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx,
			`SELECT version, tx_id, tx_time, hash, doc, event, erased FROM licence_history
			 WHERE licence_id = $1 AND version >= $2 ORDER BY version LIMIT $3`, id, from, limit+1)
		if err != nil {
			return err
		}
		revs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (licence.Revision, error) {
			return scanRevision(r, id)
		})
		if err != nil {
			return err
		}
		if len(revs) == 0 {
			// Past the end, or no such licence: a cursor never makes an
			// unknown licence look like one with an empty page.
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM licence_history WHERE licence_id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if from == 0 || !exists {
				return licence.ErrNotFound
			}
		}
		if len(revs) > limit {
			revs, page.More = revs[:limit], true
		}
		page.Revisions = revs
		return nil
	})
	return page, err
}

// scanRevision reads one history row as the domain's revision.
func scanRevision(r pgx.CollectableRow, id string) (licence.Revision, error) {
	var (
		rev    licence.Revision
		txID   int64
		at     time.Time
		hash   []byte
		doc    *document
		event  *licence.Event
		erased *licence.Erasure
	)
	if err := r.Scan(&rev.Version, &txID, &at, &hash, &doc, &event, &erased); err != nil {
		return rev, fmt.Errorf("read revision: %w", err)
	}
	rev.TransactionID = fmt.Sprint(txID)
	rev.TransactionAt = at.UTC()
	rev.Hash = base64.StdEncoding.EncodeToString(hash)
	rev.Erased = erased
	if doc != nil {
		l := doc.licence(id)
		if event == nil { // formula 1: the event is the document's last
			event = l.LastEvent
		}
		l.LastEvent = nil
		rev.Licence = &l
	}
	if event != nil {
		rev.Event = event
		if event.Actor.Principal != "" {
			rev.Actor = &event.Actor
		}
	}
	return rev, nil
}
