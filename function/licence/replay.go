package licence

import "fmt"

// Follows says whether next is what prev becomes when ev is applied, by the
// rules this package applies to a change (New, ChangeContact,
// ChangePoints): nil when it is, an error naming what differs when not. A
// nil prev is a licence not yet made. Verifiers replay a history with it,
// so a revision written behind the domain's back (a live row changed with
// no revision, a revision that does not follow from the one before) shows
// though every hash holds.
func Follows(prev *Licence, next Licence, ev Event) error {
	next.LastEvent = nil
	if ev.Kind == Created {
		switch {
		case prev != nil:
			return fmt.Errorf("a licence made again after version 0")
		case next.PenaltyPoints != 0:
			return fmt.Errorf("a new licence with %d penalty points", next.PenaltyPoints)
		}
		return nil
	}
	if prev == nil {
		return fmt.Errorf("a %s before the licence was made", ev.Kind)
	}
	want := *prev
	want.LastEvent = nil
	switch ev.Kind {
	case ContactUpdated:
		want.Telephone, want.Postcode = next.Telephone, next.Postcode
	case PenaltyPointsAdded:
		if ev.Points < 0 {
			return fmt.Errorf("%s of %d points", ev.Kind, ev.Points)
		}
		want.PenaltyPoints += ev.Points
	case PenaltyPointsRemoved:
		if ev.Points < 0 || ev.Points > prev.PenaltyPoints {
			return fmt.Errorf("%s of %d points from %d", ev.Kind, ev.Points, prev.PenaltyPoints)
		}
		want.PenaltyPoints -= ev.Points
	default:
		return fmt.Errorf("an event of kind %q changes no licence", ev.Kind)
	}
	if want != next {
		return fmt.Errorf("%s leaves %+v, not %+v", ev.Kind, want, next)
	}
	return nil
}
