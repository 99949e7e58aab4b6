-- Outbound webhook subscriptions. There is no per-event outbox: a subscription's position
-- (the events.id up to which its events were delivered or filtered out) is its durable
-- outbox. The dispatcher reads the organization's events past it through the events_org
-- index, so the ingest path writes nothing more and a restart resumes from the position.
CREATE TABLE subscriptions (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    org_id            INTEGER NOT NULL,
    url               TEXT    NOT NULL,
    types             TEXT    NOT NULL DEFAULT '', -- comma-separated type numbers; '' = all
    campaign          TEXT    NOT NULL DEFAULT '',
    secret            BLOB    NOT NULL,            -- sealed (internal/secrets), bound to public_id
    created_at        INTEGER NOT NULL,
    position          INTEGER NOT NULL,
    failures          INTEGER NOT NULL DEFAULT 0,
    failing_since     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL DEFAULT 0,
    last_delivered_at INTEGER NOT NULL DEFAULT 0,
    disabled_at       INTEGER NOT NULL DEFAULT 0,
    disabled_reason   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX subscriptions_org ON subscriptions (org_id);

-- The delivery log: the last attempts of each subscription (trimmed on insert).
CREATE TABLE subscription_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL,
    delivery_id     TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    events          INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    ok              INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    error           TEXT    NOT NULL DEFAULT '',
    retry_in_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscription_deliveries_sub ON subscription_deliveries (subscription_id, id);
