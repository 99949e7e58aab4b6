-- Erasures that the raw events in ClickHouse still have to follow (privacy.go): the
-- customer's CRM id (old_id) becomes new_id there once the worker has shipped the log up
-- to pos, the last position acknowledged before the erasure. A row is deleted when
-- ClickHouse has it, so the CRM's id is kept no longer than that.
CREATE TABLE erasures (
    id      bigserial PRIMARY KEY,
    org_id  bigint NOT NULL,
    old_id  text   NOT NULL,
    new_id  text   NOT NULL,
    pos     bigint NOT NULL,
    at      bigint NOT NULL
);
