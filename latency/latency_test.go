package latency

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Every operation runs once, numbered 0 to n-1, from no more clients than
// asked, and each is timed.
func TestMeasureRunsEachOperationOnce(t *testing.T) {
	const clients, n = 4, 1000
	var (
		mu   sync.Mutex
		seen = map[int]int{}
		by   = map[int]bool{}
	)
	s, err := Measure(context.Background(), clients, n, func(c, i int) error {
		mu.Lock()
		defer mu.Unlock()
		seen[i]++
		by[c] = true
		return nil
	})
	if err != nil || len(s.Each) != n || len(seen) != n || len(by) > clients {
		t.Fatalf("%d timed, %d numbers, %d clients, %v; want %d, %d, at most %d", len(s.Each), len(seen), len(by), err, n, n, clients)
	}
	for i, times := range seen {
		if i < 0 || i >= n || times != 1 {
			t.Fatalf("operation %d ran %d times", i, times)
		}
	}
	for i := 1; i < len(s.Each); i++ {
		if s.Each[i] < s.Each[i-1] {
			t.Fatal("the durations are not sorted")
		}
	}
}

// The first error stops the run and is returned.
func TestMeasureStopsAtTheFirstError(t *testing.T) {
	refused := errors.New("refused")
	s, err := Measure(context.Background(), 2, 1000, func(_, i int) error {
		if i == 10 {
			return refused
		}
		return nil
	})
	if !errors.Is(err, refused) || len(s.Each) >= 1000 {
		t.Fatalf("%d timed, %v; want the run stopped with its error", len(s.Each), err)
	}
}

func TestPercentile(t *testing.T) {
	var s Sample
	if s.Percentile(99) != 0 {
		t.Fatal("an empty sample has no percentile")
	}
	for i := range 100 {
		s.Each = append(s.Each, time.Duration(1+i))
	}
	if s.Percentile(50) != 51 || s.Percentile(99) != 100 || s.Percentile(100) != 100 {
		t.Fatalf("p50 %v, p99 %v, p100 %v", s.Percentile(50), s.Percentile(99), s.Percentile(100))
	}
}
