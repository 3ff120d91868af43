package storetest

import (
	"strings"
	"time"

	"github.com/privateledger/licences/function/licence"
)

// Largest returns the largest licences the request limits allow, one per
// way of measuring: text JSON escapes (<, > and & take six bytes each in
// Go's JSON), and text of four-byte UTF-8 characters (the most Ion binary
// and jsonb spend on one character). Each passes validation; a store
// checks its own form of each against licence.MaxDocumentBytes.
func Largest() []licence.Licence {
	var out []licence.Licence
	for _, r := range []string{"<", "\U0001D49C"} { // 𝒜 is a letter
		text := func(n int) string { return "J" + strings.Repeat(r, n-1) }
		domain := strings.Repeat(strings.Repeat("d", 62)+".", 3) + "com" // 192 bytes
		email := strings.Repeat("a", 254-1-len(domain)) + "@" + domain
		actor := licence.Actor{Principal: "arn:aws:iam::123456789012:user/" + strings.Repeat("p", 2048-len("arn:aws:iam::123456789012:user/"))}
		l := licence.New("", licence.Application{
			FirstName: text(100), LastName: text(100), Email: email,
			Telephone: "+123456789012345", Postcode: "AB12-34 CD",
		}, time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC), actor)
		l.ChangePoints(licence.PointsChange{Points: 12, Reason: text(500)}, time.Date(2026, 11, 25, 9, 0, 0, 1, time.UTC), actor)
		out = append(out, l)
	}
	return out
}
