package licence

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Application is a request for a new licence.
type Application struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Telephone string `json:"telephone"`
	Postcode  string `json:"postcode"`
}

// ContactChange changes a licence holder's telephone, postcode or both.
type ContactChange struct {
	Telephone *string `json:"telephone"`
	Postcode  *string `json:"postcode"`
}

// PointsChange adds penalty points (positive) or removes them (negative).
type PointsChange struct {
	Points int    `json:"points"`
	Reason string `json:"reason"`
}

// Limits on what a request may hold.
const (
	maxNameLen   = 100
	maxEmailLen  = 254 // RFC 5321's limit on a forward path
	maxReasonLen = 500
	maxPoints    = 12 // a single offence carries at most 12 points
)

var (
	telephonePattern = regexp.MustCompile(`^\+?[0-9]{7,15}$`)
	postcodePattern  = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]$`)
)

// FieldError says what is wrong with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every field that is wrong, so a client can fix them
// all at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// problems collects field errors.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{field, fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Fields: p}
}

// Validate reports every field of the application that is missing or wrong.
func (a Application) Validate() error {
	var p problems
	a = a.normalised()
	checkName(&p, "firstName", a.FirstName)
	checkName(&p, "lastName", a.LastName)
	checkEmail(&p, a.Email)
	checkTelephone(&p, a.Telephone)
	checkPostcode(&p, a.Postcode)
	return p.err()
}

// Validate reports what is wrong with the change; it must change something.
func (c ContactChange) Validate() error {
	var p problems
	c = c.normalised()
	if c.Telephone == nil && c.Postcode == nil {
		p.add("telephone", "give a telephone, a postcode or both")
	}
	if c.Telephone != nil {
		checkTelephone(&p, *c.Telephone)
	}
	if c.Postcode != nil {
		checkPostcode(&p, *c.Postcode)
	}
	return p.err()
}

// Validate reports what is wrong with the change.
func (c PointsChange) Validate() error {
	var p problems
	switch {
	case c.Points == 0:
		p.add("points", "must not be zero: positive adds points, negative removes them")
	case c.Points > maxPoints || c.Points < -maxPoints:
		p.add("points", "must be between -%d and %d", maxPoints, maxPoints)
	}
	reason := strings.TrimSpace(c.Reason)
	switch {
	case reason == "":
		p.add("reason", "is required")
	case utf8.RuneCountInString(reason) > maxReasonLen:
		p.add("reason", "must be at most %d characters", maxReasonLen)
	case hasControl(reason):
		p.add("reason", "must not contain control characters")
	}
	return p.err()
}

// normalised trims the application and puts email and postcode in the form
// they are stored and compared in.
func (a Application) normalised() Application {
	a.FirstName = strings.TrimSpace(a.FirstName)
	a.LastName = strings.TrimSpace(a.LastName)
	a.Email = NormaliseEmail(a.Email)
	a.Telephone = normaliseTelephone(a.Telephone)
	a.Postcode = normalisePostcode(a.Postcode)
	return a
}

func (c ContactChange) normalised() ContactChange {
	if c.Telephone != nil {
		t := normaliseTelephone(*c.Telephone)
		c.Telephone = &t
	}
	if c.Postcode != nil {
		pc := normalisePostcode(*c.Postcode)
		c.Postcode = &pc
	}
	return c
}

// NormaliseEmail is the form an email is stored and compared in: trimmed and
// lower case, so one address cannot hold two licences by changing case.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normaliseTelephone drops the spaces, hyphens, dots and brackets people
// write numbers with.
func normaliseTelephone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func normalisePostcode(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(s)), " ")
}

func checkName(p *problems, field, v string) {
	switch {
	case v == "":
		p.add(field, "is required")
	case utf8.RuneCountInString(v) > maxNameLen:
		p.add(field, "must be at most %d characters", maxNameLen)
	case hasControl(v):
		p.add(field, "must not contain control characters")
	}
}

func checkEmail(p *problems, v string) {
	if v == "" {
		p.add("email", "is required")
		return
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || addr.Name != "" || len(v) > maxEmailLen {
		p.add("email", "must be a plain email address such as jo@example.com")
	}
}

func checkTelephone(p *problems, v string) {
	switch {
	case v == "":
		p.add("telephone", "is required")
	case !telephonePattern.MatchString(v):
		p.add("telephone", "must be 7 to 15 digits, optionally starting with +")
	}
}

func checkPostcode(p *problems, v string) {
	switch {
	case v == "":
		p.add("postcode", "is required")
	case !postcodePattern.MatchString(v):
		p.add("postcode", "must be 3 to 10 letters, digits, spaces or hyphens")
	}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
