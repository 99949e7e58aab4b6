-- What people call a campaign: its display name (title; campaigns.name is the campaign id
-- the API takes) and its email's subject. Both optional, set when messages are instrumented
-- or by PATCH /api/v1/campaigns/{id}; existing campaigns get empty ones.
ALTER TABLE campaigns ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN subject TEXT NOT NULL DEFAULT '';
