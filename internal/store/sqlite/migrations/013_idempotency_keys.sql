-- The idempotency keys of API events, per organization: the key alone identifies an
-- event, whatever type, time or content a retry carries. key is 16 bytes of a digest of
-- the client's key; created_at is the event's arrival (ms), for pruning past the horizon
-- (7 days). Events stored before this table still dedupe on their (time, type, key).
CREATE TABLE idempotency_keys (
    org_id     INTEGER NOT NULL,
    key        BLOB    NOT NULL,
    event_uid  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
