-- Suppression management (issue 4). Times are unix milliseconds.
-- Per-organization number of consecutive soft bounces that suppress an address.
ALTER TABLE orgs ADD COLUMN soft_bounce_limit INTEGER NOT NULL DEFAULT 5;
ALTER TABLE suppressions ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE suppressions ADD COLUMN note TEXT NOT NULL DEFAULT '';
-- Listings and exports page by (suppressed at, email).
CREATE INDEX suppressions_time ON suppressions (org_id, occurred_at, email);

-- Every change of an address's suppression, automatic or by a person: the audit trail.
CREATE TABLE suppression_history (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    customer_id TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX suppression_history_email ON suppression_history (org_id, email, id);

-- The soft-bounce run of an address (rules.SoftBounceState as JSON): only addresses that
-- ever soft-bounced have a row.
CREATE TABLE soft_bounces (
    org_id INTEGER NOT NULL,
    email  TEXT    NOT NULL,
    state  TEXT    NOT NULL,
    PRIMARY KEY (org_id, email)
) WITHOUT ROWID;
