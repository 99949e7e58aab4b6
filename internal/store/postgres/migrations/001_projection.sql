-- The projection's tables, shaped as the SQLite store's (internal/store/sqlite/migrations)
-- so that both apply the same plan: times are unix milliseconds, ids are bigints inside
-- and what clients see (organization, message and event ids) are strings kept beside
-- them. Text that reports sort on is COLLATE "C": byte order, as SQLite sorts, so both
-- stores answer the same lists in the same order.

CREATE TABLE orgs (
    id                bigserial PRIMARY KEY,
    public_id         text    NOT NULL UNIQUE,
    name              text    NOT NULL,
    timezone          text    NOT NULL,
    created_at        bigint  NOT NULL,
    soft_bounce_limit integer NOT NULL DEFAULT 5,
    keep_full_ip      boolean NOT NULL DEFAULT false,
    retention_days    integer NOT NULL DEFAULT 0,
    tracking_url      text    NOT NULL DEFAULT '',
    tracking_host     text    NOT NULL DEFAULT '',
    brand_logo_url    text    NOT NULL DEFAULT '',
    brand_color       text    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX orgs_tracking_host ON orgs (tracking_host) WHERE tracking_host <> '';

-- SHA-256 of the key only.
CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    public_id   text   NOT NULL UNIQUE,
    org_id      bigint NOT NULL REFERENCES orgs (id),
    name        text   NOT NULL,
    prefix      text   NOT NULL,
    hash        bytea  NOT NULL UNIQUE,
    scope       text   NOT NULL DEFAULT 'all',
    created_at  bigint NOT NULL,
    revoked_at  bigint
);

CREATE TABLE campaigns (
    id       bigserial PRIMARY KEY,
    org_id   bigint NOT NULL,
    name     text COLLATE "C" NOT NULL,
    title    text NOT NULL DEFAULT '',
    subject  text NOT NULL DEFAULT '',
    UNIQUE (org_id, name)
);

CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    org_id      bigint NOT NULL,
    ext_id      text   NOT NULL,
    email       text   NOT NULL DEFAULT '',
    last_sent   bigint NOT NULL DEFAULT 0,
    last_open   bigint NOT NULL DEFAULT 0,
    last_click  bigint NOT NULL DEFAULT 0,
    UNIQUE (org_id, ext_id)
);

CREATE TABLE link_urls (
    id      bigserial PRIMARY KEY,
    org_id  bigint NOT NULL,
    url     text COLLATE "C" NOT NULL,
    UNIQUE (org_id, url)
);

-- One row per email to one recipient; f_* are the rules' "first time" fields, d_at the
-- earliest counted delivered event; links are the link ids as uvarints.
CREATE TABLE messages (
    id             bigserial PRIMARY KEY,
    ref            bytea   NOT NULL UNIQUE,
    org_id         bigint  NOT NULL,
    campaign_id    bigint  NOT NULL,
    customer_id    bigint  NOT NULL,
    email          text    NOT NULL DEFAULT '',
    esp_message_id text,
    track_opens    boolean NOT NULL DEFAULT false,
    track_clicks   boolean NOT NULL DEFAULT false,
    links          bytea,
    topic          text    NOT NULL DEFAULT '',
    created_at     bigint  NOT NULL,
    f_sent bigint NOT NULL DEFAULT 0, f_delivered bigint NOT NULL DEFAULT 0,
    f_open bigint NOT NULL DEFAULT 0, f_hopen bigint NOT NULL DEFAULT 0,
    f_click bigint NOT NULL DEFAULT 0, f_hclick bigint NOT NULL DEFAULT 0,
    f_bounce bigint NOT NULL DEFAULT 0, f_hard bigint NOT NULL DEFAULT 0,
    f_complaint bigint NOT NULL DEFAULT 0, f_unsub bigint NOT NULL DEFAULT 0,
    d_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_campaign ON messages (campaign_id, id);
CREATE INDEX messages_customer ON messages (customer_id);

-- u0..u9: unique counts per rules.Field; t0..t3: totals per rules.Total.
CREATE TABLE campaign_stats (
    campaign_id bigint NOT NULL,
    bucket      bigint NOT NULL,
    u0 bigint NOT NULL DEFAULT 0, u1 bigint NOT NULL DEFAULT 0, u2 bigint NOT NULL DEFAULT 0,
    u3 bigint NOT NULL DEFAULT 0, u4 bigint NOT NULL DEFAULT 0, u5 bigint NOT NULL DEFAULT 0,
    u6 bigint NOT NULL DEFAULT 0, u7 bigint NOT NULL DEFAULT 0, u8 bigint NOT NULL DEFAULT 0,
    u9 bigint NOT NULL DEFAULT 0,
    t0 bigint NOT NULL DEFAULT 0, t1 bigint NOT NULL DEFAULT 0, t2 bigint NOT NULL DEFAULT 0,
    t3 bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket)
);

CREATE TABLE link_stats (
    campaign_id bigint NOT NULL,
    url_id      bigint NOT NULL,
    total       bigint NOT NULL DEFAULT 0,
    human_total bigint NOT NULL DEFAULT 0,
    uniq        bigint NOT NULL DEFAULT 0,
    human_uniq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id)
);

-- One message's clicks of one link of its campaign: link uniques, top clickers.
CREATE TABLE link_clicks (
    campaign_id  bigint NOT NULL,
    url_id       bigint NOT NULL,
    message_id   bigint NOT NULL,
    clicks       bigint NOT NULL DEFAULT 0,
    human_clicks bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id, message_id)
);
CREATE INDEX link_clicks_top ON link_clicks (campaign_id, url_id, human_clicks, message_id);

-- Breakdowns: a campaign's opens (kind 3) and clicks (kind 4) by client (dim 0), device
-- (1), country (2) and city (3).
CREATE TABLE campaign_dims (
    campaign_id bigint   NOT NULL,
    kind        smallint NOT NULL,
    dim         smallint NOT NULL,
    value       text COLLATE "C" NOT NULL,
    total       bigint   NOT NULL DEFAULT 0,
    human_total bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, kind, dim, value)
);

-- Raw events; dedupe is the 16-byte time-prefixed dedupe key (ingest.DedupeKey).
CREATE TABLE events (
    id             bigserial PRIMARY KEY,
    uid            text     NOT NULL,
    org_id         bigint   NOT NULL,
    campaign_id    bigint   NOT NULL,
    customer_id    bigint   NOT NULL,
    message_id     bigint   NOT NULL,
    type           smallint NOT NULL,
    occurred_at    bigint   NOT NULL,
    received_at    bigint   NOT NULL,
    source         text     NOT NULL,
    class          text     NOT NULL DEFAULT '',
    reasons        text     NOT NULL DEFAULT '',
    counted        boolean  NOT NULL,
    email          text     NOT NULL DEFAULT '',
    esp_message_id text     NOT NULL DEFAULT '',
    meta           text,
    dedupe         bytea UNIQUE
);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_customer ON events (customer_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX events_message_clicks ON events (message_id, occurred_at) WHERE type = 4;

-- An API event's idempotency key (16 bytes of its digest) → the event that holds it.
CREATE TABLE idempotency_keys (
    org_id     bigint NOT NULL,
    key        bytea  NOT NULL,
    event_uid  text   NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Suppressions (see the SQLite store's 003, 010 and 011), their history, the soft-bounce
-- runs (rules.SoftBounceState as JSON), scoped suppressions and the vendors' resubscribes.
CREATE TABLE suppressions (
    org_id        bigint NOT NULL,
    email         text COLLATE "C" NOT NULL,
    display_email text   NOT NULL DEFAULT '',
    customer_id   text   NOT NULL DEFAULT '',
    reason        text   NOT NULL,
    source        text   NOT NULL,
    event_id      text   NOT NULL DEFAULT '',
    detail        text   NOT NULL DEFAULT '',
    note          text   NOT NULL DEFAULT '',
    occurred_at   bigint NOT NULL,
    created_at    bigint NOT NULL,
    PRIMARY KEY (org_id, email)
);
CREATE INDEX suppressions_time ON suppressions (org_id, occurred_at, email);

CREATE TABLE suppression_history (
    id          bigserial PRIMARY KEY,
    org_id      bigint NOT NULL,
    email       text   NOT NULL,
    topic       text   NOT NULL DEFAULT '',
    action      text   NOT NULL,
    reason      text   NOT NULL,
    source      text   NOT NULL,
    event_id    text   NOT NULL DEFAULT '',
    detail      text   NOT NULL DEFAULT '',
    customer_id text   NOT NULL DEFAULT '',
    actor       text   NOT NULL DEFAULT '',
    note        text   NOT NULL DEFAULT '',
    at          bigint NOT NULL
);
CREATE INDEX suppression_history_email ON suppression_history (org_id, email, id);

CREATE TABLE soft_bounces (
    org_id bigint NOT NULL,
    email  text   NOT NULL,
    state  text   NOT NULL,
    PRIMARY KEY (org_id, email)
);

CREATE TABLE topic_suppressions (
    org_id        bigint NOT NULL,
    email         text COLLATE "C" NOT NULL,
    topic         text COLLATE "C" NOT NULL,
    display_email text   NOT NULL DEFAULT '',
    customer_id   text   NOT NULL DEFAULT '',
    reason        text   NOT NULL,
    source        text   NOT NULL,
    event_id      text   NOT NULL DEFAULT '',
    detail        text   NOT NULL DEFAULT '',
    note          text   NOT NULL DEFAULT '',
    occurred_at   bigint NOT NULL,
    created_at    bigint NOT NULL,
    PRIMARY KEY (org_id, email, topic)
);
CREATE INDEX topic_suppressions_time ON topic_suppressions (org_id, occurred_at, email, topic);

CREATE TABLE topic_resubscribes (
    org_id bigint NOT NULL,
    email  text   NOT NULL,
    topic  text   NOT NULL,
    at     bigint NOT NULL,
    PRIMARY KEY (org_id, email, topic)
);

-- Per log stream, the last record applied with WriteAt, set in the transaction that
-- writes the record's batch.
CREATE TABLE projection_positions (
    stream     text   PRIMARY KEY,
    pos        bigint NOT NULL,
    updated_at bigint NOT NULL
);
