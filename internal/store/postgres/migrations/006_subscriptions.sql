-- Outbound webhook subscriptions and their delivery log, as the SQLite store's 007: a
-- subscription's position (the events.id up to which its events were delivered or
-- filtered out) is its durable outbox; events.id grows in commit order because the
-- projection's writers serialize on the schema's write lock. Times are unix milliseconds,
-- 0 for none.
CREATE TABLE subscriptions (
    id                bigserial PRIMARY KEY,
    public_id         text    NOT NULL UNIQUE,
    org_id            bigint  NOT NULL,
    url               text    NOT NULL,
    types             text    NOT NULL DEFAULT '', -- comma-separated type numbers; '' = all
    campaign          text    NOT NULL DEFAULT '',
    secret            bytea   NOT NULL,            -- sealed (internal/secrets), bound to public_id
    created_at        bigint  NOT NULL,
    position          bigint  NOT NULL,
    failures          integer NOT NULL DEFAULT 0,
    failing_since     bigint  NOT NULL DEFAULT 0,
    next_attempt_at   bigint  NOT NULL DEFAULT 0,
    last_delivered_at bigint  NOT NULL DEFAULT 0,
    disabled_at       bigint  NOT NULL DEFAULT 0,
    disabled_reason   text    NOT NULL DEFAULT ''
);
CREATE INDEX subscriptions_org ON subscriptions (org_id);

CREATE TABLE subscription_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id bigint  NOT NULL,
    delivery_id     text    NOT NULL,
    at              bigint  NOT NULL,
    events          integer NOT NULL,
    status          integer NOT NULL,
    ok              boolean NOT NULL,
    duration_ms     bigint  NOT NULL,
    error           text    NOT NULL DEFAULT '',
    retry_in_ms     bigint  NOT NULL DEFAULT 0
);
CREATE INDEX subscription_deliveries_sub ON subscription_deliveries (subscription_id, id);
