-- Unsubscribes with a scope (issue 12): a message may name a topic (a list, a SendGrid
-- group, an SES topic, a Postmark stream); an unsubscribe from it suppresses the address
-- for that topic only. Organization-wide suppressions stay in suppressions.
ALTER TABLE messages ADD COLUMN topic TEXT NOT NULL DEFAULT '';

CREATE TABLE topic_suppressions (
    org_id        INTEGER NOT NULL,
    email         TEXT    NOT NULL, -- mailtrail.NormalizeEmail, or an erased address's hash
    topic         TEXT    NOT NULL,
    display_email TEXT    NOT NULL DEFAULT '',
    customer_id   TEXT    NOT NULL DEFAULT '',
    reason        TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    event_id      TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT '',
    occurred_at   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, email, topic)
) WITHOUT ROWID;
CREATE INDEX topic_suppressions_time ON topic_suppressions (org_id, occurred_at, email, topic);

-- The history of a scoped suppression carries its topic ('' = organization-wide).
ALTER TABLE suppression_history ADD COLUMN topic TEXT NOT NULL DEFAULT '';

-- The latest resubscribe to a topic reported by a vendor (unix ms): an unsubscribe from
-- the topic suppresses only if it is later, whatever the arrival order.
CREATE TABLE topic_resubscribes (
    org_id INTEGER NOT NULL,
    email  TEXT    NOT NULL,
    topic  TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (org_id, email, topic)
) WITHOUT ROWID;
