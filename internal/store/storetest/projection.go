package storetest

import (
	"context"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
)

// Projection is the part of the contract a projection store answers: what the write path
// (ingest.Sink, projector.Store) needs to have something to write to, and the reads that
// check what it wrote (the campaign report and event lists of query.Reader, the
// suppressions the rules decided). A store that is begun against this contract (the
// cluster's PostgreSQL store) runs RunProjection; every Store is a Projection.
type Projection interface {
	ingest.Sink     // Write: DedupeAndDerived, ChangeSet, OrderIndependence, ListEvents, TenantIsolation
	projector.Store // WriteAt, Position: Positions
	query.Reader    // View: every area (CampaignBuckets, CampaignLinks, ListEvents; the report in Positions)

	// CreateOrg and CreateMessages: every area's organizations and messages.
	CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error)
	CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error
	// Suppressed: TenantIsolation. Suppressions: Positions (Figures).
	Suppressed(ctx context.Context, orgID, email string) (*mailtrail.Suppression, error)
	Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error)
}

var _ Projection = Store(nil)
