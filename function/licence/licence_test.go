package licence

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
)

var (
	at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	by = Actor{Principal: "arn:aws:sts::123456789012:assumed-role/clerk/jo", Role: "arn:aws:iam::123456789012:role/clerk"}
)

func valid() Application {
	return Application{FirstName: " Jo ", LastName: "Bloggs", Email: " Jo@Example.com", Telephone: "07700 900123", Postcode: "sw1a  1aa"}
}

func TestNewNormalises(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
	l := New("id1", valid(), at, by)
	if l.FirstName != "Jo" || l.Email != "jo@example.com" || l.Telephone != "07700900123" || l.Postcode != "SW1A 1AA" {
		t.Errorf("New = %+v", l)
	}
	if e := l.LastEvent; e == nil || e.Kind != Created || e.Actor != by || !e.At.Equal(at) || l.PenaltyPoints != 0 {
		t.Errorf("last event %+v, points %d: want LicenceCreated by %v, no points", e, l.PenaltyPoints, by)
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

// Text that does not mean what it shows is refused, naming the field.
func TestInvisibleCharactersAreRefused(t *testing.T) {
	for _, c := range []struct {
		field string
		set   func(*Application)
	}{
		{"email", func(a *Application) { a.Email = "jo\u200b@example.com" }},
		{"email", func(a *Application) { a.Email = "jo@exa\u200bmple.com" }},
		{"email", func(a *Application) { a.Email = "\u202ejo@example.com" }},
		{"email", func(a *Application) { a.Email = "jo@example.com\u0000" }},
		{"firstName", func(a *Application) { a.FirstName = "\u200b" }},
		{"firstName", func(a *Application) { a.FirstName = "\ufeff" }},
		{"firstName", func(a *Application) { a.FirstName = "Jo\u2066" }},
		{"lastName", func(a *Application) { a.LastName = "Blo\ue000ggs" }},
		{"lastName", func(a *Application) { a.LastName = "Blo\u2028ggs" }},
		{"lastName", func(a *Application) { a.LastName = "Bloggs\U000E0001" }},
		{"lastName", func(a *Application) { a.LastName = "Blo\U000F0000" }},
		{"postcode", func(a *Application) { a.Postcode = "SW1A\u00ad1AA" }},
		{"telephone", func(a *Application) { a.Telephone = "07700\t900123" }},
		{"firstName", func(a *Application) { a.FirstName = "123" }},
		{"firstName", func(a *Application) { a.FirstName = "\u0301" }},
		{"firstName", func(a *Application) { a.FirstName = string([]byte{0xff, 'J'}) }},
		// Default-ignorable and blank-looking characters: Hangul fillers,
		// the combining grapheme joiner, variation selectors, the braille
		// blank, alone and inside names and an email's local part.
		{"firstName", func(a *Application) { a.FirstName = "\u3164" }},
		{"firstName", func(a *Application) { a.FirstName = "Jo\u115f" }},
		{"firstName", func(a *Application) { a.FirstName = "J\uffa0o" }},
		{"lastName", func(a *Application) { a.LastName = "Blo\u034fggs" }},
		{"lastName", func(a *Application) { a.LastName = "Bloggs\ufe0f" }},
		{"lastName", func(a *Application) { a.LastName = "Bloggs\U000E0100" }},
		{"lastName", func(a *Application) { a.LastName = "\u2800" }},
		{"email", func(a *Application) { a.Email = "jo\u3164@example.com" }},
		{"email", func(a *Application) { a.Email = "jo\u2800@example.com" }},
		{"email", func(a *Application) { a.Email = "j\u034fo@example.com" }},
		{"email", func(a *Application) { a.Email = "jo\ufe0f@example.com" }},
	} {
		a := valid()
		c.set(&a)
		var ve *ValidationError
		if err := a.Validate(); !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != c.field {
			t.Errorf("%+q: %v, want one error naming %s", a, err, c.field)
		}
	}
	tel := "0770\u200b0900123"
	if err := (ContactChange{Telephone: &tel}).Validate(); err == nil {
		t.Error("a zero-width space in a contact change validated")
	}
	if err := (PointsChange{Points: 1, Reason: "\u202espeeding"}).Validate(); err == nil {
		t.Error("a bidi override in a reason validated")
	}
}

// Emails that look alike are one email: the same canonical form.
func TestVisuallyEqualEmailsAreOne(t *testing.T) {
	want := CanonicalEmail("jo@example.com")
	for _, e := range []string{"JO@EXAMPLE.COM", " jo@Example.com ", "jo@ＥＸＡＭＰＬＥ.com", "jo@example\uff0ecom", "jo@xn--exmple-cua.com"} {
		a := valid()
		a.Email = e
		if err := a.Validate(); err != nil {
			t.Errorf("%q: %v", e, err)
			continue
		}
		got := New("id", a, at, by).Email
		if e == "jo@xn--exmple-cua.com" {
			// The punycode and Unicode forms of one domain are one.
			if got != CanonicalEmail("jo@exämple.com") {
				t.Errorf("%q canonical %q, want the Unicode form %q", e, got, CanonicalEmail("jo@exämple.com"))
			}
			continue
		}
		if got != want {
			t.Errorf("%q canonical %q, want %q", e, got, want)
		}
	}
	// NFC: a composed and a decomposed é are one.
	if CanonicalEmail("ren\u00e9@example.com") != CanonicalEmail("rene\u0301@example.com") {
		t.Error("composed and decomposed forms differ")
	}
}

func TestHashBindsTheRequest(t *testing.T) {
	a, b := valid(), valid()
	b.Email = "JO@example.com "
	if a.Hash() != b.Hash() {
		t.Error("the same application, written differently, hashes differently")
	}
	b.Email = "al@example.com"
	if a.Hash() == b.Hash() {
		t.Error("another email hashes the same")
	}
	c := valid()
	c.FirstName, c.LastName = "JoBl", "oggs"
	d := valid()
	d.FirstName, d.LastName = "Jo", "Bloggs"
	c.FirstName, c.LastName = "JoB", "loggs"
	if c.Hash() == d.Hash() {
		t.Error("fields run together hash the same")
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
	l := New("id1", valid(), at, Actor{Principal: "someone"})
	l.ChangeContact(c, at, by)
	if l.Telephone != "+442079460000" || l.Postcode != "SW1A 1AA" {
		t.Errorf("after change: %+v", l)
	}
	if e := l.LastEvent; e.Kind != ContactUpdated || e.Actor != by {
		t.Errorf("last event %+v, want ContactUpdated by %v", e, by)
	}
}

func TestPointsNeverGoBelowZero(t *testing.T) {
	l := New("id1", valid(), at, by)
	l.ChangePoints(PointsChange{Points: 3, Reason: "speeding"}, at, by)
	l.ChangePoints(PointsChange{Points: -5, Reason: " appeal upheld"}, at, by)
	if l.PenaltyPoints != 0 {
		t.Errorf("points = %d, want 0", l.PenaltyPoints)
	}
	if e := l.LastEvent; e.Kind != PenaltyPointsRemoved || e.Points != 3 || e.Reason != "appeal upheld" {
		t.Errorf("last event %+v, want 3 points removed", e)
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

func TestActorOf(t *testing.T) {
	a, err := ActorOf("arn:aws:sts::123456789012:assumed-role/licence-clerk/jo.bloggs@example.com")
	if err != nil || a.Role != "arn:aws:iam::123456789012:role/licence-clerk" {
		t.Errorf("role session: %+v, %v", a, err)
	}
	u, err := ActorOf("arn:aws:iam::123456789012:user/ops/jo")
	if err != nil || u.Principal != "arn:aws:iam::123456789012:user/ops/jo" || u.Role != "" {
		t.Errorf("user: %+v, %v", u, err)
	}
	for _, bad := range []string{"", "  ", "anonymous", "arn:aws:iam::123:user/x", "arn:aws:iam::123456789012:user/<script>", "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:" + strings.Repeat("a", 2100)} {
		if _, err := ActorOf(bad); !errors.Is(err, ErrNoActor) {
			t.Errorf("ActorOf(%q) = %v, want ErrNoActor", bad, err)
		}
	}
	if l, err := LocalActor(""); err != nil || l.Principal != "local" {
		t.Errorf("LocalActor(\"\") = %+v, %v", l, err)
	}
	if _, err := LocalActor("jo bloggs"); err == nil {
		t.Error("a local actor with a space was accepted")
	}
}

// Every default-ignorable code point (as defaultIgnorable derives them;
// several thousand) is refused in a name and in an email's local part, and
// the derivation holds the ones Unicode lists by hand.
func TestEveryDefaultIgnorableCodePointIsRefused(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !defaultIgnorable(r) {
			continue
		}
		n++
		a := valid()
		a.FirstName = "Jo" + string(r)
		var ve *ValidationError
		if err := a.Validate(); !errors.As(err, &ve) || ve.Fields[0].Field != "firstName" {
			t.Errorf("U+%04X in a name: %v, want it refused", r, err)
		}
		a = valid()
		a.Email = "jo" + string(r) + "@example.com"
		if err := a.Validate(); !errors.As(err, &ve) || ve.Fields[0].Field != "email" {
			t.Errorf("U+%04X in an email: %v, want it refused", r, err)
		}
	}
	for _, r := range []rune{0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x180B, 0x200B, 0x2060, 0x3164, 0xFE00, 0xFE0F, 0xFEFF, 0xFFA0, 0x1D173, 0xE0001, 0xE0100, 0xE0FFF} {
		if !defaultIgnorable(r) {
			t.Errorf("U+%04X is Default_Ignorable_Code_Point in DerivedCoreProperties.txt, not in the derivation", r)
		}
	}
	for _, r := range []rune{' ', 0x0600, 0x110BD} { // White_Space; Prepended_Concatenation_Mark
		if defaultIgnorable(r) {
			t.Errorf("U+%04X is not default-ignorable", r)
		}
	}
	t.Logf("%d default-ignorable code points, each refused", n)
}
