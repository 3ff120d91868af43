package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/privateledger/licences/function/licence"
	"github.com/privateledger/licences/latency"
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
				// A write answered "unavailable" (the store's 503) is sent
				// again, as a client does, and its latency runs from the
				// first attempt.
				var refused atomic.Int64
				sample, err := latency.Measure(context.Background(), clients, b.N, func(c, n int) error {
					err := write(s, op, ids[c], c, n)
					for ; unavailable(err); err = write(s, op, ids[c], c, n) {
						refused.Add(1)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(refused.Load())/float64(b.N), "503s/op")
				b.ReportMetric(sample.Rate(), "writes/s")
				b.ReportMetric(latency.Milliseconds(sample.Percentile(50)), "p50-ms")
				b.ReportMetric(latency.Milliseconds(sample.Percentile(99)), "p99-ms")
			})
		}
	}
}

// write makes one write of the kind op names: a create, numbered c and n
// so its email is its own, or a points change to the client's licence id.
func write(s licence.Store, op, id string, c, n int) error {
	ctx := context.Background()
	if op == "create" {
		app := licence.Application{FirstName: "Jo", LastName: "Bloggs", Email: fmt.Sprintf("c%d-%d@example.com", c, n),
			Telephone: "07700900123", Postcode: "SW1A 1AA"}
		_, _, err := s.Create(ctx, licence.New("", app, At, Clerk), licence.IdempotencyKey{})
		return err
	}
	_, err := s.Update(ctx, id, func(l *licence.Licence) {
		l.ChangePoints(licence.PointsChange{Points: 1, Reason: "x"}, At, Clerk)
	})
	return err
}
