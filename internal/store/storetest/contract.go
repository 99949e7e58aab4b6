package storetest

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/message"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// Store is the store contract: the union of the interfaces its consumers declare, so a
// store that passes the suite can stand in for the embedded one wherever production code
// takes one. Interfaces of core packages are embedded; those declared by adapters
// (internal/httpd, internal/dashboard) and by cmd/mailtrail, which the suite may not
// import (docs/architecture.md, "Packages"), are listed method by method under the name
// of the interface that asks for them. Every method is exercised by Run (the test named
// after each group says where).
type Store interface {
	ingest.Sink      // Write: DedupeAndDerived, OrderIndependence
	attribute.Lookup // MessagesByID, MessagesByESPID, MessagesByNames, MessagesByEmail, MessagesByRecipient: Attribution
	query.Reader     // View (its Snapshot: every read below, and LinkTopClickers): Views
	connection.Store // CreateConnection, Connections, Connection, SetConnectionDisabled, RotateConnection: Connections
	message.Store    // CreateMessages: Messages; OrgSettings: Settings
	projector.Store  // WriteAt, Position: Positions
	// suppression.Store: AddSuppressions, Suppressions, CountSuppressions, RemoveSuppression,
	// RemoveTopicSuppression, SuppressionHistory, CheckSuppressions, CheckTopicSuppressions:
	// Suppressions, TopicSuppressions.
	suppression.Store

	// httpd.Store: organizations and keys (OrgsAndKeys), messages (Messages), the webhooks'
	// last time (Connections), health.
	Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error)
	CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error)
	Org(ctx context.Context, id string) (*mailtrail.Organization, error)
	CreateAPIKey(ctx context.Context, orgID, name, scope string) (*mailtrail.APIKey, string, error)
	APIKeys(ctx context.Context, orgID string) ([]mailtrail.APIKey, error)
	RevokeAPIKey(ctx context.Context, orgID, keyID string) error
	Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error)
	ClickTarget(ctx context.Context, id string, idx int) (orgID, target string, err error)
	TouchConnection(ctx context.Context, id string, at time.Time) error
	Ping(ctx context.Context) error

	// httpd.SuppressionStore (besides suppression.Store): TopicSuppressions, Settings.
	Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (lifted int, err error)
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error
	TrackingHostOrg(ctx context.Context, host string) (string, error)
	APIKeyID(ctx context.Context, secret string) (string, error)
	// Suppressed looks one address up (bench/suppression; the server uses
	// CheckSuppressions): TenantIsolation, Suppressions, ErasureAndRetention.
	Suppressed(ctx context.Context, orgID, email string) (*mailtrail.Suppression, error)

	// cmd/mailtrail: the mailbox pollers' accounts (mailboxStore), `mailtrail reseal`
	// (resealStore): Connections.
	MailboxConnections(ctx context.Context) ([]mailtrail.Connection, error)
	ResealConnections(ctx context.Context, f func(*mailtrail.Connection) (bool, error)) (int, error)

	// The parts of the contract with areas of their own (storetest.go), each listing
	// its methods under the interfaces that ask for them.
	Privacy
	Catalog
	Outbound
	Segments
}

// idempotencyKey is the dedupe key of an API event posted with the client's key.
func idempotencyKey(k string) string { return ingest.IdempotencyPrefix + k }
