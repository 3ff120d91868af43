package httpapi

import (
	"net/http"

	"github.com/privateledger/licences/function/licence"
)

// erase answers POST /licences/{id}/erasure: 200 when every revision of
// the deleted licence has lost its personal data, 202 while the ledger is
// still completing it (ask again: erasing is idempotent), 404 for an id
// that never held a licence, 409 for a licence that still exists. It
// takes no body.
func (a *api) erase(w http.ResponseWriter, r *http.Request) {
	id, ok := licenceID(w, r)
	if !ok {
		return
	}
	res, err := a.eraser.Erase(r.Context(), id, licence.Erasure{At: a.now().UTC(), Actor: actorOf(r)})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Pending > 0 {
		status = http.StatusAccepted
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, res)
}
