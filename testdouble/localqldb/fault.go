package localqldb

import (
	"net/http"
	"time"
)

// Fault kinds the server can inject, named as QLDB names its errors.
const (
	// OCCConflict fails a CommitTransaction as if another transaction had
	// changed what this one read; nothing is committed.
	OCCConflict = "OccConflictException"
	// InvalidSession ends the session, as QLDB does with idle or expired ones.
	InvalidSession = "InvalidSessionException"
	// CapacityExceeded refuses the call for want of capacity (HTTP 503).
	CapacityExceeded = "CapacityExceededException"
	// RateExceeded refuses the call as throttled.
	RateExceeded = "RateExceededException"
	// InternalFailure fails the call with HTTP 500.
	InternalFailure = "InternalFailure"
)

// Fault makes matching calls fail or wait. A fault applies before the call
// is carried out, so a failed call changes nothing.
type Fault struct {
	// Command limits the fault to one command, such as "CommitTransaction";
	// empty means every command.
	Command string
	// Error is the error to answer with (one of the kinds above); empty
	// means none: the call only waits Delay.
	Error string
	// Delay is how long a matching call waits before it is answered.
	Delay time.Duration
	// Probability is the chance a matching call is hit; 0 means every call.
	Probability float64
	// Times is how many calls it hits before it stops; 0 means no limit.
	Times int
}

// Inject adds a fault. Faults apply in the order added; the first whose
// error hits answers the call.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault applies the faults that match cmd and returns the error to answer
// with, if any.
func (s *Server) fault(cmd string, req *request) error {
	s.mu.Lock()
	var delay time.Duration
	var hit *Fault
	for _, f := range s.faults {
		if f.Command != "" && f.Command != cmd || f.Times < 0 {
			continue
		}
		if f.Probability > 0 && s.rand.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				f.Times = -1 // spent
			}
		}
		delay += f.Delay
		if f.Error != "" && hit == nil {
			hit = f
		}
	}
	if hit != nil && hit.Error == InvalidSession && req.SessionToken != nil {
		delete(s.sessions, *req.SessionToken)
	}
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if hit == nil {
		return nil
	}
	status := http.StatusBadRequest
	switch hit.Error {
	case CapacityExceeded:
		status = http.StatusServiceUnavailable
	case InternalFailure:
		status = http.StatusInternalServerError
	}
	return &apiError{Type: hit.Error, Status: status, Message: "injected fault"}
}
