-- What an organization's recipient pages (the unsubscribe page) show besides its display
-- name: an optional logo (an https URL) and brand colour (#rrggbb). Existing organizations
-- get neither: their pages look as before.
ALTER TABLE orgs ADD COLUMN brand_logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN brand_color TEXT NOT NULL DEFAULT '';
