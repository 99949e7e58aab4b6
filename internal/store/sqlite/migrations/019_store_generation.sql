-- The store's generation: a one-row counter bumped in the transaction of every change to
-- stored events and customers that does not come through the ingest pipeline's
-- change-sets (a customer's erasure, a retention delete). What keeps a copy of the store
-- in memory (the segment index's snapshot) is valid only for the generation it was made at.
CREATE TABLE store_generation (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    gen  INTEGER NOT NULL
);
INSERT INTO store_generation (id, gen) VALUES (1, 0);
