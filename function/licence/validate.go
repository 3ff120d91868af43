package licence

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
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

// Limits on what a request may hold. With them, and the bound on an
// actor's ARNs, a licence's stored form is bounded (MaxDocumentBytes).
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
	checkText(&p, "firstName", a.FirstName)
	checkText(&p, "lastName", a.LastName)
	checkText(&p, "email", a.Email)
	checkText(&p, "telephone", a.Telephone)
	checkText(&p, "postcode", a.Postcode)
	if len(p) > 0 {
		return p.err()
	}
	n := a.normalised()
	checkName(&p, "firstName", n.FirstName)
	checkName(&p, "lastName", n.LastName)
	checkEmail(&p, a.Email)
	checkTelephone(&p, n.Telephone)
	checkPostcode(&p, n.Postcode)
	return p.err()
}

// Validate reports what is wrong with the change; it must change something.
func (c ContactChange) Validate() error {
	var p problems
	if c.Telephone == nil && c.Postcode == nil {
		p.add("telephone", "give a telephone, a postcode or both")
		return p.err()
	}
	if c.Telephone != nil {
		checkText(&p, "telephone", *c.Telephone)
	}
	if c.Postcode != nil {
		checkText(&p, "postcode", *c.Postcode)
	}
	if len(p) > 0 {
		return p.err()
	}
	c = c.normalised()
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
	checkText(&p, "reason", c.Reason)
	reason := c.normalised().Reason
	switch {
	case reason == "":
		p.add("reason", "is required")
	case utf8.RuneCountInString(reason) > maxReasonLen:
		p.add("reason", "must be at most %d characters", maxReasonLen)
	}
	return p.err()
}

// Hash identifies the application as a request: the SHA-256 of its
// canonical form (normalised, as it would be stored), each field
// length-prefixed so no two applications share a form. An idempotency key
// is bound to it: the same key with another application is refused.
func (a Application) Hash() string {
	n := a.normalised()
	h := sha256.New()
	for _, f := range []string{n.FirstName, n.LastName, n.Email, n.Telephone, n.Postcode} {
		var size [8]byte
		binary.BigEndian.PutUint64(size[:], uint64(len(f)))
		h.Write(size[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// normalised puts an application in the form it is stored and compared in:
// text in Unicode NFC, trimmed, the email canonical.
func (a Application) normalised() Application {
	a.FirstName = normaliseText(a.FirstName)
	a.LastName = normaliseText(a.LastName)
	a.Email = CanonicalEmail(a.Email)
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

func (c PointsChange) normalised() PointsChange {
	c.Reason = normaliseText(c.Reason)
	return c
}

// normaliseText is text as it is stored: NFC, trimmed.
func normaliseText(s string) string { return strings.TrimSpace(norm.NFC.String(s)) }

// CanonicalEmail is the one form an email is stored and compared in, so
// that addresses that look alike are one address: the local part in NFC and
// lower case, the domain mapped by IDNA (UTS #46: case, width and
// compatibility forms folded) and written in Unicode. An address IDNA
// refuses stays as it was given, and Validate refuses it.
func CanonicalEmail(s string) string {
	s = normaliseText(s)
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return strings.ToLower(s)
	}
	local, domain := strings.ToLower(s[:i]), s[i+1:]
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return local + "@" + strings.ToLower(domain)
	}
	unicodeDomain, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return local + "@" + ascii
	}
	return local + "@" + unicodeDomain
}

// normaliseTelephone drops the spaces, hyphens, dots and brackets people
// write numbers with.
func normaliseTelephone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, normaliseText(s))
}

func normalisePostcode(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(normaliseText(s))), " ")
}

// checkText refuses text that does not mean what it shows: not UTF-8, or
// holding control characters, format characters (bidirectional overrides,
// zero-width characters, the byte order mark), other default-ignorable
// characters (Hangul fillers, variation selectors), blank-looking symbols,
// private-use, surrogate or unassigned code points, or line and paragraph
// separators.
func checkText(p *problems, field, s string) {
	if !utf8.ValidString(s) {
		p.add(field, "must be UTF-8 text")
		return
	}
	for _, r := range s {
		if bad := hidden(r); bad != "" {
			p.add(field, "must not contain %s (U+%04X)", bad, r)
			return
		}
	}
}

// hidden names what kind of character r is, if it is one a field may not
// hold; "" otherwise.
func hidden(r rune) string {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "a format character such as a bidirectional override or a zero-width character"
	case defaultIgnorable(r):
		// Rendered as nothing (the Hangul fillers, the combining grapheme
		// joiner, variation selectors), so two texts that differ only by
		// them look alike.
		return "an invisible character"
	case r == '\u2800':
		// The braille pattern blank draws as a space but is a symbol: a
		// name of it looks empty.
		return "a blank-looking character"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	case unicode.Is(unicode.Cs, r) || r == utf8.RuneError:
		return "an invalid character"
	case unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
		return "a line or paragraph separator"
	case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs):
		return "an unassigned character"
	}
	return ""
}

// defaultIgnorable is Unicode's Default_Ignorable_Code_Point, derived as
// UAX #44 defines it (DerivedCoreProperties.txt) from the standard
// library's tables: Other_Default_Ignorable_Code_Point, Cf and
// Variation_Selector, less White_Space and Prepended_Concatenation_Mark.
// (Cf's own stay refused as format characters, above.)
func defaultIgnorable(r rune) bool {
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector) &&
		!unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark)
}

func checkName(p *problems, field, v string) {
	switch {
	case v == "":
		p.add(field, "is required")
	case utf8.RuneCountInString(v) > maxNameLen:
		p.add(field, "must be at most %d characters", maxNameLen)
	case !strings.ContainsFunc(v, unicode.IsLetter):
		p.add(field, "must contain a letter")
	}
}

func checkEmail(p *problems, given string) {
	v := normaliseText(given)
	if v == "" {
		p.add("email", "is required")
		return
	}
	i := strings.LastIndexByte(v, '@')
	if i < 0 {
		p.add("email", "must be a plain email address such as jo@example.com")
		return
	}
	if _, err := idna.Lookup.ToASCII(v[i+1:]); err != nil {
		p.add("email", "must have a valid domain: %v", err)
		return
	}
	canonical := CanonicalEmail(v)
	addr, err := mail.ParseAddress(canonical)
	if err != nil || addr.Address != canonical || addr.Name != "" || len(canonical) > maxEmailLen {
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
