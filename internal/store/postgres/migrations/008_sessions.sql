-- The dashboard's sessions, which every API node (serve --cluster) finds: id is a hash of
-- the session's cookie and data is sealed under a key drawn from the cookie
-- (internal/dashboard, SessionStore), so a row gives away neither the session nor the API
-- key it signed in with. Expired rows are removed as sessions are created.
CREATE TABLE dashboard_sessions (
    id         bytea  PRIMARY KEY,
    data       bytea  NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);

-- The status of the dashboard's CSV imports (JSON, as the import page shows it), written
-- by the node that runs an import at its start, after each batch and at its end, so that
-- its page answers on every node; kept an hour after its last write.
CREATE TABLE dashboard_imports (
    id         text   PRIMARY KEY,
    org_id     text   NOT NULL,
    status     bytea  NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX dashboard_imports_expires ON dashboard_imports (expires_at);
