// Command pgfill fills a PostgreSQL ledger to a number of licences through
// the store, as the API writes them, and reports what the ledger costs at
// each size on the way: creates per second while filling, gets, points
// changes and history pages at that size, and verification, full and
// incremental (after the points changes). The README's performance table
// comes from it.
//
//	go run ./cmd/pgfill [-licences N] [-clients C] [-changes K] [-history H]
//
// Without DATABASE_URL it starts a throwaway local PostgreSQL
// (testdouble/localpg), fills a fresh database and removes it all when it
// is done. With DATABASE_URL, the owner's URL of a database that holds no
// ledger yet (one `go run ./cmd/localpg` serves, say), it migrates that
// database, creating the functions' users without passwords, as a local
// server that trusts them needs, and leaves the ledger there for
// `pgverify` and the like. It reports at 1,000, 10,000, … and at N. It exits
// 0 when every write succeeded and every verification held, 1 otherwise,
// 2 on bad usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/privateledger/licences/testdouble/localpg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv("DATABASE_URL"), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// maxClients keeps the clients' connections, and the digest's and the
// owner's, under the local server's max_connections (200).
const maxClients = 128

func run(ctx context.Context, args []string, url string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("pgfill", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var s sizes
	flags.IntVar(&s.licences, "licences", 100000, "fill the ledger to this many licences")
	flags.IntVar(&s.clients, "clients", 8, "write with this many clients at once, each on its own connection")
	flags.IntVar(&s.changes, "changes", 1000, "points changes made at each size, then verified incrementally")
	flags.IntVar(&s.history, "history", 1000, "revisions of the one licence whose history page is timed")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if err := s.check(flags.NArg()); err != nil {
		fmt.Fprintln(stderr, "pgfill:", err)
		return 2
	}
	if url == "" {
		server, err := localpg.Start(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "pgfill: start a local PostgreSQL:", err)
			return 1
		}
		defer func() { _ = server.Stop() }() // its data is thrown away either way
		if url, err = server.CreateDatabase(ctx); err != nil {
			fmt.Fprintln(stderr, "pgfill:", err)
			return 1
		}
	}
	l, err := open(ctx, url, s.clients)
	if err != nil {
		fmt.Fprintln(stderr, "pgfill:", err)
		return 1
	}
	defer l.close()
	if err := fill(ctx, l, s, stdout); err != nil {
		fmt.Fprintln(stderr, "pgfill:", err)
		return 1
	}
	return 0
}

// sizes is what a run fills and measures.
type sizes struct{ licences, clients, changes, history int }

func (s sizes) check(extra int) error {
	switch {
	case extra > 0:
		return fmt.Errorf("unexpected arguments; usage: pgfill [-licences N] [-clients C] [-changes K] [-history H]")
	case s.licences < 1:
		return fmt.Errorf("-licences %d: want at least 1", s.licences)
	case s.clients < 1 || s.clients > maxClients:
		return fmt.Errorf("-clients %d: want 1 to %d", s.clients, maxClients)
	case s.changes < 1:
		return fmt.Errorf("-changes %d: want at least 1", s.changes)
	case s.history < 1:
		return fmt.Errorf("-history %d: want at least 1", s.history)
	}
	return nil
}
