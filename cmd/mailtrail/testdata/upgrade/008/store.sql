CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
, soft_bounce_limit INTEGER NOT NULL DEFAULT 5, keep_full_ip INTEGER NOT NULL DEFAULT 0, retention_days INTEGER NOT NULL DEFAULT 0, tracking_url TEXT NOT NULL DEFAULT '', tracking_host TEXT NOT NULL DEFAULT '');
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    ext_id      TEXT    NOT NULL,
    email       TEXT    NOT NULL DEFAULT '',
    last_sent   INTEGER NOT NULL DEFAULT 0,
    last_open   INTEGER NOT NULL DEFAULT 0,
    last_click  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, ext_id)
);
CREATE TABLE link_urls (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    UNIQUE (org_id, url)
);
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    ref            BLOB    NOT NULL UNIQUE,
    org_id         INTEGER NOT NULL,
    campaign_id    INTEGER NOT NULL,
    customer_id    INTEGER NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    esp_message_id TEXT,
    track_opens    INTEGER NOT NULL DEFAULT 0,
    track_clicks   INTEGER NOT NULL DEFAULT 0,
    links          BLOB,
    created_at     INTEGER NOT NULL,
    f_sent INTEGER NOT NULL DEFAULT 0, f_delivered INTEGER NOT NULL DEFAULT 0,
    f_open INTEGER NOT NULL DEFAULT 0, f_hopen INTEGER NOT NULL DEFAULT 0,
    f_click INTEGER NOT NULL DEFAULT 0, f_hclick INTEGER NOT NULL DEFAULT 0,
    f_bounce INTEGER NOT NULL DEFAULT 0, f_hard INTEGER NOT NULL DEFAULT 0,
    f_complaint INTEGER NOT NULL DEFAULT 0, f_unsub INTEGER NOT NULL DEFAULT 0
, d_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE campaign_stats (
    campaign_id INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    u0 INTEGER NOT NULL DEFAULT 0, u1 INTEGER NOT NULL DEFAULT 0, u2 INTEGER NOT NULL DEFAULT 0,
    u3 INTEGER NOT NULL DEFAULT 0, u4 INTEGER NOT NULL DEFAULT 0, u5 INTEGER NOT NULL DEFAULT 0,
    u6 INTEGER NOT NULL DEFAULT 0, u7 INTEGER NOT NULL DEFAULT 0, u8 INTEGER NOT NULL DEFAULT 0,
    u9 INTEGER NOT NULL DEFAULT 0,
    t0 INTEGER NOT NULL DEFAULT 0, t1 INTEGER NOT NULL DEFAULT 0, t2 INTEGER NOT NULL DEFAULT 0,
    t3 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, bucket)
) WITHOUT ROWID;
CREATE TABLE link_stats (
    campaign_id INTEGER NOT NULL,
    url_id      INTEGER NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    human_total INTEGER NOT NULL DEFAULT 0,
    uniq        INTEGER NOT NULL DEFAULT 0,
    human_uniq  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id)
) WITHOUT ROWID;
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    uid            TEXT    NOT NULL,
    org_id         INTEGER NOT NULL,
    campaign_id    INTEGER NOT NULL,
    customer_id    INTEGER NOT NULL,
    message_id     INTEGER NOT NULL,
    type           INTEGER NOT NULL,
    occurred_at    INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    class          TEXT    NOT NULL DEFAULT '',
    counted        INTEGER NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    esp_message_id TEXT    NOT NULL DEFAULT '',
    meta           TEXT,
    dedupe         BLOB UNIQUE
, reasons TEXT NOT NULL DEFAULT '');
CREATE TABLE suppressions (
    org_id      INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    customer_id TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL, detail TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, email)
) WITHOUT ROWID;
CREATE TABLE connections (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT    NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL,
    vendor          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    prev_secret     BLOB,
    prev_until      INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_webhook_at INTEGER NOT NULL DEFAULT 0
, imap_url TEXT NOT NULL DEFAULT '', imap_poll_ms INTEGER NOT NULL DEFAULT 0, imap_delete INTEGER NOT NULL DEFAULT 0, imap_secret BLOB);
CREATE TABLE suppression_history (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    customer_id TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE TABLE soft_bounces (
    org_id INTEGER NOT NULL,
    email  TEXT    NOT NULL,
    state  TEXT    NOT NULL,
    PRIMARY KEY (org_id, email)
) WITHOUT ROWID;
CREATE TABLE customer_events (
    customer_id INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, occurred_at, event_id)
) WITHOUT ROWID;
CREATE TABLE indexer_state (
    name    TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
CREATE TABLE link_clicks (
    campaign_id  INTEGER NOT NULL,
    url_id       INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    clicks       INTEGER NOT NULL DEFAULT 0,
    human_clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, url_id, message_id)
) WITHOUT ROWID;
CREATE TABLE campaign_dims (
    campaign_id INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    dim         INTEGER NOT NULL,
    value       TEXT    NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    human_total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, kind, dim, value)
) WITHOUT ROWID;
CREATE TABLE subscriptions (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    org_id            INTEGER NOT NULL,
    url               TEXT    NOT NULL,
    types             TEXT    NOT NULL DEFAULT '', -- comma-separated type numbers; '' = all
    campaign          TEXT    NOT NULL DEFAULT '',
    secret            BLOB    NOT NULL,            -- sealed (internal/secrets), bound to public_id
    created_at        INTEGER NOT NULL,
    position          INTEGER NOT NULL,
    failures          INTEGER NOT NULL DEFAULT 0,
    failing_since     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL DEFAULT 0,
    last_delivered_at INTEGER NOT NULL DEFAULT 0,
    disabled_at       INTEGER NOT NULL DEFAULT 0,
    disabled_reason   TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE subscription_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL,
    delivery_id     TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    events          INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    ok              INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    error           TEXT    NOT NULL DEFAULT '',
    retry_in_ms     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407598635);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407598638);
INSERT INTO "schema_migrations" VALUES('migrations/003_suppressions.sql',1796407598646);
INSERT INTO "schema_migrations" VALUES('migrations/004_connection_mailbox.sql',1796407598656);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407598658);
INSERT INTO "schema_migrations" VALUES('migrations/006_analytics.sql',1796407598668);
INSERT INTO "schema_migrations" VALUES('migrations/007_outbox.sql',1796407598673);
INSERT INTO "schema_migrations" VALUES('migrations/008_tracking_url.sql',1796407598677);
INSERT INTO "orgs" VALUES(1,'org_Lw0j0gsIzkDq','Upgrade','Europe/Paris',1796407598692,5,0,0,'','');
INSERT INTO "api_keys" VALUES(1,'key_BzI9DgtTJYXE',1,'default','mt_dg9jhhl',X'dce6ca072f847c295a942cbbc077f3098e44cbc1946aed8b70628b5cb3a8b5d3',1796407598692,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407598707,1796407598709);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407598714,1796407598716);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407598724,1796407598727);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407598729,1796407598735);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407598738,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407598740,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407598741,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407598743,0);
INSERT INTO "customers" VALUES(9,1,'cust-08','person08@example.com',1795165680000,0,0);
INSERT INTO "customers" VALUES(10,1,'cust-09','person09@example.com',1795165740000,0,0);
INSERT INTO "customers" VALUES(11,1,'cust-10','person10@example.com',1795165800000,0,0);
INSERT INTO "customers" VALUES(12,1,'cust-11','person11@example.com',1795165860000,0,0);
INSERT INTO "customers" VALUES(13,1,'cust-12','person12@example.com',1795165920000,0,0);
INSERT INTO "customers" VALUES(14,1,'cust-13','person13@example.com',1795165980000,0,0);
INSERT INTO "customers" VALUES(15,1,'cust-14','person14@example.com',1795166040000,0,0);
INSERT INTO "customers" VALUES(16,1,'cust-15','person15@example.com',1795166100000,0,0);
INSERT INTO "customers" VALUES(17,1,'cust-16','person16@example.com',1795166160000,0,0);
INSERT INTO "customers" VALUES(18,1,'cust-17','person17@example.com',1795166220000,0,0);
INSERT INTO "customers" VALUES(19,1,'cust-18','person18@example.com',1795166280000,0,0);
INSERT INTO "customers" VALUES(20,1,'cust-19','person19@example.com',1795166340000,0,0);
INSERT INTO "link_urls" VALUES(1,1,'https://shop.example.com/spring');
INSERT INTO "link_urls" VALUES(2,1,'https://shop.example.com/sale');
INSERT INTO "messages" VALUES(1,X'b248d3cf18ec51b5a4143637',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407598695,1795165200000,1795165260000,1796407598707,1796407598707,1796407598709,1796407598709,0,0,0,0,1795165260000);
INSERT INTO "messages" VALUES(2,X'b78151278cdcda91bca99469',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407598695,1795165260000,1795165320000,1796407598712,1796407598712,1796407598716,1796407598716,0,0,0,0,1795165320000);
INSERT INTO "messages" VALUES(3,X'32db51a9819eaaab3d366d77',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407598695,1795165320000,1795165380000,1796407598719,1796407598719,1796407598727,1796407598727,0,0,0,0,1795165380000);
INSERT INTO "messages" VALUES(4,X'69823eb12fff0a8ae26517fb',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407598695,1795165380000,1795165440000,1796407598729,1796407598729,1796407598735,1796407598735,0,0,0,0,1795165440000);
INSERT INTO "messages" VALUES(5,X'e9f78208415ad9e85cdcca5d',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407598695,1795165440000,1795165500000,1796407598737,1796407598737,0,0,0,0,0,0,1795165500000);
INSERT INTO "messages" VALUES(6,X'6884b8e1c8f1100992071a43',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407598695,1795165500000,1795165560000,1796407598739,1796407598739,0,0,0,0,0,1796407598746,1795165560000);
INSERT INTO "messages" VALUES(7,X'640840c76f65404dafc5f4ee',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407598695,1795165560000,1795165620000,1796407598741,1796407598741,0,0,0,0,0,0,1795165620000);
INSERT INTO "messages" VALUES(8,X'3b48cd62b9920a4385bf62e3',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407598695,1795165620000,1795165680000,1796407598742,1796407598742,0,0,0,0,0,0,1795165680000);
INSERT INTO "messages" VALUES(9,X'c1bda36e358ef5d15ff9179c',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407598695,1795165680000,1795165740000,0,0,0,0,0,0,0,0,1795165740000);
INSERT INTO "messages" VALUES(10,X'6dcfdb746458b59f4b83a1ef',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407598695,1795165740000,1795165800000,0,0,0,0,0,0,0,0,1795165800000);
INSERT INTO "messages" VALUES(11,X'44a4fc237229d04ecee50880',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407598695,1795165800000,1795165860000,0,0,0,0,0,0,0,0,1795165860000);
INSERT INTO "messages" VALUES(12,X'872235cd5ae1cc197d31948f',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407598695,1795165860000,1795165920000,0,0,0,0,0,0,0,0,1795165920000);
INSERT INTO "messages" VALUES(13,X'596484ad27ecc6a405a480fe',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407598695,1795165920000,1795165980000,0,0,0,0,0,0,0,0,1795165980000);
INSERT INTO "messages" VALUES(14,X'026cfc2ca760a1d32f0a213c',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407598695,1795165980000,1795166040000,0,0,0,0,0,0,0,0,1795166040000);
INSERT INTO "messages" VALUES(15,X'd3c42612c60fa056f6fbf413',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407598695,1795166040000,1795166100000,0,0,0,0,0,0,0,0,1795166100000);
INSERT INTO "messages" VALUES(16,X'4d8640389ccb08a610f07170',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407598695,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0,0);
INSERT INTO "messages" VALUES(17,X'7fe5baba42f95bc6fc4a4c44',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407598695,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0,0);
INSERT INTO "messages" VALUES(18,X'8a751a54eeabbca48ffdbc23',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407598695,1795166220000,0,0,0,0,0,1795166280000,0,0,0,0);
INSERT INTO "messages" VALUES(19,X'85776e40586e6ce0b4e50564',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407598695,1795166280000,0,0,0,0,0,0,0,1795169880000,0,0);
INSERT INTO "messages" VALUES(20,X'12f98ab547cc9c8d6acb0f28',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407598695,1795166340000,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994628,15,14,0,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994629,5,1,0,0,0,0,3,2,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994633,0,0,0,0,0,0,0,0,1,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1996008,0,0,8,8,4,4,0,0,0,1,13,13,4,4);
INSERT INTO "link_stats" VALUES(1,1,2,2,2,2);
INSERT INTO "link_stats" VALUES(1,2,2,2,2,2);
INSERT INTO "events" VALUES(1,'AaJCPJ5sW0EqiVAWJ9DeOw',1,1,1,1,1,1795165200000,1796407598700,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e8002799bbbc1deda0a','');
INSERT INTO "events" VALUES(2,'AaJCPJ5svtOvm-X3VVrvyA',1,1,1,1,2,1795165260000,1796407598700,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e09b5687c6666eee3f','');
INSERT INTO "events" VALUES(3,'AaJCPJ5sDJ3bY2YsdUxrhQ',1,1,2,2,1,1795165260000,1796407598700,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e0de00d588fdb1417a','');
INSERT INTO "events" VALUES(4,'AaJCPJ5s0mRmIkHAQystqA',1,1,2,2,2,1795165320000,1796407598700,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340493ccb28f0a2bfaa','');
INSERT INTO "events" VALUES(5,'AaJCPJ5scXE0u-wMhZ3aXQ',1,1,3,3,1,1795165320000,1796407598700,'api','',1,'person02@example.com','',NULL,X'000001a1f830f34073daeff14508aabe','');
INSERT INTO "events" VALUES(6,'AaJCPJ5sS2yFcVRhnc1Hsw',1,1,3,3,2,1795165380000,1796407598700,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda0554abfc11033f589','');
INSERT INTO "events" VALUES(7,'AaJCPJ5sZjPcrl646qbT5Q',1,1,4,4,1,1795165380000,1796407598700,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0cade3b4b25570305','');
INSERT INTO "events" VALUES(8,'AaJCPJ5sWiImPqo8Zuj9Kg',1,1,4,4,2,1795165440000,1796407598700,'api','',1,'person03@example.com','',NULL,X'000001a1f832c800f8714b65ae430df2','');
INSERT INTO "events" VALUES(9,'AaJCPJ5sy_aM5R3cazGaIg',1,1,5,5,1,1795165440000,1796407598700,'api','',1,'person04@example.com','',NULL,X'000001a1f832c800c01340c6b717c38c','');
INSERT INTO "events" VALUES(10,'AaJCPJ5s11KTMjhQxIwdlg',1,1,5,5,2,1795165500000,1796407598700,'api','',1,'person04@example.com','',NULL,X'000001a1f833b260e01dc9276d7e5e64','');
INSERT INTO "events" VALUES(11,'AaJCPJ5sk_K-89rC2fzaRg',1,1,6,6,1,1795165500000,1796407598700,'api','',1,'person05@example.com','',NULL,X'000001a1f833b260b458e9069eef720d','');
INSERT INTO "events" VALUES(12,'AaJCPJ5sAdX21WOhtzjUNQ',1,1,6,6,2,1795165560000,1796407598700,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc0112c12a23370f6db','');
INSERT INTO "events" VALUES(13,'AaJCPJ5shJ2U0SYTaMIA9Q',1,1,7,7,1,1795165560000,1796407598700,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc0f64322da0e7e6964','');
INSERT INTO "events" VALUES(14,'AaJCPJ5s9y1_WJFhjzkaqA',1,1,7,7,2,1795165620000,1796407598700,'api','',1,'person06@example.com','',NULL,X'000001a1f835872037a083c0d09d662b','');
INSERT INTO "events" VALUES(15,'AaJCPJ5sPmFkYdjnLeqBZA',1,1,8,8,1,1795165620000,1796407598700,'api','',1,'person07@example.com','',NULL,X'000001a1f8358720bda6329624ffcb3b','');
INSERT INTO "events" VALUES(16,'AaJCPJ5sEtAiZFFal3nCug',1,1,8,8,2,1795165680000,1796407598700,'api','',1,'person07@example.com','',NULL,X'000001a1f836718072bef4966b781714','');
INSERT INTO "events" VALUES(17,'AaJCPJ5sdn3uIE6Q69kyLg',1,1,9,9,1,1795165680000,1796407598700,'api','',1,'person08@example.com','',NULL,X'000001a1f83671803f636faf4343721e','');
INSERT INTO "events" VALUES(18,'AaJCPJ5sJj-UNhpMlJOAzQ',1,1,9,9,2,1795165740000,1796407598700,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be03aa56fb0d6129047','');
INSERT INTO "events" VALUES(19,'AaJCPJ5sQcHouwu40FQHiw',1,1,10,10,1,1795165740000,1796407598700,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be0935d9a6607b9ca48','');
INSERT INTO "events" VALUES(20,'AaJCPJ5s6Pg8XoAKXqF0lA',1,1,10,10,2,1795165800000,1796407598700,'api','',1,'person09@example.com','',NULL,X'000001a1f83846406b8677733b03a7fa','');
INSERT INTO "events" VALUES(21,'AaJCPJ5s5GRXSG6TlYDdgw',1,1,11,11,1,1795165800000,1796407598700,'api','',1,'person10@example.com','',NULL,X'000001a1f8384640422c4f4dbf0766de','');
INSERT INTO "events" VALUES(22,'AaJCPJ5skQwbuao33cLlng',1,1,11,11,2,1795165860000,1796407598700,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a0708c8792853062f4','');
INSERT INTO "events" VALUES(23,'AaJCPJ5su3Kn9j-lW1bmDA',1,1,12,12,1,1795165860000,1796407598700,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0a576872de44065c3','');
INSERT INTO "events" VALUES(24,'AaJCPJ5sbe1PKw7T40f3ag',1,1,12,12,2,1795165920000,1796407598700,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b00d4f87149ffc6f833','');
INSERT INTO "events" VALUES(25,'AaJCPJ5skCE9_TYWXEnHBA',1,1,13,13,1,1795165920000,1796407598700,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b00f838d2e320c2cc7b','');
INSERT INTO "events" VALUES(26,'AaJCPJ5sTD7WuR4xtPi40w',1,1,13,13,2,1795165980000,1796407598700,'api','',1,'person12@example.com','',NULL,X'000001a1f83b0560e2c8867a14ee5284','');
INSERT INTO "events" VALUES(27,'AaJCPJ5s1455U1rdQvJf9A',1,1,14,14,1,1795165980000,1796407598700,'api','',1,'person13@example.com','',NULL,X'000001a1f83b05609f5a131d31c77b72','');
INSERT INTO "events" VALUES(28,'AaJCPJ5slLlA5Mem7c86Gg',1,1,14,14,2,1795166040000,1796407598700,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc0be4960e2a59e6673','');
INSERT INTO "events" VALUES(29,'AaJCPJ5sYwtqXHhHzeTEYA',1,1,15,15,1,1795166040000,1796407598700,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc02b48dfb9e08b39a4','');
INSERT INTO "events" VALUES(30,'AaJCPJ5sEZdyUiwBLJN1pQ',1,1,15,15,2,1795166100000,1796407598700,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda20d87ea9fad1564946','');
INSERT INTO "events" VALUES(31,'AaJCPJ5sGRbOBtnlZJuDDQ',1,1,16,16,1,1795166100000,1796407598700,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda2090188a2a8b1ed3a4','');
INSERT INTO "events" VALUES(32,'AaJCPJ5sdkdTr6y4MirInA',1,1,16,16,5,1795166160000,1796407598700,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc480f2799c744bb1f10a','');
INSERT INTO "events" VALUES(33,'AaJCPJ5sGnkvsNpf9lN9FQ',1,1,17,17,1,1795166160000,1796407598700,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc480677e6f961ddcf801','');
INSERT INTO "events" VALUES(34,'AaJCPJ5sif-aFzjuHhzTZg',1,1,17,17,5,1795166220000,1796407598700,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee08a452662cf6eaf5f','');
INSERT INTO "events" VALUES(35,'AaJCPJ5sFfU8VzE2hwLqfQ',1,1,18,18,1,1795166220000,1796407598700,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee031f44c9ad696a7f3','');
INSERT INTO "events" VALUES(36,'AaJCPJ5s5uhzxnZbp8H6XQ',1,1,18,18,5,1795166280000,1796407598700,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f9940ef885d5425885727','');
INSERT INTO "events" VALUES(37,'AaJCPJ5srtdp3d3Fqm6DQQ',1,1,19,19,1,1795166280000,1796407598700,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99403c74cbe9971fe33f','');
INSERT INTO "events" VALUES(38,'AaJCPJ5snxrUHvVJ45-n1A',1,1,19,19,6,1795169880000,1796407598700,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c0d6fc9410388db722','');
INSERT INTO "events" VALUES(39,'AaJCPJ5sZ4TdcAmS1pjGbw',1,1,20,20,1,1795166340000,1796407598700,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a096f05fa4f990973b','');
INSERT INTO "events" VALUES(40,'AaJCPJ5zr0JdYYnBP9M_dA',1,1,1,1,3,1796407598707,1796407598707,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(41,'AaJCPJ51hgo9QsHRgGdJ0A',1,1,1,1,4,1796407598709,1796407598709,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(42,'AaJCPJ54TWgSpAq_kmKJfw',1,1,2,2,3,1796407598712,1796407598712,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(43,'AaJCPJ56weKtjDpcWM3Wmg',1,1,2,2,3,1796407598714,1796407598714,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(44,'AaJCPJ58yRypibil1jT_7A',1,1,2,2,4,1796407598716,1796407598716,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(45,'AaJCPJ5_iSIkRO9olR8eAg',1,1,3,3,3,1796407598719,1796407598719,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(46,'AaJCPJ6EJ3RmnGZwuHAryw',1,1,3,3,3,1796407598724,1796407598724,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(47,'AaJCPJ6HfuCTTpC1UbmOww',1,1,3,3,4,1796407598727,1796407598727,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(48,'AaJCPJ6JwyrC0kr2onCLAg',1,1,4,4,3,1796407598729,1796407598729,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(49,'AaJCPJ6Pl0fGM56WzKeb7Q',1,1,4,4,4,1796407598735,1796407598735,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(50,'AaJCPJ6R7m7eYHYH5wKYjQ',1,1,5,5,3,1796407598737,1796407598737,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(51,'AaJCPJ6SotwGcjWAjkUORA',1,1,5,5,3,1796407598738,1796407598738,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(52,'AaJCPJ6TRu5srXCsKeIRzg',1,1,6,6,3,1796407598739,1796407598739,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(53,'AaJCPJ6UaBjCvWjhA34GHw',1,1,6,6,3,1796407598740,1796407598740,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(54,'AaJCPJ6VAEA07pBF3xHJEQ',1,1,7,7,3,1796407598741,1796407598741,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(55,'AaJCPJ6W-uo5sNdTW3wJ3g',1,1,8,8,3,1796407598742,1796407598742,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(56,'AaJCPJ6XxmM-QVvfGUoHtA',1,1,8,8,3,1796407598743,1796407598743,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(57,'AaJCPJ6aBP3C0PqaUyU-ag',1,1,6,6,7,1796407598746,1796407598746,'tracking','',1,'person05@example.com','',NULL,X'0000000000000000aab9bda52d677599','');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCPJ6aBP3C0PqaUyU-ag',1796407598746,1796407598746,'','');
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCPJ5sdkdTr6y4MirInA',1795166160000,1796407598700,'','');
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCPJ5sif-aFzjuHhzTZg',1795166220000,1796407598700,'','');
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCPJ5snxrUHvVJ45-n1A',1795169880000,1796407598700,'','');
INSERT INTO "suppression_history" VALUES(1,1,'person15@example.com','added','hard_bounce','api','AaJCPJ5sdkdTr6y4MirInA','','cust-15','event','',1796407598700);
INSERT INTO "suppression_history" VALUES(2,1,'person16@example.com','added','hard_bounce','api','AaJCPJ5sif-aFzjuHhzTZg','','cust-16','event','',1796407598700);
INSERT INTO "suppression_history" VALUES(3,1,'person18@example.com','added','complaint','api','AaJCPJ5snxrUHvVJ45-n1A','','cust-18','event','',1796407598700);
INSERT INTO "suppression_history" VALUES(4,1,'person05@example.com','added','unsubscribed','tracking_link','AaJCPJ6aBP3C0PqaUyU-ag','','cust-05','event','',1796407598746);
INSERT INTO "soft_bounces" VALUES(1,'person17@example.com','{"b":[{"t":1795166280000,"id":"AaJCPJ5s5uhzxnZbp8H6XQ","s":"api"}]}');
INSERT INTO "indexer_state" VALUES('customer_events',0);
INSERT INTO "link_clicks" VALUES(1,1,1,1,1);
INSERT INTO "link_clicks" VALUES(1,1,3,1,1);
INSERT INTO "link_clicks" VALUES(1,2,2,1,1);
INSERT INTO "link_clicks" VALUES(1,2,4,1,1);
INSERT INTO "campaign_dims" VALUES(1,3,0,'thunderbird',13,13);
INSERT INTO "campaign_dims" VALUES(1,3,1,'desktop',13,13);
INSERT INTO "campaign_dims" VALUES(1,3,2,'',13,13);
INSERT INTO "campaign_dims" VALUES(1,3,3,'',13,13);
INSERT INTO "campaign_dims" VALUES(1,4,0,'thunderbird',4,4);
INSERT INTO "campaign_dims" VALUES(1,4,1,'desktop',4,4);
INSERT INTO "campaign_dims" VALUES(1,4,2,'',4,4);
INSERT INTO "campaign_dims" VALUES(1,4,3,'',4,4);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX connections_org ON connections (org_id, id);
CREATE INDEX customers_email ON customers (org_id, email);
CREATE INDEX suppressions_time ON suppressions (org_id, occurred_at, email);
CREATE INDEX suppression_history_email ON suppression_history (org_id, email, id);
CREATE INDEX messages_campaign ON messages (campaign_id, id);
CREATE INDEX events_message_clicks ON events (message_id, occurred_at) WHERE type = 4;
CREATE INDEX link_clicks_top ON link_clicks (campaign_id, url_id, human_clicks, message_id);
CREATE INDEX subscriptions_org ON subscriptions (org_id);
CREATE INDEX subscription_deliveries_sub ON subscription_deliveries (subscription_id, id);
CREATE UNIQUE INDEX orgs_tracking_host ON orgs (tracking_host) WHERE tracking_host != '';
