-- Addresses are one address whatever their case (issue 12). A suppression's key becomes
-- the address with its ASCII letters lower-cased (mailtrail.NormalizeEmail, which folds
-- the same letters as SQLite's lower(); domains were lower-cased already) and
-- display_email keeps the spelling first seen ('' = the key). Rows that differed only by
-- case become one: the strongest suppression is kept (the order of rules.Replaces), the
-- histories are joined under the key and every row dropped is recorded in the history as
-- 'merged' (actor 'migration'). Soft-bounce runs of such rows are joined too. Keys of
-- erased addresses (sha256:…) are hashes and stay as they are.
ALTER TABLE suppressions ADD COLUMN display_email TEXT NOT NULL DEFAULT '';

-- Every row whose key changes or that shares its new key, ranked: pos 1 is the one kept.
CREATE TEMP TABLE case_rows AS
SELECT * FROM (
    SELECT org_id, email AS old, lower(email) AS key, reason, source, event_id, detail, customer_id,
        count(*) OVER (PARTITION BY org_id, lower(email)) AS n,
        row_number() OVER (PARTITION BY org_id, lower(email) ORDER BY rnk DESC,
            CASE WHEN rnk = 3 THEN occurred_at END, CASE WHEN rnk = 3 THEN event_id END,
            CASE WHEN rnk = 2 THEN created_at END, CASE WHEN rnk = 1 THEN -occurred_at END, email) AS pos
    FROM (SELECT *, CASE reason WHEN 'soft_bounce' THEN 1 WHEN 'manual' THEN 2 WHEN 'list_import' THEN 2
            WHEN 'hard_bounce' THEN 3 WHEN 'complaint' THEN 3 WHEN 'unsubscribed' THEN 3 ELSE 0 END AS rnk
        FROM suppressions WHERE email NOT LIKE 'sha256:%')
) WHERE old != key OR n > 1;
CREATE INDEX temp.case_rows_key ON case_rows (org_id, key, pos);

-- The spelling first seen: the oldest history entry among the group's spellings.
CREATE TEMP TABLE case_display AS
SELECT c.org_id, c.key, CASE WHEN c.n = 1 THEN c.old ELSE coalesce((SELECT h.email FROM case_rows c2
        JOIN suppression_history h ON h.org_id = c2.org_id AND h.email = c2.old
        WHERE c2.org_id = c.org_id AND c2.key = c.key ORDER BY h.id LIMIT 1), c.old) END AS display,
    (SELECT c3.customer_id FROM case_rows c3 WHERE c3.org_id = c.org_id AND c3.key = c.key AND c3.customer_id != ''
        ORDER BY c3.pos LIMIT 1) AS customer_id
FROM case_rows c WHERE c.pos = 1;
CREATE INDEX temp.case_display_key ON case_display (org_id, key);

INSERT INTO suppression_history (org_id, email, action, reason, source, event_id, detail, customer_id, actor, note, at)
SELECT org_id, key, 'merged', reason, source, event_id, detail, customer_id, 'migration',
    'the same address in another case: the strongest suppression is kept',
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM case_rows WHERE pos > 1 ORDER BY org_id, key, pos;

DELETE FROM suppressions WHERE (org_id, email) IN (SELECT org_id, old FROM case_rows WHERE pos > 1);

UPDATE suppressions SET
    display_email = (SELECT d.display FROM case_display d WHERE d.org_id = suppressions.org_id AND d.key = lower(suppressions.email)),
    customer_id = coalesce((SELECT d.customer_id FROM case_display d WHERE d.org_id = suppressions.org_id AND d.key = lower(suppressions.email)), ''),
    email = lower(email)
WHERE (org_id, email) IN (SELECT org_id, old FROM case_rows WHERE pos = 1);

UPDATE suppression_history SET email = lower(email) WHERE email != lower(email);

-- Soft-bounce runs: one per key; joined runs keep the latest reset and the newest 20
-- distinct bounces after it (rules.SoftBounceState).
CREATE TEMP TABLE case_soft AS
SELECT * FROM (
    SELECT org_id, email AS old, lower(email) AS key, state, count(*) OVER (PARTITION BY org_id, lower(email)) AS n
    FROM soft_bounces WHERE email NOT LIKE 'sha256:%'
) WHERE old != key OR n > 1;
CREATE INDEX temp.case_soft_key ON case_soft (org_id, key);

CREATE TEMP TABLE case_soft_state AS
SELECT g.org_id, g.key, CASE WHEN g.n = 1 THEN g.state ELSE json_object('r', g.r, 'b', json((
        SELECT json_group_array(json(b.v) ORDER BY b.bt, b.bid) FROM (
            SELECT min(j.value) AS v, j.value ->> 't' AS bt, j.value ->> 'id' AS bid
            FROM case_soft s, json_each(s.state, '$.b') AS j
            WHERE s.org_id = g.org_id AND s.key = g.key AND (j.value ->> 't') > g.r
            GROUP BY bt, bid ORDER BY bt DESC, bid DESC LIMIT 20) AS b))) END AS state
FROM (SELECT org_id, key, n, max(state) AS state, max(coalesce(state ->> 'r', 0)) AS r FROM case_soft GROUP BY org_id, key) AS g;

DELETE FROM soft_bounces WHERE (org_id, email) IN (SELECT org_id, old FROM case_soft);
INSERT INTO soft_bounces (org_id, email, state) SELECT org_id, key, state FROM case_soft_state;

DROP TABLE temp.case_soft_state;
DROP TABLE temp.case_soft;
DROP TABLE temp.case_display;
DROP TABLE temp.case_rows;

-- Attribution by recipient compares lower(email) (see attribute.go).
CREATE INDEX customers_email_ci ON customers (org_id, lower(email));
DROP INDEX customers_email;
