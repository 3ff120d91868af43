package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// The local server's limits: a client that sends its headers or body too
// slowly, or reads the answer too slowly, is cut off rather than waited on;
// each request's work is bounded by httpapi's own deadline besides.
var localTimeouts = struct {
	readHeader, read, write, idle time.Duration
}{5 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second}

// localServer serves h on addr with the local server's limits.
func localServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: localTimeouts.readHeader,
		ReadTimeout:       localTimeouts.read,
		WriteTimeout:      localTimeouts.write,
		IdleTimeout:       localTimeouts.idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveLocally migrates the ledger and serves the API over plain HTTP until
// interrupted.
func serveLocally(ctx context.Context, log *slog.Logger, migrate migrateFunc, api http.Handler, addr string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The address first: a port already taken (or a bad address) is
	// reported before the ledger is touched.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", addr, err)
	}
	defer func() { _ = ln.Close() }()
	m, err := migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	b, _ := json.Marshal(m)
	log.Info("migrated", "migration", string(b))
	srv := localServer(addr, api)
	go func() {
		<-ctx.Done()
		// ctx is done: shutting down gets a context of its own.
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "error", err)
		}
	}()
	log.Info("serving the licence API", "addr", "http://"+addr)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
