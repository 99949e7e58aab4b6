-- What every API node saw of each connection's webhooks (connection.HealthStore): the
-- counts since the first request any node recorded, the last time of each kind of error,
-- and the newest errors (20 per connection). The nodes add what they record every second.
-- Messages are our own short texts, never payload bytes, addresses or secrets.
CREATE TABLE webhook_health (
    conn_id             text   PRIMARY KEY,
    since               bigint NOT NULL,
    accepted_requests   bigint NOT NULL DEFAULT 0,
    accepted_events     bigint NOT NULL DEFAULT 0,
    duplicate_events    bigint NOT NULL DEFAULT 0,
    unattributed_events bigint NOT NULL DEFAULT 0,
    replayed_requests   bigint NOT NULL DEFAULT 0,
    signature_failures  bigint NOT NULL DEFAULT 0,
    invalid_payloads    bigint NOT NULL DEFAULT 0,
    too_large           bigint NOT NULL DEFAULT 0,
    unavailable         bigint NOT NULL DEFAULT 0,
    internal_errors     bigint NOT NULL DEFAULT 0,
    last_error_at       jsonb  NOT NULL DEFAULT '{}'
);
CREATE TABLE webhook_errors (
    id      bigserial PRIMARY KEY,
    conn_id text   NOT NULL,
    at      bigint NOT NULL,
    kind    text   NOT NULL,
    message text   NOT NULL
);
CREATE INDEX webhook_errors_conn ON webhook_errors (conn_id, id);
