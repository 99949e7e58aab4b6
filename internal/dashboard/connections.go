package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/esp"
)

// Connections is what the connections page needs: the connections use case
// (connection.Service), the API's own, so the same rules apply whichever door is used.
type Connections interface {
	// List returns the organization's connections with their webhook URLs.
	List(ctx context.Context, orgID string) ([]mailtrail.Connection, error)
	SetDisabled(ctx context.Context, orgID, id string, disabled bool) (*mailtrail.Connection, error)
	// Create creates a connection, its credentials checked per vendor and sealed.
	Create(ctx context.Context, orgID string, in connection.Input) (*mailtrail.Connection, error)
	// Rotate gives a connection new credentials, the previous ones valid for grace.
	Rotate(ctx context.Context, orgID, id string, creds esp.Credentials, grace time.Duration) (*mailtrail.Connection, error)
	// Health is what this process saw of a connection's webhooks since it started.
	Health(connID string) mailtrail.ConnectionHealth
}

type connectionRow struct {
	ID, Name, Vendor, WebhookURL string
	Needs                        string     // the credentials the vendor's webhooks are verified with
	Fields                       credFields // the credential fields of its rotate form
	Disabled                     bool
	LastWebhookAt                *time.Time
	Mailbox                      string
	Steps                        []string
	// Health is this process's record of the connection's webhooks; nil: not shown.
	Health *mailtrail.ConnectionHealth
	// OtherErrors are the errors that are neither signature failures nor unattributed
	// events: invalid, too large, unavailable, internal.
	OtherErrors int64
}

type connectionsData struct {
	Rows     []connectionRow
	Vendors  []vendorChoice
	All      credFields // the create form shows every field (its script hides the unused)
	CanEdit  bool       // creating and rotating are offered (always, by Options.Connections)
	ReadOnly bool       // a read-only key: nothing may change
	Vendor   string     // the create form's vendor and name, kept when it is refused
	Name     string
	Error    string
	// Created, Rotated, Disabled and Enabled name the connection (id) just changed.
	Created, Rotated, Disabled, Enabled string
}

func (h *Handler) connectionsPage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	q := r.URL.Query()
	d := connectionsData{Vendor: "generic", Created: q.Get("created"), Rotated: q.Get("rotated"), Disabled: q.Get("disabled"), Enabled: q.Get("enabled")}
	h.renderConnections(w, r, rq, http.StatusOK, &d)
}

func (h *Handler) renderConnections(w http.ResponseWriter, r *http.Request, rq *request, status int, d *connectionsData) {
	if h.opt.Connections == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	list, err := h.opt.Connections.List(r.Context(), rq.org.ID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	// Only what a client may see: never the sealed credentials.
	d.Rows = make([]connectionRow, 0, len(list))
	for _, c := range list {
		row := connectionRow{ID: c.ID, Name: c.Name, Vendor: c.Vendor, WebhookURL: c.WebhookURL,
			Disabled: c.Disabled, LastWebhookAt: c.LastWebhookAt, Mailbox: c.IMAPURL, Steps: esp.SetupSteps(c.Vendor), Needs: vendorNeeds(c.Vendor), Fields: vendorFields(c.Vendor)}
		hl := h.opt.Connections.Health(c.ID)
		n := hl.Counts
		row.Health, row.OtherErrors = &hl, n.InvalidPayloads+n.TooLarge+n.Unavailable+n.InternalErrors
		d.Rows = append(d.Rows, row)
	}
	d.All, d.Vendors, d.CanEdit, d.ReadOnly = allCredFields, vendorChoices(), true, rq.org.KeyScope == mailtrail.ScopeRead
	h.render(w, r, status, "connections", h.page(rq, "Connections", "connections", d))
}
