// Command pgverify walks the hash chain of every licence's history in the
// PostgreSQL ledger and names the first broken link:
//
//	DATABASE_URL=postgres://... go run ./cmd/pgverify
//
// It exits 0 when every chain holds, 1 when one is broken or the check
// could not run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/pgstore"
)

func main() {
	os.Exit(run(context.Background(), os.Getenv("DATABASE_URL"), os.Stdout, os.Stderr))
}

func run(ctx context.Context, url string, stdout, stderr io.Writer) int {
	if url == "" {
		fmt.Fprintln(stderr, "pgverify: set DATABASE_URL to the ledger database")
		return 1
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(stderr, "pgverify:", err)
		return 1
	}
	defer func() { _ = conn.Close(ctx) }() // read only: the verdict is known
	broken, checked, err := pgstore.Verify(ctx, conn)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "pgverify:", err)
		return 1
	case broken != nil:
		fmt.Fprintf(stdout, "BROKEN after %d good revisions: %v\n", checked, broken)
		return 1
	}
	fmt.Fprintf(stdout, "ok: %d revisions, every chain holds\n", checked)
	return 0
}
