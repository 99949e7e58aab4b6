-- Projection positions: for each log a projector applies to this store (named by its
-- stream), the position of the last record whose events and derived state are here.
-- WriteAt sets it in the transaction that writes the record's batch, so after any crash
-- the store holds exactly the records up to it, and a replay starts after it. Existing
-- stores have none: every stream starts at 0 (nothing applied).
CREATE TABLE projection_positions (
    stream      TEXT    PRIMARY KEY,
    pos         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
