package ingest

import (
	"context"
	"errors"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// Submitter is the pipeline's Submit, as ESP sees it.
type Submitter interface {
	Submit(ctx context.Context, events []*mailtrail.Event) (Result, error)
}

// ErrOrgChanged is returned by ESP.Ingest when attribution moved an event out of the
// connection's organization; nothing was submitted.
var ErrOrgChanged = errors.New("ingest: attribution changed an event's organization")

// ESPResult is what ESP.Ingest did with a vendor's events.
type ESPResult struct {
	Result
	// Unattributed events matched no message of the organization; they are kept under
	// the placeholder campaign and customer (attribute.UnattributedCampaign and
	// attribute.UnknownCustomer).
	Unattributed int
	// Foreign events named a message id that is not the organization's (another
	// tenant's, or unknown); the id was ignored and attribution fell through.
	Foreign int
}

// ESP attributes the events an ESP reported on a connection (webhook or bounce mailbox)
// and submits them through the pipeline: the one path every vendor event takes.
type ESP struct {
	Lookup    attribute.Lookup // the store's lookups, which attribute.Attribute asks
	Submitter Submitter
}

// Ingest sets orgID and SourceWebhook on every event (the organization comes from the
// connection, never from the payload), resolves their messages within orgID
// (attribute.Attribute over e.Lookup), and submits them; it returns when they are
// committed. An attribution failure is returned as is and
// nothing is submitted; ErrOrgChanged if attribution moved an event to another
// organization; a Submit failure (ErrUnavailable) means nothing may be acknowledged.
func (e ESP) Ingest(ctx context.Context, orgID string, events []mailtrail.Event) (ESPResult, error) {
	var out ESPResult
	if len(events) == 0 {
		return out, nil
	}
	evs := make([]*mailtrail.Event, len(events))
	claimed := make([]string, len(events))
	for i := range events {
		ev := &events[i]
		ev.OrgID = orgID
		ev.Source = mailtrail.SourceWebhook
		claimed[i] = ev.MessageID
		evs[i] = ev
	}
	n, err := attribute.Attribute(ctx, e.Lookup, orgID, evs)
	if err != nil {
		return out, err
	}
	for i, ev := range evs {
		if ev.OrgID != orgID {
			return out, ErrOrgChanged
		}
		// An event under a mail of several recipients names the mail's message, not its
		// own: landing elsewhere is no sign of a foreign id (see Event.SharedMessage).
		if claimed[i] != "" && ev.MessageID != claimed[i] && !ev.SharedMessage {
			out.Foreign++
		}
	}
	out.Unattributed = n
	res, err := e.Submitter.Submit(ctx, evs)
	if err != nil {
		return out, err
	}
	out.Result = res
	return out, nil
}
