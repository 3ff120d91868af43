package qldbstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
)

// revisionRow is a row of history(): a committed revision with its data,
// or only its data's hash once redacted (or none, when it deleted the
// document).
type revisionRow struct {
	BlockAddress blockAddress `ion:"blockAddress"`
	Hash         []byte       `ion:"hash"`
	Data         *document    `ion:"data"`
	DataHash     []byte       `ion:"dataHash"`
	Metadata     struct {
		ID      string    `ion:"id"`
		Version int       `ion:"version"`
		TxTime  time.Time `ion:"txTime"`
		TxID    string    `ion:"txId"`
	} `ion:"metadata"`
}

// blockAddress is where a revision sits in the journal.
type blockAddress struct {
	StrandID   string `ion:"strandId"`
	SequenceNo int64  `ion:"sequenceNo"`
}

// revisions reads versions from to through of the licence with id, in
// version order. QLDB has no ORDER BY or LIMIT: a page is a version range.
func revisions(txn qldbdriver.Transaction, id string, from, through int) ([]revisionRow, error) {
	r, err := txn.Execute(stmtHistory, id, from, through)
	if err != nil {
		return nil, err
	}
	var rows []revisionRow
	for r.Next(txn) {
		var rr revisionRow
		if err := ion.Unmarshal(r.GetCurrentData(), &rr); err != nil {
			return nil, fmt.Errorf("decode revision: %w", err)
		}
		rows = append(rows, rr)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b revisionRow) int { return a.Metadata.Version - b.Metadata.Version })
	return rows, nil
}

// deletionOf reads the deletion record of the licence with id, if it was
// deleted.
func deletionOf(txn qldbdriver.Transaction, id string) (*deletion, error) {
	var d deletion
	found, err := one(txn, &d, stmtDeletion, id)
	if err != nil || !found {
		return nil, err
	}
	return &d, nil
}

// History implements licence.Store: one read of a version range of
// history() and one of the deletion record, which holds the deleting
// revision's event and any erasure.
func (s *Store) History(ctx context.Context, id string, from, limit int) (licence.HistoryPage, error) {
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		rows, err := revisions(txn, id, from, from+limit)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			// Past the end, or no such licence: a cursor never makes an
			// unknown licence look like one with an empty page.
			first, err := revisions(txn, id, 0, 0)
			if err != nil {
				return nil, err
			}
			if from == 0 || len(first) == 0 {
				return nil, licence.ErrNotFound
			}
		}
		del, err := deletionOf(txn, id)
		if err != nil {
			return nil, err
		}
		page := licence.HistoryPage{Revisions: []licence.Revision{}}
		if len(rows) > limit {
			rows, page.More = rows[:limit], true
		}
		for _, rr := range rows {
			page.Revisions = append(page.Revisions, rr.revision(id, del))
		}
		return page, nil
	})
	if err != nil {
		return licence.HistoryPage{}, err
	}
	return out.(licence.HistoryPage), nil
}

// revision is the history row as the domain sees it. A row without data
// is the deleting revision (its event is in the deletion record) or one
// QLDB has redacted; once an erasure is recorded, no row shows data, even
// while QLDB is still redacting it.
func (rr revisionRow) revision(id string, del *deletion) licence.Revision {
	rev := licence.Revision{
		Version:       rr.Metadata.Version,
		TransactionID: rr.Metadata.TxID,
		TransactionAt: rr.Metadata.TxTime.UTC(),
		Hash:          base64.StdEncoding.EncodeToString(rr.Hash),
	}
	switch {
	case rr.Data == nil && rr.DataHash == nil && del != nil:
		e := del.Event.event()
		rev.Event, rev.Actor = &e, &e.Actor
	case del != nil && del.Erasure != nil:
		erased := del.Erasure.erasure()
		rev.Erased = &erased
	case rr.Data != nil:
		l := rr.Data.licence(id)
		rev.Event, rev.Actor = l.LastEvent, &l.LastEvent.Actor
		l.LastEvent = nil
		rev.Licence = &l
	}
	return rev
}
