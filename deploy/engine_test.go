package deploy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// autoLike is an error as the Automation API returns one: the engine's
// verdict, wrapped with everything the engine printed.
type autoLike struct {
	err            error
	stdout, stderr string
}

func (e autoLike) Error() string {
	return fmt.Sprintf("%s\ncode: 255\nstdout: %s\nstderr: %s\n", e.err, e.stdout, e.stderr)
}
func (e autoLike) Unwrap() error { return e.err }

// What the engine printed is printed once: where it was streamed to
// Progress, the error holds the verdict alone, and still unwraps to the
// whole.
func TestEngineOutputIsPrintedOnce(t *testing.T) {
	verdict := errors.New("failed to run update: exit status 255")
	failure := autoLike{verdict, "Updating (dev):\n  error: the preflight refused", "error: update failed"}
	streamed := engineError("up", failure, true)
	if got := streamed.Error(); strings.Contains(got, "the preflight refused") || strings.Contains(got, "update failed") || !strings.Contains(got, verdict.Error()) {
		t.Errorf("streamed: %q, want the verdict alone", got)
	}
	if !errors.Is(streamed, verdict) || !errors.As(streamed, new(autoLike)) {
		t.Errorf("streamed: %v does not unwrap to the engine's error", streamed)
	}
	if got := engineError("up", failure, false).Error(); !strings.Contains(got, "the preflight refused") {
		t.Errorf("not streamed: %q, want the engine's output kept", got)
	}
}
