package pgstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// entryHash is the hash of a ledger entry that is not a revision: the
// database's ledger_entry_hash.
func entryHash(kind string, at time.Time, body string) []byte {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "entry|%s|%d|%s", kind, at.UnixMicro(), body) // a hash.Hash never fails to write
	return h.Sum(nil)
}

// erasureEntry is an erasure as the ledger records it: which licence, the
// erasure (its time and actor, as the erased revisions keep it), and each
// revision it emptied with the hash of what that revision held.
type erasureEntry struct {
	LicenceID string          `json:"licenceId"`
	Erasure   json.RawMessage `json:"erasure"`
	Revisions []erasedEntry   `json:"revisions"`

	seq int64
	// matched counts the erased revisions found that it lists.
	matched int
}

// erasedEntry is one revision an erasure emptied: the hash of its data
// (ContentHash, formula 2), or its own hash (RevisionHash, formula 1,
// whose hash covers the data itself).
type erasedEntry struct {
	Version      int    `json:"version"`
	ContentHash  string `json:"contentHash,omitempty"`
	RevisionHash string `json:"revisionHash,omitempty"`
}

// formulaEntry is the position since which every revision carries its own
// content hash: none of formula 1 may stand at or after it.
type formulaEntry struct {
	Formula int   `json:"formula"`
	Since   int64 `json:"since"`
}

// entries are the ledger's entries that are not revisions, as Verify
// checks revisions against them.
type entries struct {
	erasures map[string]*erasureEntry
	// ordered holds the erasures in ledger order, so a fault among them
	// is reported at the first.
	ordered []*erasureEntry
	// formulaSince is the formula entry's Since; 0 when the ledger has
	// none, and so never held formula 1.
	formulaSince int64
}

// readEntries reads and checks the scope's entries that are not
// revisions: each matches its hash and says what its kind says, and no
// licence is erased twice.
func readEntries(ctx context.Context, q Querier, sc scope, rep *Report) (*entries, error) {
	rows, err := q.Query(ctx, `SELECT ledger_seq, kind, tx_time, body::text, hash FROM ledger_entries`+sc.entries()+` ORDER BY ledger_seq`, sc.entryArgs()...)
	if err != nil {
		return nil, fmt.Errorf("read the ledger's entries: %w", err)
	}
	defer rows.Close()
	es := &entries{erasures: map[string]*erasureEntry{}}
	for rows.Next() {
		var (
			seq        int64
			kind, body string
			at         time.Time
			hash       []byte
		)
		if err := rows.Scan(&seq, &kind, &at, &body, &hash); err != nil {
			return nil, fmt.Errorf("read the ledger's entries: %w", err)
		}
		rep.Read++
		if reason := es.add(seq, kind, at, body, hash); reason != "" {
			rep.Broken = &BrokenLink{Seq: seq, Reason: reason}
			return es, nil
		}
	}
	return es, rows.Err()
}

// add takes one entry; "" when it holds.
func (es *entries) add(seq int64, kind string, at time.Time, body string, hash []byte) string {
	if !bytes.Equal(hash, entryHash(kind, at, body)) {
		return fmt.Sprintf("its %s entry does not match its hash", kind)
	}
	switch kind {
	case "erasure":
		e := &erasureEntry{seq: seq}
		if err := json.Unmarshal([]byte(body), e); err != nil || e.LicenceID == "" || len(e.Erasure) == 0 {
			return "its erasure entry does not say which licence it erased, or how"
		}
		if _, ok := es.erasures[e.LicenceID]; ok {
			return "a second erasure of licence " + e.LicenceID
		}
		es.erasures[e.LicenceID] = e
		es.ordered = append(es.ordered, e)
	case "formula":
		var f formulaEntry
		if err := json.Unmarshal([]byte(body), &f); err != nil || f.Formula != 2 || f.Since < 1 {
			return "its formula entry does not say since when revisions carry a content hash"
		}
		switch {
		case es.formulaSince != 0:
			return "a second formula entry"
		case f.Since > seq:
			return fmt.Sprintf("its formula entry declares formula 2 since position %d, after itself", f.Since)
		}
		es.formulaSince = f.Since
	default:
		return fmt.Sprintf("an entry of unknown kind %q", kind)
	}
	return ""
}

// checkFormula: a revision without its own content hash (formula 1) is
// accepted only before the position the ledger recorded for formula 2;
// "" when r holds.
func (es *entries) checkFormula(r historyRow) string {
	if r.formula != 1 || r.seq == nil {
		// Verify's pass over the ledger reports a revision with no
		// position.
		return ""
	}
	switch {
	case es.formulaSince == 0:
		return "it has no content hash of its own (formula 1), but this ledger never held formula 1"
	case *r.seq >= es.formulaSince:
		return fmt.Sprintf("it has no content hash of its own (formula 1), but stands at position %d, after the ledger took formula 2 at position %d",
			*r.seq, es.formulaSince)
	}
	return ""
}

// checkErased holds an erased revision to the erasure the ledger recorded
// for its licence; "" when r holds.
func (es *entries) checkErased(r historyRow) string {
	e := es.erasures[r.id]
	if e == nil {
		return "it is marked erased, but the ledger records no erasure of this licence"
	}
	var listed *erasedEntry
	for i := range e.Revisions {
		if e.Revisions[i].Version == r.version {
			listed = &e.Revisions[i]
			break
		}
	}
	if listed == nil {
		return fmt.Sprintf("it is marked erased, but the erasure at position %d does not list it", e.seq)
	}
	want, got := hex.EncodeToString(r.content), listed.ContentHash
	if r.formula == 1 {
		want, got = hex.EncodeToString(r.hash), listed.RevisionHash
	}
	switch {
	case got != want:
		return fmt.Sprintf("the erasure at position %d recorded another hash for what it held", e.seq)
	case r.erasedRecord == nil || *r.erasedRecord != string(e.Erasure):
		return fmt.Sprintf("its erasure record differs from the erasure at position %d", e.seq)
	}
	e.matched++
	return ""
}

// checkLicenceEnd: a licence the ledger records as erased ends in its
// deletion, which the erasure follows; "" when r, the head of a chain,
// holds.
func (es *entries) checkLicenceEnd(r historyRow, isDeletion bool) string {
	e := es.erasures[r.id]
	switch {
	case e == nil:
		return ""
	case !isDeletion:
		return fmt.Sprintf("the erasure at position %d erased it, but its history does not end in its deletion", e.seq)
	case r.seq != nil && *r.seq > e.seq:
		return fmt.Sprintf("the erasure at position %d comes before the deletion it needs, at position %d", e.seq, *r.seq)
	}
	return ""
}

// checkAllMatched: every revision an erasure lists was found erased;
// reported at the first erasure that lists one more.
func (es *entries) checkAllMatched(rep *Report) {
	for _, e := range es.ordered {
		if e.matched != len(e.Revisions) {
			rep.Broken = &BrokenLink{Seq: e.seq, Reason: fmt.Sprintf(
				"its erasure of licence %s lists %d revisions, but %d of them are erased", e.LicenceID, len(e.Revisions), e.matched)}
			return
		}
	}
}
