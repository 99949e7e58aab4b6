-- Per-organization tracking domain: the base (scheme://host[:port]) of the tracking URLs
-- of the organization's new messages; '' uses the service's public URL. One organization
-- per host (checked by the store: the same host over http and https counts once).
ALTER TABLE orgs ADD COLUMN tracking_url TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN tracking_host TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX orgs_tracking_host ON orgs (tracking_host) WHERE tracking_host != '';
