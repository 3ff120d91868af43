// Command pgverify checks the PostgreSQL ledger (pgstore.Verify): every
// licence's hash chain, every live licence against the head of its chain,
// and the ledger's chain in commit order, and names the first place that
// does not hold.
//
//	DATABASE_URL=postgres://... go run ./cmd/pgverify [-digest FILE [-since]] [-digest-out FILE]
//
// With -digest it also checks that the ledger still matches a digest
// written before, up to the digest's position: revisions deleted, inserted
// or rewritten and re-hashed since then fail. With -since as well it
// verifies only what changed since that digest (pgstore.VerifySince), as
// the digest function's scheduled runs do. With -digest-out it writes
// the ledger's digest, once verified, to FILE. It exits 0 when all holds,
// 1 when something is broken or the check could not run, 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/pgstore"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv("DATABASE_URL"), os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, url string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("pgverify", flag.ContinueOnError)
	flags.SetOutput(stderr)
	digestIn := flags.String("digest", "", "check the ledger against the digest in this file")
	digestOut := flags.String("digest-out", "", "write the verified ledger's digest to this file")
	since := flags.Bool("since", false, "with -digest: verify only what changed since that digest")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *since && *digestIn == "" {
		fmt.Fprintln(stderr, "pgverify: -since needs -digest, the digest to verify what changed since")
		return 2
	}
	if url == "" {
		fmt.Fprintln(stderr, "pgverify: set DATABASE_URL to the ledger database")
		return 2
	}
	var against *pgstore.Digest
	if *digestIn != "" {
		d, err := readDigest(*digestIn)
		if err != nil {
			fmt.Fprintln(stderr, "pgverify:", err)
			return 1
		}
		against = &d
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(stderr, "pgverify:", err)
		return 1
	}
	defer func() { _ = conn.Close(ctx) }() // read only: the verdict is known
	verify := pgstore.Verify
	if *since {
		verify = func(ctx context.Context, db pgstore.Beginner, against *pgstore.Digest) (pgstore.Report, error) {
			return pgstore.VerifySince(ctx, db, *against)
		}
	}
	rep, err := verify(ctx, conn, against)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "pgverify:", err)
		return 1
	case rep.Broken != nil:
		fmt.Fprintf(stdout, "BROKEN after %d good revisions: %v\n", rep.Revisions, rep.Broken)
		return 1
	}
	what := "every chain holds"
	if *since {
		what = "every chain changed since the digest holds"
	}
	fmt.Fprintf(stdout, "ok: %d revisions (%d redacted) of %d licences (%d live), %d erasure%s, %s; the ledger is at position %d (%d rows read)\n",
		rep.Revisions, rep.Redacted, rep.Licences, rep.Live, rep.Erasures, plural(rep.Erasures), what, rep.Digest.Seq, rep.Read)
	if against != nil {
		fmt.Fprintf(stdout, "ok: it matches the digest of %s at position %d\n", against.At.Format("2006-01-02T15:04:05Z"), against.Seq)
	}
	if *digestOut != "" {
		if err := writeDigest(*digestOut, rep.Digest); err != nil {
			fmt.Fprintln(stderr, "pgverify:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote the digest to %s\n", *digestOut)
	}
	return 0
}

func readDigest(path string) (pgstore.Digest, error) {
	var d pgstore.Digest
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file
	if err != nil {
		return d, fmt.Errorf("read digest: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("read digest %s: %w", path, err)
	}
	if d.Seq < 0 || (d.Seq > 0 && len(d.Hash) == 0) {
		return d, errors.New("read digest " + path + ": it holds no position and hash")
	}
	return d, nil
}

func writeDigest(path string, d pgstore.Digest) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write digest: %w", err)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
