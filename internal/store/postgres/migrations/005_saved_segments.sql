-- Saved segments (the SQLite store's 016): a rule (validated JSON) under a name per
-- organization; times are unix milliseconds.
CREATE TABLE saved_segments (
    org_id      bigint NOT NULL,
    name        text COLLATE "C" NOT NULL,
    rule        text   NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (org_id, name)
);
