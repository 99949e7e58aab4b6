-- Times are unix milliseconds. Ids are integers internally; what clients see (org ids,
-- message ids, event ids) are random strings kept beside them.
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    ext_id      TEXT    NOT NULL,
    email       TEXT    NOT NULL DEFAULT '',
    last_sent   INTEGER NOT NULL DEFAULT 0,
    last_open   INTEGER NOT NULL DEFAULT 0,
    last_click  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, ext_id)
);

CREATE TABLE link_urls (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    UNIQUE (org_id, url)
);

-- One row per email to one recipient. f_* are the rules' "first time" fields.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    ref            BLOB    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL,
    campaign_id    INTEGER NOT NULL,
    customer_id    INTEGER NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    esp_message_id TEXT,
    track_opens    INTEGER NOT NULL DEFAULT 0,
    track_clicks   INTEGER NOT NULL DEFAULT 0,
    links          BLOB,
    created_at     INTEGER NOT NULL,
    f_sent INTEGER NOT NULL DEFAULT 0, f_delivered INTEGER NOT NULL DEFAULT 0,
    f_open INTEGER NOT NULL DEFAULT 0, f_hopen INTEGER NOT NULL DEFAULT 0,
    f_click INTEGER NOT NULL DEFAULT 0, f_hclick INTEGER NOT NULL DEFAULT 0,
    f_bounce INTEGER NOT NULL DEFAULT 0, f_hard INTEGER NOT NULL DEFAULT 0,
    f_complaint INTEGER NOT NULL DEFAULT 0, f_unsub INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);

-- u0..u9: unique counts per rules.Field; t0..t3: totals per rules.Total.
CREATE TABLE campaign_stats (
    campaign_id INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    u0 INTEGER NOT NULL DEFAULT 0, u1 INTEGER NOT NULL DEFAULT 0, u2 INTEGER NOT NULL DEFAULT 0,
    u3 INTEGER NOT NULL DEFAULT 0, u4 INTEGER NOT NULL DEFAULT 0, u5 INTEGER NOT NULL DEFAULT 0,
    u6 INTEGER NOT NULL DEFAULT 0, u7 INTEGER NOT NULL DEFAULT 0, u8 INTEGER NOT NULL DEFAULT 0,
    u9 INTEGER NOT NULL DEFAULT 0,
    t0 INTEGER NOT NULL DEFAULT 0, t1 INTEGER NOT NULL DEFAULT 0, t2 INTEGER NOT NULL DEFAULT 0,
    t3 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket)
) WITHOUT ROWID;

CREATE TABLE link_stats (
    campaign_id INTEGER NOT NULL,
    url_id      INTEGER NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    human_total INTEGER NOT NULL DEFAULT 0,
    uniq        INTEGER NOT NULL DEFAULT 0,
    human_uniq  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id)
) WITHOUT ROWID;

CREATE TABLE message_links (
    message_id INTEGER NOT NULL,
    url_id     INTEGER NOT NULL,
    human      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, url_id)
) WITHOUT ROWID;

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    uid            TEXT    NOT NULL,
    org_id         INTEGER NOT NULL,
    campaign_id    INTEGER NOT NULL,
    customer_id    INTEGER NOT NULL,
    message_id     INTEGER NOT NULL,
    type           INTEGER NOT NULL,
    occurred_at    INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    class          TEXT    NOT NULL DEFAULT '',
    counted        INTEGER NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    esp_message_id TEXT    NOT NULL DEFAULT '',
    meta           TEXT,
    dedupe         BLOB UNIQUE
);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_customer ON events (customer_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);

-- Suppressed addresses. Automatic ones keep the earliest event that caused them, so the
-- outcome does not depend on arrival order.
CREATE TABLE suppressions (
    org_id      INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    customer_id TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, email)
) WITHOUT ROWID;
