package httpapi

import (
	"testing"

	"github.com/privateledger/licences/function/route"
)

// Every route the stack deploys has its code in the handler: the one route
// table (function/route) is the only list of them.
func TestEveryRouteHasItsCode(t *testing.T) {
	a := &api{}
	for _, r := range route.Routes() {
		if _, ok := a.handler(r.Operation); !ok {
			t.Errorf("%s (%s) has no code in the handler", r.Pattern(), r.Operation)
		}
	}
	if _, ok := a.handler("rename"); ok {
		t.Error("an unknown operation has code")
	}
}
