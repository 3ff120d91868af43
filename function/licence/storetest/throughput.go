package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// ConcurrentWrites measures creates and points changes per second, and
// their p50 and p99, with 1, 8, 32 and 128 clients writing at once, each
// on a fresh store from open: the write ceiling of an engine. A write
// answered "unavailable" is sent again, and counted (503s/op).
func ConcurrentWrites(b *testing.B, open func(b *testing.B) licence.Store) {
	for _, clients := range []int{1, 8, 32, 128} {
		for _, op := range []string{"create", "points"} {
			b.Run(fmt.Sprintf("%s/clients=%d", op, clients), func(b *testing.B) {
				s := open(b)
				ids := make([]string, clients)
				for i := range ids {
					ids[i] = Create(b, s, fmt.Sprintf("writer%d@example.com", i), "").ID
				}
				b.ResetTimer()
				latencies, elapsed := drive(b, clients, func(c int, n int64) error {
					ctx := context.Background()
					if op == "create" {
						app := licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: fmt.Sprintf("c%d-%d@example.com", c, n),
							Telephone: "07700900123", Postcode: "SW1A 1AA"}
						_, _, err := s.Create(ctx, licence.New("", app, At, Clerk), licence.IdempotencyKey{})
						return err
					}
					_, err := s.Update(ctx, ids[c], func(l *licence.Licence) {
						l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, At, Clerk)
					})
					return err
				})
				if len(latencies) == 0 {
					return
				}
				b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "writes/s")
				b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

// drive runs b.N writes over clients goroutines and returns each write's
// latency, sorted, and the time all took.
func drive(b *testing.B, clients int, write func(client int, n int64) error) ([]time.Duration, time.Duration) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		next      atomic.Int64
		refused   atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				t0 := time.Now()
				// A write answered "unavailable" (the store's 503) is sent
				// again, as a client does, and its latency runs from the
				// first attempt.
				err := write(c, n)
				for ; unavailable(err); err = write(c, n) {
					refused.Add(1)
				}
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	b.ReportMetric(float64(refused.Load())/float64(b.N), "503s/op")
	return latencies, elapsed
}
