-- The store's generation, as the SQLite store keeps it: it moves with every erasure, so a
-- process that keeps an index of the store (an API node's segment index) knows that a
-- customer it holds was renamed, and builds the index again.
CREATE TABLE store_generation (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation bigint  NOT NULL
);
INSERT INTO store_generation (one, generation) VALUES (true, 0);

-- The last event id each stream's transactions inserted, committed with the position:
-- an API node that follows the event stream knows it has read everything a position
-- holds once it has read past that id.
ALTER TABLE projection_positions ADD COLUMN last_event bigint NOT NULL DEFAULT 0;
