-- Segments saved under a name per organization: the rule as the API took it (JSON, already
-- validated), times in unix ms. Saving under an existing name replaces its rule.
CREATE TABLE saved_segments (
    org_id      INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
) WITHOUT ROWID;
