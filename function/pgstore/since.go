package pgstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifySince verifies what the ledger gained or changed since since, a
// digest an earlier verification took and kept outside the database, so
// its cost follows the changes, not the ledger:
//
//   - every licence with an entry after since's position, or with a row (a
//     revision, its live row, its erasure) written or changed since (a
//     transaction id at or past since.Horizon), is verified as Verify
//     verifies it, its whole chain included;
//   - the ledger's chain from since's position to the tip; and for every
//     position up to since's that holds a row changed since, the stretch
//     between since's checkpoints around it, against them;
//   - the ledger holds exactly since.Seq entries up to since's position.
//
// PostgreSQL keeps a row's transaction id when it freezes the row, so a
// change stays findable; what no transaction id shows (a data file
// rewritten by someone who controls the server) only a full Verify
// against the same digest finds. A digest without a horizon gets a full
// verification.
func VerifySince(ctx context.Context, db Beginner, since Digest) (Report, error) {
	if since.Horizon == 0 {
		return Verify(ctx, db, &since)
	}
	var rep Report
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return verifySince(ctx, tx, since, &rep)
	})
	return rep, err
}

// changedSince is true of a row whose transaction id ($3, xmin, 32 bits)
// is at or past the horizon ($4, 64 bits), read relative to the
// snapshot's next transaction id ($2, 64 bits). A row older than 2^32
// transactions may read as changed: that costs work, never a miss.
const changedSince = `(($2::bigint - ((($2::bigint % 4294967296) - xmin::text::bigint + 4294967296) % 4294967296)) >= $3::bigint)`

func verifySince(ctx context.Context, q Querier, since Digest, rep *Report) error {
	var current, held int64
	if err := q.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		(SELECT count(*) FROM licence_history WHERE ledger_seq <= $1) + (SELECT count(*) FROM ledger_entries WHERE ledger_seq <= $1)`, since.Seq).
		Scan(&current, &held); err != nil {
		return fmt.Errorf("read the snapshot: %w", err)
	}
	if held != since.Seq {
		rep.Broken = &BrokenLink{Seq: since.Seq, Reason: fmt.Sprintf(
			"the ledger holds %d entries up to position %d, but the digest taken at %s covers %d: entries were removed or inserted",
			held, since.Seq, since.At.Format(time.RFC3339), since.Seq)}
		return nil
	}
	ids, err := collect[string](ctx, q, `SELECT licence_id FROM licence_history WHERE ledger_seq > $1 OR ledger_seq IS NULL OR `+changedSince+`
		UNION SELECT id FROM licences WHERE `+changedSince+`
		UNION SELECT body->>'licenceId' FROM ledger_entries WHERE kind = 'erasure' AND (ledger_seq > $1 OR `+changedSince+`)`,
		since.Seq, current, since.Horizon)
	if err != nil {
		return fmt.Errorf("find what changed: %w", err)
	}
	touched, err := collect[int64](ctx, q, `SELECT ledger_seq FROM licence_history WHERE ledger_seq <= $1 AND `+changedSince+`
		UNION SELECT ledger_seq FROM ledger_entries WHERE ledger_seq <= $1 AND `+changedSince,
		since.Seq, current, since.Horizon)
	if err != nil {
		return fmt.Errorf("find what changed: %w", err)
	}
	rep.Read += len(ids) + len(touched)
	if err := verifyLicences(ctx, q, scope{licences: ids, after: since.Seq}, rep); err != nil || rep.Broken != nil {
		return err
	}
	if err := verifyStretches(ctx, q, since, touched, rep); err != nil || rep.Broken != nil {
		return err
	}
	rows, err := q.Query(ctx, `SELECT ledger_seq, hash FROM licence_history WHERE ledger_seq > $1 OR ledger_seq IS NULL
		UNION ALL SELECT ledger_seq, hash FROM ledger_entries WHERE ledger_seq > $1 ORDER BY ledger_seq NULLS FIRST`, since.Seq)
	if err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	d := since
	d.Checkpoints = slices.Clone(since.Checkpoints)
	if rep.Broken, err = extend(rows, &d, nil, &since, &rep.Read); err != nil || rep.Broken != nil {
		return err
	}
	return checkTip(ctx, q, d, rep)
}

// verifyStretches chains again, for each position up to since's that holds
// a row changed since, the stretch of the ledger between the checkpoints of
// since around it, and holds it to them.
func verifyStretches(ctx context.Context, q Querier, since Digest, touched []int64, rep *Report) error {
	marks := append([]Checkpoint{{Seq: 0, Hash: []byte{}}}, since.Checkpoints...)
	if len(marks) == 1 || marks[len(marks)-1].Seq != since.Seq {
		marks = append(marks, Checkpoint{since.Seq, since.Hash})
	}
	done := map[int64]bool{}
	slices.Sort(touched)
	for _, s := range touched {
		i, _ := slices.BinarySearchFunc(marks, s, func(c Checkpoint, s int64) int { return int(c.Seq - s) })
		if i == 0 || i >= len(marks) || done[marks[i].Seq] {
			continue
		}
		lo, hi := marks[i-1], marks[i]
		done[hi.Seq] = true
		rows, err := q.Query(ctx, `SELECT ledger_seq, hash FROM licence_history WHERE ledger_seq > $1 AND ledger_seq <= $2
			UNION ALL SELECT ledger_seq, hash FROM ledger_entries WHERE ledger_seq > $1 AND ledger_seq <= $2 ORDER BY ledger_seq`, lo.Seq, hi.Seq)
		if err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
		d := Digest{Seq: lo.Seq, Hash: lo.Hash}
		if rep.Broken, err = extend(rows, &d, map[int64][]byte{hi.Seq: hi.Hash}, &since, &rep.Read); err != nil || rep.Broken != nil {
			return err
		}
		if d.Seq != hi.Seq {
			rep.Broken = &BrokenLink{Seq: d.Seq + 1, Reason: fmt.Sprintf(
				"the ledger ends at position %d, but the digest taken at %s covers %d: entries were removed", d.Seq, since.At.Format(time.RFC3339), hi.Seq)}
			return nil
		}
	}
	return nil
}

// collect reads one column of every row.
func collect[T any](ctx context.Context, q Querier, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if out == nil {
		out = []T{}
	}
	return out, err
}
