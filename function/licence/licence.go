// Package licence is the domain: a driving licence, its holder's details,
// its penalty points and the events that changed them, with the rules that
// keep them valid. It knows nothing of HTTP, Lambda or the ledger.
package licence

import "time"

// Licence is the current state of one licence.
type Licence struct {
	ID            string  `json:"id"`
	FirstName     string  `json:"firstName"`
	LastName      string  `json:"lastName"`
	Email         string  `json:"email"`
	Telephone     string  `json:"telephone"`
	Postcode      string  `json:"postcode"`
	PenaltyPoints int     `json:"penaltyPoints"`
	Events        []Event `json:"events"`
}

// Event kinds, as kept on the document.
const (
	Created              = "LicenceCreated"
	ContactUpdated       = "ContactUpdated"
	PenaltyPointsAdded   = "PenaltyPointsAdded"
	PenaltyPointsRemoved = "PenaltyPointsRemoved"
)

// Event is one change to a licence, kept on the document so its story
// travels with it (the ledger's history keeps every revision besides).
type Event struct {
	Kind        string    `json:"kind"`
	Description string    `json:"description,omitempty"`
	Points      int       `json:"points,omitempty"`
	At          time.Time `json:"at"`
}

// New returns a licence for an application that Validate accepted.
func New(id string, a Application, at time.Time) Licence {
	a = a.normalised()
	return Licence{
		ID:        id,
		FirstName: a.FirstName,
		LastName:  a.LastName,
		Email:     a.Email,
		Telephone: a.Telephone,
		Postcode:  a.Postcode,
		Events:    []Event{{Kind: Created, At: at}},
	}
}

// ChangeContact applies a contact change that Validate accepted.
func (l *Licence) ChangeContact(c ContactChange, at time.Time) {
	c = c.normalised()
	if c.Telephone != nil {
		l.Telephone = *c.Telephone
	}
	if c.Postcode != nil {
		l.Postcode = *c.Postcode
	}
	l.Events = append(l.Events, Event{Kind: ContactUpdated, At: at})
}

// ChangePoints applies a points change that Validate accepted. Points never
// go below zero: removing more than the licence holds removes what it holds,
// and the event records the points actually removed.
func (l *Licence) ChangePoints(c PointsChange, at time.Time) {
	points := c.Points
	if l.PenaltyPoints+points < 0 {
		points = -l.PenaltyPoints
	}
	l.PenaltyPoints += points
	kind := PenaltyPointsAdded
	if c.Points < 0 {
		kind = PenaltyPointsRemoved
	}
	l.Events = append(l.Events, Event{Kind: kind, Description: c.Reason, Points: abs(points), At: at})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
