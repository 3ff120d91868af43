package qldbstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
)

// Throttling: the driver retries OCC conflicts, invalid sessions and
// internal errors itself, but not QLDB's capacity and rate errors, so the
// store retries those a few times, within the request's deadline.
const (
	throttleRetries = 3
	throttleBackoff = 50 * time.Millisecond
)

// unavailable lists the QLDB error codes that mean "not now": the request
// may succeed if sent again later.
var unavailable = map[string]time.Duration{
	"OccConflictException":      time.Second,
	"InvalidSessionException":   time.Second,
	"CapacityExceededException": 2 * time.Second,
	"RateExceededException":     2 * time.Second,
	"LimitExceededException":    2 * time.Second,
	"InternalFailure":           time.Second,
	"ServiceUnavailable":        2 * time.Second,
}

// execute runs fn as one transaction once a slot is free, retrying
// throttling, and turns what the ledger answers into the store's errors. A
// commit once sent is waited for (commitGuard).
func (s *Store) execute(ctx context.Context, fn func(qldbdriver.Transaction) (any, error)) (any, error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, &licence.UnavailableError{RetryAfter: time.Second, Err: fmt.Errorf("every ledger session is busy: %w", ctx.Err())}
	}
	for attempt := 0; ; attempt++ {
		g := guardCommits(ctx)
		out, err := s.driver.Execute(g.ctx, g.attempt(fn))
		g.release()
		if err == nil {
			return out, nil
		}
		if attempt < throttleRetries && isThrottle(err) {
			select {
			case <-time.After(throttleBackoff << attempt):
				continue
			case <-ctx.Done():
			}
		}
		return nil, classify(ctx, err)
	}
}

func isThrottle(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "CapacityExceededException" || api.ErrorCode() == "RateExceededException")
}

// classify keeps the domain's errors, marks those that mean "try again
// later" as licence.UnavailableError, and wraps the rest.
//
// "Try again later" covers the ledger unreachable (the request was never
// sent, or its connection failed: the SDK has already retried), the
// request's deadline or cancellation (which surfaces from the SDK as a
// failure to read the response from a connection it closed), and the
// driver's own limit on transactions in flight.
func classify(ctx context.Context, err error) error {
	for _, domain := range []error{licence.ErrNotFound, licence.ErrEmailTaken, licence.ErrKeyReused, licence.ErrStillLive} {
		if errors.Is(err, domain) {
			return err
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if after, ok := unavailable[api.ErrorCode()]; ok {
			return &licence.UnavailableError{RetryAfter: after, Err: err}
		}
		return fmt.Errorf("ledger: %w", err)
	}
	var (
		send *smithyhttp.RequestSendError
		nerr net.Error
	)
	switch {
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, net.ErrClosed):
		return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
	case errors.As(err, &send), errors.As(err, &nerr):
		return &licence.UnavailableError{RetryAfter: 2 * time.Second, Err: err}
	case strings.Contains(err.Error(), "MaxConcurrentTransactions limit exceeded"):
		// The driver's error type is unexported; its slots and the
		// store's are the same number, so this is a race at the edge.
		return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
	}
	return fmt.Errorf("ledger: %w", err)
}
