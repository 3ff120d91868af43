package client

import (
	"context"
	"iter"

	"github.com/privateledger/licences/function/licence"
)

// History yields a licence's revisions, oldest first, reading a page of
// limit (0 for the API's default) at a time and following each page's
// cursor to the end. It stops at the first error, which it yields.
func (c *Client) History(ctx context.Context, id string, limit int) iter.Seq2[licence.Revision, error] {
	return func(yield func(licence.Revision, error) bool) {
		next := ""
		for {
			p, err := c.HistoryPage(ctx, id, limit, next)
			if err != nil {
				yield(licence.Revision{}, err)
				return
			}
			for _, r := range p.Revisions {
				if !yield(r, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			next = p.Next
		}
	}
}
