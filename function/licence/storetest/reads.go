package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/privateledger/licences/function/licence"
)

// Reads measures a get, and the first and the last page of a licence's
// history at 100 and at 10,000 revisions, on a store from open: what a read
// costs as a licence's history grows (a page should not).
func Reads(b *testing.B, open func(b *testing.B) licence.Store) {
	ctx := context.Background()
	s := open(b)
	b.Run("get", func(b *testing.B) {
		id := Create(b, s, "reader@example.com", "").ID
		for b.Loop() {
			if _, err := s.Get(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, revisions := range []int{100, 10000} {
		id := Create(b, s, fmt.Sprintf("history%d@example.com", revisions), "").ID
		for i := 1; i < revisions; i++ {
			points := 1 - 2*(i%2) // up and down: the points stay small
			if _, err := s.Update(ctx, id, func(l *licence.Licence) {
				l.ChangePoints(licence.PointsChange{Points: points, Reason: "history"}, At, Clerk)
			}); err != nil {
				b.Fatal(err)
			}
		}
		for _, page := range []struct {
			name string
			from int
		}{{"first", 0}, {"last", revisions - licence.DefaultHistoryLimit}} {
			b.Run(fmt.Sprintf("history/revisions=%d/%s-page", revisions, page.name), func(b *testing.B) {
				for b.Loop() {
					p, err := s.History(ctx, id, page.from, licence.DefaultHistoryLimit)
					if err != nil || len(p.Revisions) != licence.DefaultHistoryLimit {
						b.Fatalf("the page from %d: %d revisions, %v", page.from, len(p.Revisions), err)
					}
				}
			})
		}
	}
}
