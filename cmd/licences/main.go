// Command licences calls the licence API: a deployed stage's, signed with
// AWS Signature Version 4 from the default credential chain, or the local
// server's, unsigned.
//
//	go run ./cmd/licences create --stage dev --first-name Jo --last-name Bloggs \
//	    --email jo@example.com --telephone '07700 900123' --postcode 'SW1A 1AA'
//	go run ./cmd/licences history --url http://127.0.0.1:8080 --all J1ksizaGe7X1M87b5HKExk
//
// Every answer is printed as JSON on standard output. While the API asks
// to wait (503 with Retry-After) it says so on standard error and waits,
// within --timeout. The exit status says how it went: 0 done, 1 it could
// not start (no stage outputs, no credentials), 2 a usage error, 3 the API
// refused the request (4xx), 4 the API was unavailable (5xx, or no
// answer).
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(cli{stdout: os.Stdout, stderr: os.Stderr, apiURL: stageURL}.run(ctx, os.Args[1:]))
}
