// Package latency runs an operation many times from several clients at
// once and keeps what each run took: the load runs of the benchmarks and
// of cmd/pgfill.
package latency

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is the sorted durations of a run's operations and the time the
// whole run took.
type Sample struct {
	Each    []time.Duration
	Elapsed time.Duration
}

// Measure runs op n times over clients goroutines (op is told its client,
// 0 to clients-1, and its number, 0 to n-1) and times each. It stops at the
// first error and returns it, with what was timed until then.
func Measure(ctx context.Context, clients, n int, op func(client, i int) error) (Sample, error) {
	var (
		mu    sync.Mutex
		out   Sample
		next  atomic.Int64
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for c := range min(clients, n) {
		wg.Go(func() {
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(n) && ctx.Err() == nil; i = next.Add(1) - 1 {
				t0 := time.Now()
				if err := op(c, int(i)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // the others stop too
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			out.Each = append(out.Each, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	slices.Sort(out.Each)
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

// Rate is operations per second.
func (s Sample) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.Each)) / s.Elapsed.Seconds()
}

// Percentile is the duration p per cent of the way up the sorted run; 0
// when nothing was timed.
func (s Sample) Percentile(p int) time.Duration {
	if len(s.Each) == 0 {
		return 0
	}
	return s.Each[min(len(s.Each)-1, len(s.Each)*p/100)]
}

// Milliseconds is d in milliseconds, to the microsecond.
func Milliseconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// String is the run's median and 99th percentile, in milliseconds.
func (s Sample) String() string {
	return fmt.Sprintf("%.2f / %.2f ms", Milliseconds(s.Percentile(50)), Milliseconds(s.Percentile(99)))
}
