-- The first UTC day (days since 1970-01-01) an API node's segment index keeps whatever the
-- organization's retention: set when the retention is raised, to the first day an index
-- may have kept under the old one, so that what an index forgot stays forgotten by every
-- index (segment.Horizon). -2147483648: none.
ALTER TABLE orgs ADD COLUMN segment_floor integer NOT NULL DEFAULT -2147483648;
