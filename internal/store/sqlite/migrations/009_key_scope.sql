-- API key scopes: 'all' (every route of the organization) or 'read' (reports, events,
-- segments, journeys, checks: nothing that changes data).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'all';
