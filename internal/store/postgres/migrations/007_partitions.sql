-- Several partitions of one log applied at once (mailtrail worker --partitions): their
-- transactions share the rows of an address (its suppression, soft-bounce run and topic
-- rows), which one batch reads, decides on and writes. A partition's transaction locks
-- the addresses it decides on here first (SELECT … FOR UPDATE, in key order), so two
-- partitions never decide on one address at once. h is a hash of the address, never the
-- address itself: the table holds no personal data and needs no erasure.
CREATE TABLE address_locks (
    org_id bigint NOT NULL,
    h      bigint NOT NULL,
    PRIMARY KEY (org_id, h)
);
