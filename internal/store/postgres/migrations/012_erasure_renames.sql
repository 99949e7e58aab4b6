-- The renames of erased customers, under the store generation each erasure moved it to
-- (store_generation): an API node that sees the generation move applies them to its
-- segment index instead of building the index again. A row names the customer's former
-- CRM id, so it is kept only an hour (RenameKeep); a node further behind builds.
CREATE TABLE erasure_renames (
    generation bigint PRIMARY KEY,
    org        text   NOT NULL,
    old_id     text   NOT NULL,
    new_id     text   NOT NULL,
    at         bigint NOT NULL
);
