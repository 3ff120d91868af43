package docid

import (
	"math"
	"testing"
)

func TestNewIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := New()
		if !Valid(id) || seen[id] {
			t.Fatalf("New gave %q (valid %v, seen before %v)", id, Valid(id), seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAA$", "AAAAAAAAAAAAAAAAAAAAAAA", "../../../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAA\n"} {
		if Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

// TestNoDigitIsFavoured checks the last digit, which a byte-at-a-time
// modulo 62 would skew (256 = 4×62 + 8: the first 8 digits 25% likelier):
// over 62,000 ids each of the 62 digits must come up 1,000 ± 15%.
func TestNoDigitIsFavoured(t *testing.T) {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	counts := map[byte]int{}
	const n = 62000
	for range n {
		id := New()
		counts[id[Len-1]]++
	}
	for _, c := range []byte(alphabet) {
		if got := counts[c]; math.Abs(float64(got)-1000) > 150 {
			t.Errorf("digit %q came up %d times in %d ids, want about 1000", c, got, n)
		}
	}
	if len(counts) != 62 {
		t.Errorf("%d distinct last digits, want 62", len(counts))
	}
}
