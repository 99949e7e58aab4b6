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
