-- ESP connections, as the SQLite store's (its 002 and 004): secret, prev_secret and
-- imap_secret are sealed by the caller (AES-256-GCM, bound to public_id), the store never
-- sees a plaintext credential; prev_until is when the previous secret stops being
-- accepted (unix ms), 0 when there is none.
CREATE TABLE connections (
    id              bigserial PRIMARY KEY,
    public_id       text    NOT NULL UNIQUE,
    org_id          bigint  NOT NULL REFERENCES orgs (id),
    vendor          text    NOT NULL,
    name            text    NOT NULL,
    secret          bytea   NOT NULL,
    prev_secret     bytea,
    prev_until      bigint  NOT NULL DEFAULT 0,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      bigint  NOT NULL,
    last_webhook_at bigint  NOT NULL DEFAULT 0,
    imap_url        text    NOT NULL DEFAULT '',
    imap_poll_ms    bigint  NOT NULL DEFAULT 0,
    imap_delete     boolean NOT NULL DEFAULT false,
    imap_secret     bytea
);
CREATE INDEX connections_org ON connections (org_id, id);
CREATE INDEX connections_mailbox ON connections (id) WHERE imap_url <> '' AND NOT disabled;
