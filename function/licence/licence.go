// Package licence is the domain: a driving licence, its holder's details,
// its penalty points and the events that changed them, who made each
// change, and the rules that keep them valid. It knows nothing of HTTP,
// Lambda or the ledger.
package licence

import "time"

// MaxDocumentBytes bounds a licence as a store keeps it, in JSON or in
// Ion binary, however long its history: its fields and its last event with
// the actor's ARNs, plus an idempotency key and a request hash. What the
// request limits allow adds up to under 8 KiB (TestDocumentBound); QLDB's
// own limit on a document is 128 KB.
const MaxDocumentBytes = 16 << 10

// Licence is the current state of one licence. Its story is the ledger's
// history, revision by revision: the licence itself carries only the event
// that made it what it is, so it stays the same size however long it lives.
type Licence struct {
	ID            string `json:"id"`
	FirstName     string `json:"firstName"`
	LastName      string `json:"lastName"`
	Email         string `json:"email"`
	Telephone     string `json:"telephone"`
	Postcode      string `json:"postcode"`
	PenaltyPoints int    `json:"penaltyPoints"`
	// LastEvent is the change that made the licence what it is; nil where
	// the event is carried beside the licence (a history revision).
	LastEvent *Event `json:"lastEvent,omitempty"`
}

// Event kinds.
const (
	Created              = "LicenceCreated"
	ContactUpdated       = "ContactUpdated"
	PenaltyPointsAdded   = "PenaltyPointsAdded"
	PenaltyPointsRemoved = "PenaltyPointsRemoved"
	Deleted              = "LicenceDeleted"
)

// Event is one change to a licence: what it was, when, and who made it.
type Event struct {
	Kind string `json:"kind"`
	// Reason is the free text a points change gives.
	Reason string    `json:"reason,omitempty"`
	Points int       `json:"points,omitempty"`
	At     time.Time `json:"at"`
	Actor  Actor     `json:"actor"`
}

// New returns a licence for an application that Validate accepted, made by
// actor at at.
func New(id string, a Application, at time.Time, by Actor) Licence {
	a = a.normalised()
	return Licence{
		ID:        id,
		FirstName: a.FirstName,
		LastName:  a.LastName,
		Email:     a.Email,
		Telephone: a.Telephone,
		Postcode:  a.Postcode,
		LastEvent: &Event{Kind: Created, At: at, Actor: by},
	}
}

// ChangeContact applies a contact change that Validate accepted.
func (l *Licence) ChangeContact(c ContactChange, at time.Time, by Actor) {
	c = c.normalised()
	if c.Telephone != nil {
		l.Telephone = *c.Telephone
	}
	if c.Postcode != nil {
		l.Postcode = *c.Postcode
	}
	l.LastEvent = &Event{Kind: ContactUpdated, At: at, Actor: by}
}

// ChangePoints applies a points change that Validate accepted. Points never
// go below zero: removing more than the licence holds removes what it holds,
// and the event records the points actually removed.
func (l *Licence) ChangePoints(c PointsChange, at time.Time, by Actor) {
	c = c.normalised()
	points := c.Points
	if l.PenaltyPoints+points < 0 {
		points = -l.PenaltyPoints
	}
	l.PenaltyPoints += points
	kind := PenaltyPointsAdded
	if c.Points < 0 {
		kind = PenaltyPointsRemoved
	}
	l.LastEvent = &Event{Kind: kind, Reason: c.Reason, Points: abs(points), At: at, Actor: by}
}

// Deletion is the event of deleting a licence.
func Deletion(at time.Time, by Actor) Event {
	return Event{Kind: Deleted, At: at, Actor: by}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
