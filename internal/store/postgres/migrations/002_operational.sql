-- The operational state API nodes share (docs/cluster.md): attribution by address, as
-- the SQLite store's customers_email_ci. lower() of text COLLATE "C" folds ASCII letters
-- only, as SQLite's lower() does, so both stores match the same addresses.
CREATE INDEX customers_email_ci ON customers (org_id, lower(email COLLATE "C"));
