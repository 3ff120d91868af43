package licence

import (
	"strings"
	"testing"
	"time"
)

// Every change the domain makes follows from the licence before it; a
// licence that differs anywhere else, or points that do not add up, does
// not.
func TestFollowsIsWhatTheDomainDoes(t *testing.T) {
	at, by := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Actor{Principal: "clerk"}
	l := New("id", Application{FirstName: "Jo", LastName: "Bloggs", Email: "jo@example.com", Telephone: "07700900123", Postcode: "SW1A 1AA"}, at, by)
	if err := Follows(nil, l, *l.LastEvent); err != nil {
		t.Fatalf("creation: %v", err)
	}
	steps := []func(*Licence){
		func(l *Licence) { l.ChangePoints(PointsChange{Points: 6, Reason: "speeding"}, at, by) },
		func(l *Licence) { l.ChangePoints(PointsChange{Points: -2, Reason: "course"}, at, by) },
		func(l *Licence) { l.ChangePoints(PointsChange{Points: -9, Reason: "appeal"}, at, by) },
		func(l *Licence) {
			tel := "07700900777"
			l.ChangeContact(ContactChange{Telephone: &tel}, at, by)
		},
	}
	for i, step := range steps {
		prev := l
		step(&l)
		if err := Follows(&prev, l, *l.LastEvent); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	prev := l
	l.ChangePoints(PointsChange{Points: 1, Reason: "speeding"}, at, by)
	for name, tc := range map[string]struct {
		next Licence
		ev   Event
	}{
		"points changed with no revision before": {func() Licence { n := l; n.PenaltyPoints = 6; return n }(), *l.LastEvent},
		"a name changed by a points change":      {func() Licence { n := l; n.FirstName = "Al"; return n }(), *l.LastEvent},
		"more removed than held":                 {func() Licence { n := prev; return n }(), Event{Kind: PenaltyPointsRemoved, Points: prev.PenaltyPoints + 1}},
		"a contact change that moves points":     {func() Licence { n := l; return n }(), Event{Kind: ContactUpdated}},
		"an unknown event":                       {l, Event{Kind: "LicenceRenamed"}},
		"made twice":                             {l, Event{Kind: Created}},
	} {
		if err := Follows(&prev, tc.next, tc.ev); err == nil {
			t.Errorf("%s: follows, want an error", name)
		}
	}
	if err := Follows(nil, l, Event{Kind: PenaltyPointsAdded, Points: 1}); err == nil || !strings.Contains(err.Error(), "before the licence was made") {
		t.Errorf("a change before creation: %v", err)
	}
}
