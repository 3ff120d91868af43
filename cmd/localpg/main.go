// Command localpg runs a throwaway PostgreSQL server on a loopback port, from
// the machine's PostgreSQL packages, and prints its DATABASE_URL, so the
// licence API runs locally on the PostgreSQL engine:
//
//	go run ./cmd/localpg [-port N]
//
// -port chooses the loopback port (default: a free one).
// Its data lives in a temporary directory and is gone when it stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/privateledger/licences/testdouble/localpg"
)

func main() {
	port := flag.Int("port", 0, "the loopback port to listen on (0: a free one)")
	flag.Parse()
	if *port < 0 || *port > 65535 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: localpg [-port N]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := localpg.StartOn(ctx, *port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localpg:", err)
		os.Exit(1)
	}
	fmt.Printf("DATABASE_URL=%s\n", s.URL)
	<-ctx.Done()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "localpg:", err)
		os.Exit(1)
	}
}
