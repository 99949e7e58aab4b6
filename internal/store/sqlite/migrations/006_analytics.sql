-- Campaign analytics and privacy (issue 5). Times are unix milliseconds.

-- Per-organization privacy settings: keep full client IPs (default: truncate to /24 and
-- /48), and how many days raw events are kept after they are received (0 = forever).
ALTER TABLE orgs ADD COLUMN keep_full_ip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;

-- The reasons of an open's or click's classification, comma-separated, deciding one first.
ALTER TABLE events ADD COLUMN reasons TEXT NOT NULL DEFAULT '';

-- The earliest delivered event an ESP reported for the message (f_delivered is also set by
-- the opens and clicks that imply delivery; the click-timing rules need the real one).
ALTER TABLE messages ADD COLUMN d_at INTEGER NOT NULL DEFAULT 0;

-- Who received a campaign, in message order (who opened / clicked lists page on it).
CREATE INDEX messages_campaign ON messages (campaign_id, id);

-- A message's clicks by time, for the rules that classify a click by its neighbours
-- (bursts, the honeypot, timing against delivery). Clicks are a small part of events, so this partial
-- index costs opens and webhooks nothing.
CREATE INDEX events_message_clicks ON events (message_id, occurred_at) WHERE type = 4;

-- Clicks of one link of a campaign by one message (recipient): who clicked a link, the
-- link's unique and human-unique counts, its top clickers. Replaces message_links.
CREATE TABLE link_clicks (
    campaign_id  INTEGER NOT NULL,
    url_id       INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    clicks       INTEGER NOT NULL DEFAULT 0,
    human_clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id, message_id)
) WITHOUT ROWID;
CREATE INDEX link_clicks_top ON link_clicks (campaign_id, url_id, human_clicks, message_id);

INSERT INTO link_clicks (campaign_id, url_id, message_id, clicks, human_clicks)
SELECT e.campaign_id, u.id, e.message_id, count(*), sum(e.class IN ('', 'human'))
FROM events e JOIN link_urls u ON u.org_id = e.org_id AND u.url = json_extract(e.meta, '$.link_url')
WHERE e.type = 4 AND e.counted = 1
GROUP BY e.campaign_id, u.id, e.message_id;

DROP TABLE message_links;

-- Breakdowns of a campaign's opens (kind 3) and clicks (kind 4) by client (dim 0), device
-- (1), country (2) and city (3): totals and human totals per value.
CREATE TABLE campaign_dims (
    campaign_id INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    dim         INTEGER NOT NULL,
    value       TEXT    NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    human_total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, kind, dim, value)
) WITHOUT ROWID;
