package qldbstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go"
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
	"OccConflictException":      retryAfterOCC,
	"InvalidSessionException":   time.Second,
	"CapacityExceededException": 2 * time.Second,
	"RateExceededException":     2 * time.Second,
	"LimitExceededException":    2 * time.Second,
	"InternalFailure":           time.Second,
	"ServiceUnavailable":        2 * time.Second,
}

// execute runs fn as one transaction, retrying throttling, and turns what
// the ledger answers into the store's errors.
func (s *Store) execute(ctx context.Context, fn func(qldbdriver.Transaction) (any, error)) (any, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.driver.Execute(ctx, fn)
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
		return nil, classify(err)
	}
}

func isThrottle(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "CapacityExceededException" || api.ErrorCode() == "RateExceededException")
}

// classify keeps the domain's errors, marks those that mean "try again
// later" as licence.UnavailableError, and wraps the rest.
func classify(err error) error {
	for _, domain := range []error{licence.ErrNotFound, licence.ErrEmailTaken, licence.ErrKeyReused} {
		if errors.Is(err, domain) {
			return err
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if after, ok := unavailable[api.ErrorCode()]; ok {
			return &licence.UnavailableError{RetryAfter: after, Err: err}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &licence.UnavailableError{RetryAfter: time.Second, Err: err}
	}
	return fmt.Errorf("ledger: %w", err)
}
