package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/licence"
)

// The largest licences the limits allow are valid, and as JSON, with an
// idempotency key and a request hash beside them, stay under half the
// bound.
func TestLargestIsValidAndUnderTheBound(t *testing.T) {
	for _, l := range Largest() {
		a := licence.Application{FirstName: l.FirstName, LastName: l.LastName, Email: l.Email, Telephone: l.Telephone, Postcode: l.Postcode}
		if err := a.Validate(); err != nil {
			t.Fatalf("largest licence is invalid: %v", err)
		}
		if err := (licence.PointsChange{Points: 12, Reason: l.LastEvent.Reason}).Validate(); err != nil {
			t.Fatalf("largest reason is invalid: %v", err)
		}
		if _, err := licence.ActorOf(l.LastEvent.Actor.Principal); err != nil {
			t.Fatalf("largest actor is invalid: %v", err)
		}
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		size := len(b) + 255 + 64
		t.Logf("largest licence: %d bytes of JSON with key and hash (bound %d)", size, licence.MaxDocumentBytes)
		if size > licence.MaxDocumentBytes/2 {
			t.Errorf("largest licence is %d bytes of JSON with its key and hash, want at most %d", size, licence.MaxDocumentBytes/2)
		}
	}
}

// A history revision of the largest licence, licence, event and actor
// together, is under the bound too: a page of 100 stays under 100 times
// it, as the README promises.
func TestTheLargestRevisionIsUnderTheBound(t *testing.T) {
	for _, l := range Largest() {
		e := l.LastEvent
		l.LastEvent = nil
		b, err := json.Marshal(licence.Revision{Version: 1 << 30, TransactionID: "SQt0Mzy2mAOb9bBGBQ70e5", Hash: strings.Repeat("h", 44), Actor: &e.Actor, Event: e, Licence: &l})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("largest revision: %d bytes of JSON", len(b))
		if len(b) > licence.MaxDocumentBytes {
			t.Errorf("the largest revision is %d bytes of JSON, over %d", len(b), licence.MaxDocumentBytes)
		}
	}
}
