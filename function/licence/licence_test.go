package licence

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func valid() Application {
	return Application{FirstName: " Jo ", LastName: "Bloggs", Email: " Jo@Example.com", Telephone: "07700 900123", Postcode: "sw1a  1aa"}
}

func TestNewNormalises(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
	l := New("id1", valid(), at)
	if l.FirstName != "Jo" || l.Email != "jo@example.com" || l.Telephone != "07700900123" || l.Postcode != "SW1A 1AA" {
		t.Errorf("New = %+v", l)
	}
	if len(l.Events) != 1 || l.Events[0].Kind != Created || l.PenaltyPoints != 0 {
		t.Errorf("events %v, points %d: want one LicenceCreated, no points", l.Events, l.PenaltyPoints)
	}
}

func TestApplicationValidationNamesEveryBadField(t *testing.T) {
	a := Application{FirstName: "", LastName: strings.Repeat("x", 101), Email: "Jo <jo@example.com>", Telephone: "12", Postcode: "!"}
	err := a.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	got := map[string]bool{}
	for _, f := range ve.Fields {
		got[f.Field] = true
	}
	for _, f := range []string{"firstName", "lastName", "email", "telephone", "postcode"} {
		if !got[f] {
			t.Errorf("no error for %s in %v", f, ve.Fields)
		}
	}
}

func TestContactChange(t *testing.T) {
	if err := (ContactChange{}).Validate(); err == nil {
		t.Error("an empty change validated")
	}
	tel := "+44 20 7946 0000"
	c := ContactChange{Telephone: &tel}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l := New("id1", valid(), at)
	l.ChangeContact(c, at)
	if l.Telephone != "+442079460000" || l.Postcode != "SW1A 1AA" {
		t.Errorf("after change: %+v", l)
	}
	if last := l.Events[len(l.Events)-1]; last.Kind != ContactUpdated {
		t.Errorf("last event %v, want ContactUpdated", last)
	}
}

func TestPointsNeverGoBelowZero(t *testing.T) {
	l := New("id1", valid(), at)
	l.ChangePoints(PointsChange{Points: 3, Reason: "speeding"}, at)
	l.ChangePoints(PointsChange{Points: -5, Reason: "appeal upheld"}, at)
	if l.PenaltyPoints != 0 {
		t.Errorf("points = %d, want 0", l.PenaltyPoints)
	}
	last := l.Events[len(l.Events)-1]
	if last.Kind != PenaltyPointsRemoved || last.Points != 3 || last.Description != "appeal upheld" {
		t.Errorf("last event %+v, want 3 points removed", last)
	}
}

func TestPointsChangeValidation(t *testing.T) {
	for _, c := range []PointsChange{
		{Points: 0, Reason: "x"},
		{Points: 13, Reason: "x"},
		{Points: -13, Reason: "x"},
		{Points: 3, Reason: "  "},
		{Points: 3, Reason: "a\x00b"},
		{Points: 3, Reason: strings.Repeat("r", 501)},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
	if err := (PointsChange{Points: -12, Reason: "course completed"}).Validate(); err != nil {
		t.Error(err)
	}
}
