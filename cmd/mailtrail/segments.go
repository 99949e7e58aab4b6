package main

import (
	"context"
	"log/slog"

	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// newSegmentIndex returns the segment index of the store, told of the clicks the store
// relabels after committing them and of erased customers.
func newSegmentIndex(db *sqlite.DB, log *slog.Logger) *segment.Index {
	idx := segment.New(db, log)
	db.OnClickRelabel(func(rs []sqlite.ClickRelabel) {
		for _, r := range rs {
			idx.Relabel(r.OrgID, r.CustomerID, r.CampaignID, r.LinkURL, r.At, r.Human)
		}
	})
	db.OnCustomerErased(idx.Rename)
	return idx
}

// runSegmentIndex builds the index, then applies committed events until ctx ends.
func runSegmentIndex(ctx context.Context, idx *segment.Index, log *slog.Logger) {
	log.Info("segment index loading")
	if err := idx.Build(ctx, 0); err != nil {
		log.Error("segment index failed to load; segment requests answer 503", "err", err.Error())
		return
	}
	idx.Run(ctx)
}
