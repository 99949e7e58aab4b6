-- ESP connections. secret / prev_secret are sealed by the caller (AES-256-GCM, bound to
-- public_id); the store never sees a plaintext credential. prev_until: the previous
-- secret is accepted until then (unix ms), 0 when there is none.
CREATE TABLE connections (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL,
    vendor          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    prev_secret     BLOB,
    prev_until      INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_webhook_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX connections_org ON connections (org_id, id);

-- Webhook attribution by recipient address within an organization.
CREATE INDEX customers_email ON customers (org_id, email);
