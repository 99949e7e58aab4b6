package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// Operational is the part of the contract a cluster's API nodes share through the store
// beyond the projection (docs/cluster.md): what the webhooks attribute events with and
// what the tracking endpoints read. A store begun against the contract (the cluster's
// PostgreSQL store) runs RunOperational beside RunProjection; every Store is an
// Operational.
type Operational interface {
	Projection
	attribute.Lookup // MessagesByID, MessagesByESPID, MessagesByNames, MessagesByEmail, MessagesByRecipient: Attribution
	connection.Store // CreateConnection, Connections, Connection, SetConnectionDisabled, RotateConnection: Connections
	// suppression.Store: AddSuppressions, CountSuppressions, RemoveSuppression,
	// RemoveTopicSuppression, SuppressionHistory, CheckSuppressions, CheckTopicSuppressions:
	// Suppressions, TopicSuppressions.
	suppression.Store

	// Message: Attribution, Messages. ClickTarget: Messages.
	Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error)
	ClickTarget(ctx context.Context, id string, idx int) (orgID, target string, err error)

	// Keys: OrgsAndKeys, Settings.
	Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error)
	CreateAPIKey(ctx context.Context, orgID, name, scope string) (*mailtrail.APIKey, string, error)
	APIKeys(ctx context.Context, orgID string) ([]mailtrail.APIKey, error)
	RevokeAPIKey(ctx context.Context, orgID, keyID string) error
	APIKeyID(ctx context.Context, secret string) (string, error)

	// Settings.
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error
	TrackingHostOrg(ctx context.Context, host string) (string, error)

	// Connections.
	TouchConnection(ctx context.Context, id string, at time.Time) error
	MailboxConnections(ctx context.Context) ([]mailtrail.Connection, error)
	ResealConnections(ctx context.Context, f func(*mailtrail.Connection) (bool, error)) (int, error)
	Ping(ctx context.Context) error

	// Resubscribe: TopicSuppressions.
	Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (lifted int, err error)
}

var _ Operational = Store(nil)

// RunOperational runs the areas of the suite that need only the Operational contract:
// OrgsAndKeys, Messages, Settings, Attribution, Connections, Suppressions,
// TopicSuppressions and ManualAndEvents (suppressions by hand and by events on the same
// rows), as Run runs them. open returns a new empty store, norm is ingest.Normalize.
func RunOperational(t *testing.T, open func(t *testing.T) Operational, norm Normalizer) {
	runOperational(t, open, norm)
}

func runOperational(t *testing.T, open func(t *testing.T) Operational, norm Normalizer) {
	t.Run("OrgsAndKeys", func(t *testing.T) { testOrgsAndKeys(t, open(t)) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, open(t)) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("Attribution", func(t *testing.T) { testAttribution(t, open(t), norm) })
	t.Run("Connections", func(t *testing.T) { testConnections(t, open(t)) })
	t.Run("Suppressions", func(t *testing.T) { testSuppressions(t, open(t)) })
	t.Run("TopicSuppressions", func(t *testing.T) { testTopics(t, open(t), norm) })
	t.Run("ManualAndEvents", func(t *testing.T) { testManualAndEvents(t, open(t), norm) })
}
