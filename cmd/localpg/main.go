// Command localpg runs a throwaway PostgreSQL server on a loopback port, from
// the machine's PostgreSQL packages, and prints its DATABASE_URL, so the
// licence API runs locally on the PostgreSQL engine:
//
//	go run ./cmd/localpg
//
// Its data lives in a temporary directory and is gone when it stops.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/privateledger/licences/testdouble/localpg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := localpg.Start(ctx)
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
