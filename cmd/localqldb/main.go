// Command localqldb runs a local stand-in for Amazon QLDB's session service
// on a loopback port, so the licence API runs end to end on one machine:
//
//	go run ./cmd/localqldb -addr 127.0.0.1:8811 -ledger licences-local
//
// Point the handler at it with QLDB_SESSION_ENDPOINT=http://127.0.0.1:8811.
// The ledger lives in memory and is gone when the process ends.
//
// To run the API against a misbehaving ledger, give faults, each as
// comma-separated key=value pairs (see localqldb.ParseFault):
//
//	go run ./cmd/localqldb -fault command=CommitTransaction,error=OccConflictException,p=0.2 \
//	    -fault command=ExecuteStatement,delay=300ms,p=0.1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/privateledger/licences/testdouble/localqldb"
)

// faults is the repeatable -fault flag.
type faults []localqldb.Fault

func (f *faults) String() string { return fmt.Sprint(*f) }

func (f *faults) Set(spec string) error {
	fault, err := localqldb.ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

func main() {
	var fs faults
	addr := flag.String("addr", "127.0.0.1:8811", "address to listen on")
	ledger := flag.String("ledger", "licences-local", "the ledger's name")
	seed := flag.Int64("seed", 1, "seed of the faults' randomness, so a run repeats")
	redaction := flag.Duration("redaction-delay", 0, "how long a redaction takes to complete after its commit")
	flag.Var(&fs, "fault", "a fault to inject, as key=value pairs: command, error, delay, p, times (repeatable)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	srv := localqldb.New(localqldb.Options{LedgerName: *ledger, Seed: *seed, RedactionDelay: *redaction})
	for _, f := range fs {
		srv.Inject(f)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Addr: *addr, Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "error", err)
		}
	}()
	log.Info("local QLDB session service", "addr", "http://"+*addr, "ledger", *ledger, "faults", len(fs))
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err)
		os.Exit(1)
	}
}
