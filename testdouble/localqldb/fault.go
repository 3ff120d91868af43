package localqldb

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
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

// ParseFault reads a fault from its command-line form: comma-separated
// key=value pairs, as in
//
//	command=CommitTransaction,error=OccConflictException,p=0.1
//	command=ExecuteStatement,delay=200ms
//	error=CapacityExceededException,p=0.05,times=10
//
// Keys: command (a SendCommand command; none means every one), error (one
// of the kinds above; none means only delay), delay (a Go duration), p
// (the chance a call is hit, 0 to 1; none means every call) and times (how
// many calls it hits; none means no limit). A fault must fail or delay.
func ParseFault(spec string) (Fault, error) {
	var f Fault
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Fault{}, fmt.Errorf("fault %q: %q is not key=value", spec, kv)
		}
		var err error
		switch k {
		case "command":
			if !slices.Contains(commands, v) {
				return Fault{}, fmt.Errorf("fault %q: command %q: want one of %s", spec, v, strings.Join(commands, ", "))
			}
			f.Command = v
		case "error":
			if !slices.Contains(faultKinds, v) {
				return Fault{}, fmt.Errorf("fault %q: error %q: want one of %s", spec, v, strings.Join(faultKinds, ", "))
			}
			f.Error = v
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		case "p":
			f.Probability, err = strconv.ParseFloat(v, 64)
			if err == nil && (f.Probability <= 0 || f.Probability > 1) {
				err = errors.New("want more than 0 and at most 1")
			}
		case "times":
			f.Times, err = strconv.Atoi(v)
			if err == nil && f.Times < 1 {
				err = errors.New("want at least 1")
			}
		default:
			return Fault{}, fmt.Errorf("fault %q: unknown key %q: want command, error, delay, p or times", spec, k)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %s=%s: %w", spec, k, v, err)
		}
	}
	if f.Error == "" && f.Delay <= 0 {
		return Fault{}, fmt.Errorf("fault %q: give an error, a delay or both", spec)
	}
	return f, nil
}

// faultKinds and commands are what a fault may name.
var (
	faultKinds = []string{OCCConflict, InvalidSession, CapacityExceeded, RateExceeded, InternalFailure}
	commands   = []string{"StartSession", "StartTransaction", "ExecuteStatement", "FetchPage", "CommitTransaction", "AbortTransaction", "EndSession"}
)
