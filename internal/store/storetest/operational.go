package storetest

import (
	"context"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// Operational is the part of the contract a cluster's API nodes share through the store
// beyond the projection (docs/cluster.md): what the webhooks attribute events with and
// what the tracking endpoints read. A store begun against the contract (the cluster's
// PostgreSQL store) runs RunOperational beside RunProjection; every Store is an
// Operational.
type Operational interface {
	Projection
	attribute.Lookup // MessagesByID, MessagesByESPID, MessagesByNames, MessagesByEmail, MessagesByRecipient: Attribution

	// Message: Attribution.
	Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error)
}

var _ Operational = Store(nil)

// RunOperational runs the areas of the suite that need only the Operational contract:
// Attribution, as Run runs it. open returns a new empty store, norm is ingest.Normalize.
func RunOperational(t *testing.T, open func(t *testing.T) Operational, norm Normalizer) {
	runOperational(t, open, norm)
}

func runOperational(t *testing.T, open func(t *testing.T) Operational, norm Normalizer) {
	t.Run("Attribution", func(t *testing.T) { testAttribution(t, open(t), norm) })
}
