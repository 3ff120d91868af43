package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/privateledger/licences/function/digeststore"
	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/pgstore"
)

// ledgerDigest is the PostgreSQL ledger as the digest reads it.
type ledgerDigest interface {
	pgstore.Beginner
}

// DigestKey is the object the digest function keeps the ledger's digest
// in (see digeststore).
const DigestKey = digeststore.Key

// digestResult is what a run of the digest function answers.
type digestResult struct {
	Verified  bool `json:"verified"`
	Revisions int  `json:"revisions"`
	Redacted  int  `json:"redacted"`
	Erasures  int  `json:"erasures"`
	// Full says the run verified the whole ledger; otherwise what changed
	// since the previous digest. Read is how many rows it read.
	Full      bool   `json:"full"`
	Read      int    `json:"read"`
	Position  int64  `json:"position"`
	Previous  int64  `json:"previous"`
	VersionID string `json:"versionId,omitempty"`
}

// digestHandler verifies the ledger against the newest digest in the
// bucket, publishes the verdict as a metric, and, only when it holds,
// writes the new digest. A broken ledger fails the invocation and writes
// nothing, so the last good digest stays the newest.
func digestHandler(ctx context.Context, cfg env.Config, db ledgerDigest, log *slog.Logger) (func(context.Context, json.RawMessage) (digestResult, error), error) {
	if cfg.DigestBucket == "" {
		return nil, fmt.Errorf("%s is not set: the digest function needs its bucket", env.DigestBucket)
	}
	store, err := digeststore.Open(ctx, cfg.DigestBucket, cfg.S3Endpoint)
	if err != nil {
		return nil, fmt.Errorf("digest bucket: %w", err)
	}
	metrics := emf{namespace: MetricsNamespace(cfg.Stage), out: os.Stdout}
	// The scheduler's input ({}) asks for a run that verifies what changed
	// since the newest digest (pgstore.VerifySince), so its cost follows
	// the changes; {"full": true}, by hand or on a slower schedule, verifies
	// the whole ledger against it.
	return func(ctx context.Context, event json.RawMessage) (digestResult, error) {
		var ask struct {
			Full bool `json:"full"`
		}
		if len(event) > 0 {
			if err := json.Unmarshal(event, &ask); err != nil {
				return digestResult{}, fmt.Errorf("the event is not {} or {\"full\": true}: %w", err)
			}
		}
		previous, err := store.Newest(ctx)
		if err != nil {
			return digestResult{}, err
		}
		var rep pgstore.Report
		if previous != nil && !ask.Full {
			rep, err = pgstore.VerifySince(ctx, db, *previous)
		} else {
			rep, err = pgstore.Verify(ctx, db, previous)
		}
		if err != nil {
			return digestResult{}, fmt.Errorf("verify the ledger: %w", err)
		}
		res := digestResult{Verified: rep.Broken == nil, Full: previous == nil || ask.Full, Revisions: rep.Revisions, Redacted: rep.Redacted,
			Erasures: rep.Erasures, Read: rep.Read, Position: rep.Digest.Seq}
		if previous != nil {
			res.Previous = previous.Seq
		}
		metrics.publish(map[string]float64{"LedgerVerified": b2f(res.Verified), "LedgerRevisions": float64(rep.Revisions), "LedgerRedacted": float64(rep.Redacted)})
		if rep.Broken != nil {
			log.ErrorContext(ctx, "the ledger does not verify", "broken", rep.Broken.Error())
			return res, fmt.Errorf("the ledger does not verify: %w", rep.Broken)
		}
		if res.VersionID, err = store.Put(ctx, rep.Digest); err != nil {
			return res, err
		}
		log.InfoContext(ctx, "ledger verified and digest written", "result", res)
		return res, nil
	}, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MetricsNamespace is where a stage's own metrics go: the digest's, and
// those the stack's metric filters count (infra's metricsNamespace).
func MetricsNamespace(stage string) string { return "Licences/" + stage }

// emf writes metrics in CloudWatch's embedded metric format: a log line
// CloudWatch Logs turns into metrics, so the function needs no endpoint or
// permission to publish them. They have no dimensions: the namespace is
// the stage's.
type emf struct {
	namespace string
	out       io.Writer
}

func (e emf) publish(values map[string]float64) {
	names := make([]map[string]string, 0, len(values))
	line := map[string]any{}
	for name, v := range values {
		names = append(names, map[string]string{"Name": name, "Unit": "Count"})
		line[name] = v
	}
	line["_aws"] = map[string]any{
		"Timestamp": time.Now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace": e.namespace, "Dimensions": [][]string{{}}, "Metrics": names,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // a map of strings and numbers always marshals
	}
	_, _ = fmt.Fprintln(e.out, string(b)) // stdout is the log: nowhere else to report it
}
