package load

import (
	"encoding/json"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// Events decodes one of these POST /api/v1/events bodies into the events the API hands
// the ingest pipeline for organization org: each with its idempotency key, normalized and
// given an id at now. Benchmarks that feed a store, the log or its sink directly use it.
func Events(body []byte, org string, now time.Time) ([]*mailtrail.Event, error) {
	var req struct{ Events []IngestEvent }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	evs := make([]*mailtrail.Event, len(req.Events))
	for i, in := range req.Events {
		typ, err := mailtrail.ParseEventType(in.EventType)
		if err != nil {
			return nil, err
		}
		ev := &mailtrail.Event{OrgID: org, Type: typ, CampaignID: in.CampaignID, CustomerID: in.CustomerID, CustomerEmail: in.CustomerEmail,
			ESPMessageID: in.ESPMessageID, Source: mailtrail.SourceAPI, DedupeKey: ingest.IdempotencyPrefix + in.IdempotencyKey}
		if ev.OccurredAt, err = time.Parse(time.RFC3339Nano, in.OccurredAt); err != nil {
			return nil, err
		}
		ev.Metadata.LinkURL = in.Metadata["link_url"]
		ev.Metadata.BounceType = mailtrail.BounceType(in.Metadata["bounce_type"])
		ingest.Normalize(ev, now)
		ev.ID = ingest.NewEventID(now)
		evs[i] = ev
	}
	return evs, nil
}
