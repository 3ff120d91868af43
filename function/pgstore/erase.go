package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/licence"
)

// Erase implements licence.Eraser through the database's licence_erase,
// which the eraser's user may run and nothing else: it empties every
// revision of the deleted licence that holds data, at once, keeping each
// revision's hashes, so nothing is ever pending.
func (s *Store) Erase(ctx context.Context, id string, e licence.Erasure) (licence.ErasureResult, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return licence.ErasureResult{}, err
	}
	var res licence.ErasureResult
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			status   string
			recorded *licence.Erasure
			count    *int
		)
		if err := tx.QueryRow(ctx, `SELECT status, recorded, revisions FROM licence_erase($1, $2)`, id, body).
			Scan(&status, &recorded, &count); err != nil {
			return err
		}
		switch status {
		case "live":
			return licence.ErrStillLive
		case "not_found":
			return licence.ErrNotFound
		case "erased":
			if recorded == nil || count == nil {
				return fmt.Errorf("licence_erase answered erased without a record")
			}
			res = licence.ErasureResult{Erasure: *recorded, Revisions: *count}
			return nil
		}
		return fmt.Errorf("licence_erase answered %q", status)
	})
	return res, err
}
