package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latencies are the sorted durations of a run of operations and the time
// the run took.
type latencies struct {
	each    []time.Duration
	elapsed time.Duration
}

// concurrently runs op n times over clients goroutines, each op numbered
// from 0, and times each. It stops at the first error.
func concurrently(ctx context.Context, clients, n int, op func(n int) error) (latencies, error) {
	var (
		mu    sync.Mutex
		out   latencies
		next  atomic.Int64
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range min(clients, n) {
		wg.Go(func() {
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(n) && ctx.Err() == nil; i = next.Add(1) - 1 {
				t0 := time.Now()
				if err := op(int(i)); err != nil {
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
			out.each = append(out.each, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	slices.Sort(out.each)
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

// rate is operations per second.
func (l latencies) rate() float64 {
	if l.elapsed <= 0 {
		return 0
	}
	return float64(len(l.each)) / l.elapsed.Seconds()
}

// quantile is the duration q of the way up the sorted run.
func (l latencies) quantile(q float64) time.Duration {
	if len(l.each) == 0 {
		return 0
	}
	return l.each[min(len(l.each)-1, int(q*float64(len(l.each))))]
}

// String is the run's median and 99th percentile, in milliseconds.
func (l latencies) String() string {
	return fmt.Sprintf("%.2f / %.2f ms", ms(l.quantile(0.5)), ms(l.quantile(0.99)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
