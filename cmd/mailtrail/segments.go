package main

import (
	"context"
	"log/slog"

	"github.com/mailtrail/mailtrail/internal/segment"
)

// runSegmentIndex builds the index, then applies committed events until ctx ends (a
// build that shutdown cancels is not an error to log).
func runSegmentIndex(ctx context.Context, idx *segment.Index, log *slog.Logger) {
	log.Info("segment index loading")
	if err := idx.Build(ctx, 0); err != nil {
		if ctx.Err() != nil {
			return
		}
		log.Error("segment index failed to load; segment requests answer 503", "err", err.Error())
		return
	}
	idx.Run(ctx)
}
