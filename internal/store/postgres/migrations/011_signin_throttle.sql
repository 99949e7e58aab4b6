-- The dashboard's refused sign-ins (dashboard.ThrottleStore), counted for the whole
-- cluster: one row per client address range (/32, /64) in its window. The key is a keyed
-- digest of the range (HMAC under the cluster's secret), never the address; rows are
-- removed once their window ended.
CREATE TABLE signin_failures (
    key        bytea   PRIMARY KEY,
    failures   integer NOT NULL,
    started_at bigint  NOT NULL
);
CREATE INDEX signin_failures_started ON signin_failures (started_at);
