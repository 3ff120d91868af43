package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/privateledger/licences/function/licence"
)

// historyBody is the answer of GET /licences/{id}/history: a page of
// revisions, and the cursor of the next page when more remain.
type historyBody struct {
	ID        string             `json:"id"`
	Revisions []licence.Revision `json:"revisions"`
	Next      string             `json:"next,omitempty"`
}

// cursor is an opaque token for the page that starts at version from of
// the licence with id: it is bound to the licence, so it cannot page
// through another.
func cursor(id string, from int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id + "." + strconv.Itoa(from)))
}

// parseCursor returns the version a cursor for the licence with id starts
// at. It takes only what cursor writes: the strict encoding (no stray
// bits), a version from 0 to licence.MaxVersion without sign or padding.
func parseCursor(id, c string) (int, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return 0, false
	}
	got, from, ok := strings.Cut(string(b), ".")
	n, err := strconv.Atoi(from)
	if !ok || got != id || err != nil || n < 0 || n > licence.MaxVersion || strconv.Itoa(n) != from {
		return 0, false
	}
	return n, true
}

func (a *api) history(w http.ResponseWriter, r *http.Request) {
	id, ok := licenceID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := licence.DefaultHistoryLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > licence.MaxHistoryLimit || strconv.Itoa(n) != s {
			writeProblem(w, r, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(licence.MaxHistoryLimit), nil)
			return
		}
		limit = n
	}
	from := 0
	if s := q.Get("next"); s != "" {
		n, ok := parseCursor(id, s)
		if !ok {
			writeProblem(w, r, http.StatusBadRequest, "next is not a cursor this licence's history gave", nil)
			return
		}
		from = n
	}
	page, err := a.store.History(r.Context(), id, from, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body := historyBody{ID: id, Revisions: page.Revisions}
	if page.More {
		body.Next = cursor(id, page.Revisions[len(page.Revisions)-1].Version+1)
	}
	writeJSON(w, http.StatusOK, body)
}
