package localqldb

import (
	"strings"
	"testing"
	"time"
)

func TestParseFault(t *testing.T) {
	for spec, want := range map[string]Fault{
		"command=CommitTransaction,error=OccConflictException,p=0.1": {Command: "CommitTransaction", Error: OCCConflict, Probability: 0.1},
		"command=ExecuteStatement,delay=200ms":                       {Command: "ExecuteStatement", Delay: 200 * time.Millisecond},
		"error=CapacityExceededException,p=0.05,times=10":            {Error: CapacityExceeded, Probability: 0.05, Times: 10},
	} {
		got, err := ParseFault(spec)
		if err != nil || got != want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for spec, words := range map[string]string{
		"command=Commit,error=OccConflictException": "command \"Commit\"",
		"error=Boom":                      "error \"Boom\"",
		"error=InternalFailure,p=2":       "p=2",
		"command=StartTransaction":        "an error, a delay or both",
		"error=InternalFailure,times=0":   "times=0",
		"error=InternalFailure,often=yes": "unknown key",
		"delay":                           "key=value",
	} {
		if _, err := ParseFault(spec); err == nil || !strings.Contains(err.Error(), words) {
			t.Errorf("ParseFault(%q) = %v, want an error naming %q", spec, err, words)
		}
	}
}
