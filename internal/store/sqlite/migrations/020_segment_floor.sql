-- The first UTC day (days since 1970-01-01) the segment index keeps whatever the
-- organization's retention: set when the retention is raised, to the first day the index
-- may have kept under the old one, so that what it forgot stays forgotten, also by an
-- index built afresh (segment.Horizon). -2147483648: none.
ALTER TABLE orgs ADD COLUMN segment_floor INTEGER NOT NULL DEFAULT -2147483648;
