package qldbstore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/qldbsession"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"
)

// Config says which ledger to use and how to reach it.
type Config struct {
	// LedgerName is the ledger's name.
	LedgerName string
	// Endpoint, when set, replaces the QLDB session endpoint: a local
	// ledger such as `go run ./cmd/localqldb`. The store then signs
	// with the local ledger's credentials (localqldb.AccessKeyID).
	Endpoint string
	// MaxRetries bounds the driver's retries of one transaction. Zero means
	// DefaultMaxRetries.
	MaxRetries int
	// Concurrency bounds the transactions in flight (the driver's sessions).
	// Zero means DefaultConcurrency.
	Concurrency int
}

// DefaultConcurrency is the driver's own default limit on transactions in
// flight: a Lambda instance serves one request at a time, a local server
// many.
const DefaultConcurrency = 50

// DefaultMaxRetries with the backoff below keeps a transaction's retries
// under a second of waiting: well inside the API function's timeout.
const DefaultMaxRetries = 4

// Open connects a Store to the ledger. The driver it makes keeps a pool of
// sessions: open one Store per process and reuse it.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.LedgerName == "" {
		return nil, fmt.Errorf("open ledger: no ledger name")
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Endpoint != "" {
		opts = append(opts,
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
			config.WithDefaultRegion("local"))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open ledger: load aws config: %w", err)
	}
	client := qldbsession.NewFromConfig(awsCfg, func(o *qldbsession.Options) {
		if cfg.Endpoint != "" {
			o.EndpointResolver = qldbsession.EndpointResolverFromURL(cfg.Endpoint)
		}
	})
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	driver, err := newDriver(client, cfg.LedgerName, cfg.MaxRetries, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	return New(driver, cfg.Concurrency), nil
}

// newDriver returns the official driver on client with the store's retry
// policy: exponential backoff from 10 ms, capped at 300 ms.
func newDriver(client *qldbsession.Client, ledgerName string, maxRetries, concurrency int) (*qldbdriver.QLDBDriver, error) {
	if maxRetries <= 0 {
		maxRetries = DefaultMaxRetries
	}
	d, err := qldbdriver.New(ledgerName, client, func(o *qldbdriver.DriverOptions) {
		o.RetryPolicy = qldbdriver.RetryPolicy{
			MaxRetryLimit: maxRetries,
			Backoff:       qldbdriver.ExponentialBackoffStrategy{SleepBase: 10 * time.Millisecond, SleepCap: 300 * time.Millisecond},
		}
		o.LoggerVerbosity = qldbdriver.LogOff
		o.MaxConcurrentTransactions = concurrency
	})
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	return d, nil
}

// Close ends the driver's sessions.
func (s *Store) Close(ctx context.Context) { s.driver.Shutdown(ctx) }
