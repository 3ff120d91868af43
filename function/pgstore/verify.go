package pgstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/licence"
)

// BrokenLink is the first place the ledger does not hold: a licence's
// revision (LicenceID and Version), or a position of the ledger (Seq).
type BrokenLink struct {
	LicenceID string
	Version   int
	Seq       int64
	Reason    string
}

func (b *BrokenLink) Error() string {
	if b.LicenceID == "" {
		return fmt.Sprintf("the ledger breaks at position %d: %s", b.Seq, b.Reason)
	}
	return fmt.Sprintf("history of licence %s breaks at version %d: %s", b.LicenceID, b.Version, b.Reason)
}

// Report is what Verify found.
type Report struct {
	// Broken is the first place that does not hold; nil when all does.
	Broken *BrokenLink
	// Revisions is how many revisions were checked; Redacted how many of
	// them are erased (their hashes checked, their data gone); Erasures
	// how many erasures the ledger records; Licences how many licences
	// have a history, Live how many exist. VerifySince counts only what it
	// looked at again.
	Revisions, Redacted, Erasures, Licences, Live int
	// Read is how many rows the verification read: its cost.
	Read int
	// Digest is the ledger's digest, recomputed from its revisions, with
	// its checkpoints: write it out to check the ledger against later.
	Digest Digest
}

// revisionHashV1 is the hash of a formula-1 revision: the database's
// licence_revision_hash.
func revisionHashV1(prev []byte, id string, version int, tx int64, at time.Time, doc *string) []byte {
	d := "deleted"
	if doc != nil {
		d = *doc
	}
	h := sha256.New()
	h.Write(prev)
	_, _ = fmt.Fprintf(h, "%s|%d|%d|%d|%s", id, version, tx, at.UnixMicro(), d) // a hash.Hash never fails to write
	return h.Sum(nil)
}

// contentHash is the hash of a formula-2 revision's data: the database's
// licence_content_hash.
func contentHash(doc *string, event string) []byte {
	d := ""
	if doc != nil {
		d = *doc
	}
	sum := sha256.Sum256([]byte(d + "|" + event))
	return sum[:]
}

// revisionHashV2 is the hash of a formula-2 revision: the database's
// licence_revision_hash_v2.
func revisionHashV2(prev []byte, id string, version int, tx int64, at time.Time, content []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	_, _ = fmt.Fprintf(h, "%s|%d|%d|%d|2|", id, version, tx, at.UnixMicro())
	h.Write(content)
	return h.Sum(nil)
}

// historyRow is a revision as Verify reads it, with the live licence
// beside its chain's head.
type historyRow struct {
	id         string
	version    int
	tx         int64
	at         time.Time
	formula    int
	doc, event *string
	content    []byte
	erased     bool
	// erasedRecord is the erasure the revision keeps, as JSON text.
	erasedRecord *string
	seq          *int64
	prev, hash   []byte
	head, live   bool
	liveDoc      *string
}

// Verify checks the whole ledger, independently of the database's own
// functions, and against a digest taken earlier when against is not nil:
//
//   - the ledger's other entries: each matches its hash, and says what
//     its kind says;
//   - each licence's chain: versions without a gap, each revision chained
//     to the one before it, its hash matching its contents, and its
//     licence the one before it with its event applied (licence.Follows);
//   - each erased revision: listed, with the hash of what it held, by the
//     erasure the ledger recorded for its licence, which keeps the same
//     erasure; and every revision an erasure lists is erased;
//   - a revision without its own content hash (formula 1) only before the
//     position the ledger recorded for formula 2;
//   - each licence's present: a live licence equals the head of its chain,
//     a licence that is gone has a chain that ends in its deletion, and no
//     licence lives without a history;
//   - the ledger's chain: every revision and entry at its own position,
//     chained in commit order, ending at the ledger's tip, and equal to
//     the digest up to its position.
//
// It reads one snapshot of the database, so writers may carry on.
func Verify(ctx context.Context, db Beginner, against *Digest) (Report, error) {
	var rep Report
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return verify(ctx, tx, against, &rep)
	})
	return rep, err
}

// Beginner begins transactions: a connection or a pool.
type Beginner interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}

func verify(ctx context.Context, q Querier, against *Digest, rep *Report) error {
	if err := verifyLicences(ctx, q, everything, rep); err != nil || rep.Broken != nil {
		return err
	}
	return verifyLedger(ctx, q, against, rep)
}

// scope is the licences a verification reads: every licence, or those a
// later run must look at again (VerifySince). Its clauses are SQL, with
// its licence ids as $1.
type scope struct {
	// licences are the ids; nil means every licence.
	licences []string
	// after is the position past which every entry is new to the run.
	after int64
}

// everything is the whole ledger.
var everything = scope{}

// args are the arguments of a query restricted by history or live.
func (sc scope) args() []any {
	if sc.licences == nil {
		return nil
	}
	return []any{sc.licences}
}

// entryArgs are the arguments of a query restricted by entries.
func (sc scope) entryArgs() []any {
	if sc.licences == nil {
		return nil
	}
	return []any{sc.licences, sc.after}
}

// history restricts a query on licence_history h to the scope.
func (sc scope) history() string {
	if sc.licences == nil {
		return ""
	}
	return " WHERE h.licence_id = ANY($1)"
}

// entries restricts a query on ledger_entries to the scope, the formula's
// record always included.
func (sc scope) entries() string {
	if sc.licences == nil {
		return ""
	}
	return " WHERE kind = 'formula' OR body->>'licenceId' = ANY($1) OR ledger_seq > $2"
}

// live restricts a query on licences l to the scope.
func (sc scope) live() string {
	if sc.licences == nil {
		return ""
	}
	return " AND l.id = ANY($1)"
}

// verifyLicences checks the scope's licences: their entries, chains,
// erasures and live rows.
func verifyLicences(ctx context.Context, q Querier, sc scope, rep *Report) error {
	es, err := readEntries(ctx, q, sc, rep)
	if err != nil || rep.Broken != nil {
		return err
	}
	rep.Erasures = len(es.ordered)
	if err := verifyChains(ctx, q, sc, es, rep); err != nil || rep.Broken != nil {
		return err
	}
	if es.checkAllMatched(rep); rep.Broken != nil {
		return nil
	}
	var orphan string
	err = q.QueryRow(ctx, `SELECT l.id FROM licences l WHERE NOT EXISTS
		(SELECT FROM licence_history h WHERE h.licence_id = l.id)`+sc.live()+` ORDER BY l.id LIMIT 1`, sc.args()...).Scan(&orphan)
	switch {
	case err == nil:
		rep.Broken = &BrokenLink{LicenceID: orphan, Reason: "the licence exists but has no history"}
		return nil
	case !isNoRows(err):
		return fmt.Errorf("look for licences without a history: %w", err)
	}
	return nil
}

// chain is one licence's history as Verify walks it, revision by revision.
type chain struct {
	lastHash []byte
	wantVer  int
	deleted  bool
	replay   replayer
}

// take checks the chain's next revision, r, and moves on past it; "" when
// it holds.
func (c *chain) take(r historyRow, es *entries) string {
	switch {
	case r.version != c.wantVer:
		return fmt.Sprintf("expected version %d: a revision is missing", c.wantVer)
	case c.deleted:
		return "a revision follows the licence's deletion"
	case !bytes.Equal(r.prev, c.lastHash):
		return "it does not chain to the revision before it"
	}
	if reason := es.checkFormula(r); reason != "" {
		return reason
	}
	if reason := r.checkHash(); reason != "" {
		return reason
	}
	if r.erased {
		if reason := es.checkErased(r); reason != "" {
			return reason
		}
	}
	if reason := c.replay.next(r); reason != "" {
		return reason
	}
	isDeletion := r.doc == nil && !r.erased
	if r.head {
		if reason := r.checkPresent(isDeletion, c.replay); reason != "" {
			return reason
		}
		if reason := es.checkLicenceEnd(r, isDeletion); reason != "" {
			return reason
		}
	}
	c.lastHash, c.wantVer, c.deleted = r.hash, r.version+1, isDeletion
	return ""
}

// replayer replays one licence's history by the domain's rules
// (licence.Follows): each formula-2 revision's licence must be the one
// before it with the revision's event applied, so a change written behind
// the domain's back (the live row changed with no revision, then a
// revision built on it) shows even where every hash holds. Erased
// revisions hold nothing to replay: the replay stops there.
type replayer struct {
	prev *licence.Licence
	// event is the event of the revision prev came from; nil for formula
	// 1, which kept none beside the licence.
	event   *licence.Event
	stopped bool
}

// next takes the chain's next revision; "" when it follows.
func (p *replayer) next(r historyRow) string {
	if p.stopped {
		return ""
	}
	if r.erased || r.doc == nil && r.event == nil {
		p.stopped = true
		return ""
	}
	var cur licence.Licence
	if r.doc != nil {
		if err := json.Unmarshal([]byte(*r.doc), &cur); err != nil {
			return "its licence is not a licence: " + err.Error()
		}
	}
	if r.formula != 2 {
		// Formula 1 kept no event beside the licence: the replay starts
		// from it.
		p.prev, p.event = &cur, nil
		return ""
	}
	var ev licence.Event
	if err := json.Unmarshal([]byte(*r.event), &ev); err != nil {
		return "its event is not an event: " + err.Error()
	}
	if r.doc == nil {
		if ev.Kind != licence.Deleted {
			return fmt.Sprintf("it holds no licence, but its event is %s, not a deletion", ev.Kind)
		}
		p.stopped = true
		return ""
	}
	if err := licence.Follows(p.prev, cur, ev); err != nil {
		return "it does not follow from the revision before it: " + err.Error()
	}
	p.prev, p.event = &cur, &ev
	return ""
}

// checkHash recomputes the revision's hash; "" when it matches.
func (r historyRow) checkHash() string {
	switch r.formula {
	case 1:
		if r.erased {
			// Formula 1 hashed the document itself: an erased one is
			// checked by its links alone (the next revision's and the
			// ledger's chain hold its hash).
			return ""
		}
		if !bytes.Equal(r.hash, revisionHashV1(r.prev, r.id, r.version, r.tx, r.at, r.doc)) {
			return "its contents do not match its hash"
		}
	case 2:
		content := r.content
		switch {
		case r.erased && (r.doc != nil || r.event != nil):
			return "it is marked erased but holds data"
		case !r.erased && r.event == nil:
			return "its data is gone but no erasure is recorded"
		case !r.erased:
			if !bytes.Equal(content, contentHash(r.doc, *r.event)) {
				return "its contents do not match its content hash"
			}
		}
		if !bytes.Equal(r.hash, revisionHashV2(r.prev, r.id, r.version, r.tx, r.at, content)) {
			return "its metadata or content hash do not match its hash"
		}
	default:
		return fmt.Sprintf("unknown hash formula %d", r.formula)
	}
	return ""
}

// checkPresent compares the head of a chain with the live licence; ""
// when they agree. replay has replayed the chain up to the head.
func (r historyRow) checkPresent(isDeletion bool, replay replayer) string {
	switch {
	case isDeletion && r.live:
		return "the licence is live but its history ends in its deletion"
	case !isDeletion && !r.live:
		return "the licence is gone but its history does not end in its deletion"
	case !r.live:
		return ""
	case r.erased || r.doc == nil:
		return "the licence is live but its latest revision is erased"
	}
	if r.formula == 2 && !replay.stopped && replay.prev != nil && replay.event != nil {
		return sameAsReplayed(*r.liveDoc, *replay.prev, *replay.event)
	}
	// A head of formula 1 (a licence unchanged since schema version 1)
	// holds fields no licence has now: compared as JSON values.
	want, ok := decodeJSON(*r.doc).(map[string]any)
	if !ok {
		return "its document is not a JSON object"
	}
	if r.formula == 2 {
		want["lastEvent"] = decodeJSON(*r.event)
	}
	if !reflect.DeepEqual(any(want), decodeJSON(*r.liveDoc)) {
		return liveDiffers
	}
	return ""
}

const liveDiffers = "the live licence differs from the latest revision of its history"

// sameAsReplayed compares a live licence's document with the licence and
// event its chain's head holds, as typed values: the live document is read
// strictly, so a field no licence has is a difference too. "" when they
// agree.
func sameAsReplayed(liveDoc string, head licence.Licence, event licence.Event) string {
	var live licence.Licence
	dec := json.NewDecoder(strings.NewReader(liveDoc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&live); err != nil || dec.More() || live.LastEvent == nil {
		return liveDiffers
	}
	liveEvent := *live.LastEvent
	live.LastEvent, head.LastEvent = nil, nil
	if live != head || !sameEvent(liveEvent, event) {
		return liveDiffers
	}
	return ""
}

// sameEvent says whether two events are one: the same kind, change, time
// and actor.
func sameEvent(a, b licence.Event) bool {
	return a.Kind == b.Kind && a.Reason == b.Reason && a.Points == b.Points && a.At.Equal(b.At) && a.Actor == b.Actor
}

// decodeJSON is the value a JSON text holds, numbers kept exact; nil
// when it is not JSON.
func decodeJSON(text string) any {
	var v any
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

func verifyLedger(ctx context.Context, q Querier, against *Digest, rep *Report) error {
	rows, err := q.Query(ctx, `SELECT ledger_seq, hash FROM licence_history
		UNION ALL SELECT ledger_seq, hash FROM ledger_entries ORDER BY ledger_seq NULLS FIRST`)
	if err != nil {
		return fmt.Errorf("read the ledger: %w", err)
	}
	d := Digest{Hash: []byte{}}
	if rep.Broken, err = extend(rows, &d, expectations(against), against, &rep.Read); err != nil || rep.Broken != nil {
		return err
	}
	if against != nil && d.Seq < against.Seq {
		rep.Broken = &BrokenLink{Seq: d.Seq + 1, Reason: fmt.Sprintf(
			"the ledger ends at position %d, but the digest taken at %s covers %d: entries were removed", d.Seq, against.At.Format(time.RFC3339), against.Seq)}
		return nil
	}
	return checkTip(ctx, q, d, rep)
}

// extend chains the ledger's rows (position and hash, in order of
// position) onto d, each at the position after the one before, and holds
// the chain to expect, the hashes a digest (against) records by position;
// it returns the first place that does not hold, and counts the rows in
// read.
func extend(rows pgx.Rows, d *Digest, expect map[int64][]byte, against *Digest, read *int) (*BrokenLink, error) {
	defer rows.Close()
	lastGood := d.Seq
	for rows.Next() {
		*read++
		var seq *int64
		var hash []byte
		if err := rows.Scan(&seq, &hash); err != nil {
			return nil, fmt.Errorf("read the ledger: %w", err)
		}
		switch {
		case seq == nil:
			return &BrokenLink{Reason: "a revision has no position in the ledger"}, nil
		case *seq <= d.Seq:
			return &BrokenLink{Seq: *seq, Reason: "two entries hold this position"}, nil
		case *seq != d.Seq+1:
			return &BrokenLink{Seq: d.Seq + 1, Reason: fmt.Sprintf("the next entry is at position %d: an entry is missing", *seq)}, nil
		}
		d.Seq = *seq
		d.Hash = link(d.Hash, d.Seq, hash)
		if d.Seq%CheckpointEvery == 0 {
			d.Checkpoints = append(d.Checkpoints, Checkpoint{d.Seq, d.Hash})
		}
		if want, ok := expect[d.Seq]; ok {
			if !bytes.Equal(d.Hash, want) {
				return &BrokenLink{Seq: d.Seq, Reason: fmt.Sprintf(
					"the ledger differs from the digest taken at %s between positions %d and %d: an entry there was changed, removed or inserted",
					against.At.Format(time.RFC3339), lastGood+1, d.Seq)}, nil
			}
			lastGood = d.Seq
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the ledger: %w", err)
	}
	return nil, nil
}

// expectations are the hashes a digest taken earlier records, by position:
// its checkpoints and its own tip. None without a digest.
func expectations(against *Digest) map[int64][]byte {
	at := map[int64][]byte{}
	if against == nil {
		return at
	}
	for _, c := range against.Checkpoints {
		at[c.Seq] = c.Hash
	}
	at[against.Seq] = against.Hash
	return at
}

// checkTip compares the chain the revisions make, d, with the ledger's
// tip, and reports d as the ledger's digest where they agree.
func checkTip(ctx context.Context, q Querier, d Digest, rep *Report) error {
	tip, err := TakeDigest(ctx, q)
	if err != nil {
		return err
	}
	if tip.Seq != d.Seq || !bytes.Equal(tip.Hash, d.Hash) {
		rep.Broken = &BrokenLink{Seq: d.Seq, Reason: fmt.Sprintf(
			"the ledger's tip says position %d, its revisions chain to position %d with another hash", tip.Seq, d.Seq)}
		return nil
	}
	d.At, d.Horizon = tip.At, tip.Horizon
	rep.Digest = d
	return nil
}
