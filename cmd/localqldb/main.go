// Command localqldb runs a local stand-in for Amazon QLDB's session service
// on a loopback port, so the licence API runs end to end on one machine:
//
//	go run ./cmd/localqldb -addr 127.0.0.1:8811 -ledger licences-local
//
// Point the handler at it with QLDB_SESSION_ENDPOINT=http://127.0.0.1:8811.
// The ledger lives in memory and is gone when the process ends.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/privateledger/licences/testdouble/localqldb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8811", "address to listen on")
	ledger := flag.String("ledger", "licences-local", "the ledger's name")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: localqldb.New(localqldb.Options{LedgerName: *ledger}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "error", err)
		}
	}()
	log.Info("local QLDB session service", "addr", "http://"+*addr, "ledger", *ledger)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err)
		os.Exit(1)
	}
}
