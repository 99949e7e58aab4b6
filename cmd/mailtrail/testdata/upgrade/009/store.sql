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
, scope TEXT NOT NULL DEFAULT 'all');
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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407479719);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407479726);
INSERT INTO "schema_migrations" VALUES('migrations/003_suppressions.sql',1796407479739);
INSERT INTO "schema_migrations" VALUES('migrations/004_connection_mailbox.sql',1796407479745);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407479756);
INSERT INTO "schema_migrations" VALUES('migrations/006_analytics.sql',1796407479765);
INSERT INTO "schema_migrations" VALUES('migrations/007_outbox.sql',1796407479768);
INSERT INTO "schema_migrations" VALUES('migrations/008_tracking_url.sql',1796407479769);
INSERT INTO "schema_migrations" VALUES('migrations/009_key_scope.sql',1796407479771);
INSERT INTO "orgs" VALUES(1,'org_TykAfrUJY3iw','Upgrade','Europe/Paris',1796407479782,5,0,0,'','');
INSERT INTO "api_keys" VALUES(1,'key__YSxekx-a0s1',1,'default','mt_vbZbiKy',X'490def6193c3651e3a3a28afdbb3765afab17927c8ee9cafaff54e0f8aebf03c',1796407479782,NULL,'all');
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407479805,1796407479811);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407479817,1796407479819);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407479823,1796407479826);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407479828,1796407479831);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407479836,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407479843,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407479846,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407479855,0);
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
INSERT INTO "messages" VALUES(1,X'9190a372db8862a3718e7eab',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407479791,1795165200000,1795165260000,1796407479805,1796407479805,1796407479811,1796407479811,0,0,0,0,1795165260000);
INSERT INTO "messages" VALUES(2,X'7a7fa44f29c8e09e803a6f58',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407479791,1795165260000,1795165320000,1796407479815,1796407479815,1796407479819,1796407479819,0,0,0,0,1795165320000);
INSERT INTO "messages" VALUES(3,X'fcc41fedc851848703acf049',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407479791,1795165320000,1795165380000,1796407479821,1796407479821,1796407479826,1796407479826,0,0,0,0,1795165380000);
INSERT INTO "messages" VALUES(4,X'2d7999661a9842106b323ec8',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407479791,1795165380000,1795165440000,1796407479828,1796407479828,1796407479831,1796407479831,0,0,0,0,1795165440000);
INSERT INTO "messages" VALUES(5,X'230f663dabb9f23c5cd76a88',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407479791,1795165440000,1795165500000,1796407479834,1796407479834,0,0,0,0,0,0,1795165500000);
INSERT INTO "messages" VALUES(6,X'7af364c9e2785b450ecff4a3',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407479791,1795165500000,1795165560000,1796407479839,1796407479839,0,0,0,0,0,1796407479857,1795165560000);
INSERT INTO "messages" VALUES(7,X'e2fda0d008964a0043ddf048',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407479791,1795165560000,1795165620000,1796407479846,1796407479846,0,0,0,0,0,0,1795165620000);
INSERT INTO "messages" VALUES(8,X'c5437c15531c65e1457c71ab',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407479791,1795165620000,1795165680000,1796407479850,1796407479850,0,0,0,0,0,0,1795165680000);
INSERT INTO "messages" VALUES(9,X'68b1769e99f47413a9453f4f',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407479791,1795165680000,1795165740000,0,0,0,0,0,0,0,0,1795165740000);
INSERT INTO "messages" VALUES(10,X'a01cbf68235ecd5c0af39219',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407479791,1795165740000,1795165800000,0,0,0,0,0,0,0,0,1795165800000);
INSERT INTO "messages" VALUES(11,X'b02d5267ce7a259686002ca7',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407479791,1795165800000,1795165860000,0,0,0,0,0,0,0,0,1795165860000);
INSERT INTO "messages" VALUES(12,X'650a018357c1197b44c82bf7',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407479791,1795165860000,1795165920000,0,0,0,0,0,0,0,0,1795165920000);
INSERT INTO "messages" VALUES(13,X'83ef667091b2ac8d2a12c69b',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407479791,1795165920000,1795165980000,0,0,0,0,0,0,0,0,1795165980000);
INSERT INTO "messages" VALUES(14,X'b04a2c1b12b131e886bd69f8',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407479791,1795165980000,1795166040000,0,0,0,0,0,0,0,0,1795166040000);
INSERT INTO "messages" VALUES(15,X'd398254b141725f03623113b',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407479791,1795166040000,1795166100000,0,0,0,0,0,0,0,0,1795166100000);
INSERT INTO "messages" VALUES(16,X'33ae61be69d3c03b1ead0fd3',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407479791,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0,0);
INSERT INTO "messages" VALUES(17,X'05083987e8755e2274a21a4a',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407479791,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0,0);
INSERT INTO "messages" VALUES(18,X'599b668ca6b9b9b8149ec9d2',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407479791,1795166220000,0,0,0,0,0,1795166280000,0,0,0,0);
INSERT INTO "messages" VALUES(19,X'690c91cbac3ef00eb7b3e671',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407479791,1795166280000,0,0,0,0,0,0,0,1795169880000,0,0);
INSERT INTO "messages" VALUES(20,X'7d9ac7b3fae5b048f8498484',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407479791,1795166340000,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994628,15,14,0,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994629,5,1,0,0,0,0,3,2,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994633,0,0,0,0,0,0,0,0,1,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1996008,0,0,8,8,4,4,0,0,0,1,13,13,4,4);
INSERT INTO "link_stats" VALUES(1,1,2,2,2,2);
INSERT INTO "link_stats" VALUES(1,2,2,2,2,2);
INSERT INTO "events" VALUES(1,'AaJCOs335OHraYxOU4xbVg',1,1,1,1,1,1795165200000,1796407479799,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e80af24abe4de73b4ca','');
INSERT INTO "events" VALUES(2,'AaJCOs334aTmb-QfG13eHA',1,1,1,1,2,1795165260000,1796407479799,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e0b924b7dc5ce52c6f','');
INSERT INTO "events" VALUES(3,'AaJCOs336Mgig4owjI6D-g',1,1,2,2,1,1795165260000,1796407479799,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e08a1e678e56094760','');
INSERT INTO "events" VALUES(4,'AaJCOs33nMJQxOtdKdOLIA',1,1,2,2,2,1795165320000,1796407479799,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340fc28ad53f7e40b07','');
INSERT INTO "events" VALUES(5,'AaJCOs33SBw0X-NP22QFjw',1,1,3,3,1,1795165320000,1796407479799,'api','',1,'person02@example.com','',NULL,X'000001a1f830f340ce2e522dd0cea3a8','');
INSERT INTO "events" VALUES(6,'AaJCOs339PeTsSAE-rwqWQ',1,1,3,3,2,1795165380000,1796407479799,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda0b5a88b9ad4e27ce7','');
INSERT INTO "events" VALUES(7,'AaJCOs33nUNGVRs6zoRIcg',1,1,4,4,1,1795165380000,1796407479799,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0a4bc732deb31d1b0','');
INSERT INTO "events" VALUES(8,'AaJCOs33yQJr8QrLSsClYA',1,1,4,4,2,1795165440000,1796407479799,'api','',1,'person03@example.com','',NULL,X'000001a1f832c800c230cb1162d4991c','');
INSERT INTO "events" VALUES(9,'AaJCOs33QTS9Ygzb5GIMlA',1,1,5,5,1,1795165440000,1796407479799,'api','',1,'person04@example.com','',NULL,X'000001a1f832c800f1e6b117e217c520','');
INSERT INTO "events" VALUES(10,'AaJCOs33fx9j1NFdqAYcEA',1,1,5,5,2,1795165500000,1796407479799,'api','',1,'person04@example.com','',NULL,X'000001a1f833b26034e9db19b49a6587','');
INSERT INTO "events" VALUES(11,'AaJCOs33HC3LqIohFKUhuw',1,1,6,6,1,1795165500000,1796407479799,'api','',1,'person05@example.com','',NULL,X'000001a1f833b26083affc386ed888da','');
INSERT INTO "events" VALUES(12,'AaJCOs33kMb24GFPgRgr6w',1,1,6,6,2,1795165560000,1796407479799,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc0a91c1b03d361e918','');
INSERT INTO "events" VALUES(13,'AaJCOs33X6nqrUrTMv1zZA',1,1,7,7,1,1795165560000,1796407479799,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc0258f25f9edbf4580','');
INSERT INTO "events" VALUES(14,'AaJCOs33jKcuU4X0cxNDCA',1,1,7,7,2,1795165620000,1796407479799,'api','',1,'person06@example.com','',NULL,X'000001a1f8358720d8e11ece5d56b8ce','');
INSERT INTO "events" VALUES(15,'AaJCOs33Vsh_mFmaYKad5w',1,1,8,8,1,1795165620000,1796407479799,'api','',1,'person07@example.com','',NULL,X'000001a1f8358720acfcfdbd2cfe6ed3','');
INSERT INTO "events" VALUES(16,'AaJCOs33j8GSzoigcbdY0g',1,1,8,8,2,1795165680000,1796407479799,'api','',1,'person07@example.com','',NULL,X'000001a1f8367180dd7527c1f7897095','');
INSERT INTO "events" VALUES(17,'AaJCOs33hSpF0-rZBSpJ9Q',1,1,9,9,1,1795165680000,1796407479799,'api','',1,'person08@example.com','',NULL,X'000001a1f83671808b30baa645b7b997','');
INSERT INTO "events" VALUES(18,'AaJCOs33jP-uWNPY02Ju_g',1,1,9,9,2,1795165740000,1796407479799,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be0738f7b06a141dd11','');
INSERT INTO "events" VALUES(19,'AaJCOs33NkAiakk4W-pgmA',1,1,10,10,1,1795165740000,1796407479799,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be080cd592515612094','');
INSERT INTO "events" VALUES(20,'AaJCOs33UWE0BwADvCObXQ',1,1,10,10,2,1795165800000,1796407479799,'api','',1,'person09@example.com','',NULL,X'000001a1f8384640be710ee9ad1c2c53','');
INSERT INTO "events" VALUES(21,'AaJCOs33IOxT1otb5XhwaQ',1,1,11,11,1,1795165800000,1796407479799,'api','',1,'person10@example.com','',NULL,X'000001a1f83846409379ec4bfb013acd','');
INSERT INTO "events" VALUES(22,'AaJCOs336SVbayU5G9ztfA',1,1,11,11,2,1795165860000,1796407479799,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a06a89e48e647b659d','');
INSERT INTO "events" VALUES(23,'AaJCOs33BRKnsZBL1_pdhQ',1,1,12,12,1,1795165860000,1796407479799,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0464470f77e5cd022','');
INSERT INTO "events" VALUES(24,'AaJCOs33KAPiqX3TbfP4YA',1,1,12,12,2,1795165920000,1796407479799,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b00fd502584e7d65458','');
INSERT INTO "events" VALUES(25,'AaJCOs33lXNaVBSjk2Sj_A',1,1,13,13,1,1795165920000,1796407479799,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b0026d1e855a8840016','');
INSERT INTO "events" VALUES(26,'AaJCOs332y3H-XuLvb5b_w',1,1,13,13,2,1795165980000,1796407479799,'api','',1,'person12@example.com','',NULL,X'000001a1f83b05607c6989ae00230487','');
INSERT INTO "events" VALUES(27,'AaJCOs33lFf1Z9UiDUjW6w',1,1,14,14,1,1795165980000,1796407479799,'api','',1,'person13@example.com','',NULL,X'000001a1f83b0560d06da1e6a3385a95','');
INSERT INTO "events" VALUES(28,'AaJCOs33iupusR_kaodi3Q',1,1,14,14,2,1795166040000,1796407479799,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc05e6531c7e4ba5a65','');
INSERT INTO "events" VALUES(29,'AaJCOs33_XBWQJjJF-ZZBA',1,1,15,15,1,1795166040000,1796407479799,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc0a73b085fba641942','');
INSERT INTO "events" VALUES(30,'AaJCOs33bOgG6DpVHVIsvA',1,1,15,15,2,1795166100000,1796407479799,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda20634b5862e67ce4ab','');
INSERT INTO "events" VALUES(31,'AaJCOs33NAgaG-BtuSvj0Q',1,1,16,16,1,1795166100000,1796407479799,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda208de26790a05f361f','');
INSERT INTO "events" VALUES(32,'AaJCOs33mvIzvu-cOaARsA',1,1,16,16,5,1795166160000,1796407479799,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc4800ae5735b6b50f8d3','');
INSERT INTO "events" VALUES(33,'AaJCOs33IQz1W67qb-8sgw',1,1,17,17,1,1795166160000,1796407479799,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc48048a38929d3e2334b','');
INSERT INTO "events" VALUES(34,'AaJCOs33_KRNumWQ47LVBw',1,1,17,17,5,1795166220000,1796407479799,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee04b2cce1b67379dd8','');
INSERT INTO "events" VALUES(35,'AaJCOs33QZYMuJbYBZP85Q',1,1,18,18,1,1795166220000,1796407479799,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0a5cd94df83c2a2e6','');
INSERT INTO "events" VALUES(36,'AaJCOs33_2wuHfy2ETg3-g',1,1,18,18,5,1795166280000,1796407479799,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f99405d5e0d3fa4badeaf','');
INSERT INTO "events" VALUES(37,'AaJCOs33J6y-B6kUkWGXzg',1,1,19,19,1,1795166280000,1796407479799,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99403f608412006faaf2','');
INSERT INTO "events" VALUES(38,'AaJCOs33Xf3JCV79uclkVg',1,1,19,19,6,1795169880000,1796407479799,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c053e4a8d478c747de','');
INSERT INTO "events" VALUES(39,'AaJCOs33BQhSTsJ2KQNP4A',1,1,20,20,1,1795166340000,1796407479799,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a0f16a43b4b7fc53b7','');
INSERT INTO "events" VALUES(40,'AaJCOs39ILpfdsdkmkYJvA',1,1,1,1,3,1796407479805,1796407479805,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(41,'AaJCOs4DWAdBM_HSr4ii7A',1,1,1,1,4,1796407479811,1796407479811,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(42,'AaJCOs4HY4ERA0cV1Kubyg',1,1,2,2,3,1796407479815,1796407479815,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(43,'AaJCOs4JN6XrSUGMrh6p4Q',1,1,2,2,3,1796407479817,1796407479817,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(44,'AaJCOs4L-EgU256vf7MR7g',1,1,2,2,4,1796407479819,1796407479819,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(45,'AaJCOs4NPPxKyVf3ubL8Rg',1,1,3,3,3,1796407479821,1796407479821,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(46,'AaJCOs4PxSCHAzER-hN__g',1,1,3,3,3,1796407479823,1796407479823,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(47,'AaJCOs4S16S7Z0JaUDRV4g',1,1,3,3,4,1796407479826,1796407479826,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(48,'AaJCOs4U4akZh9fy0cTBUw',1,1,4,4,3,1796407479828,1796407479828,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(49,'AaJCOs4XJIISaouYzQ2lGA',1,1,4,4,4,1796407479831,1796407479831,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(50,'AaJCOs4awkJ-oL2K0XcFhw',1,1,5,5,3,1796407479834,1796407479834,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(51,'AaJCOs4c8cMrDqBn2YqxMg',1,1,5,5,3,1796407479836,1796407479836,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(52,'AaJCOs4fkAgY2KRbNCQQug',1,1,6,6,3,1796407479839,1796407479839,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(53,'AaJCOs4j07fL_qxS_eSCng',1,1,6,6,3,1796407479843,1796407479843,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(54,'AaJCOs4mXRXuuIiqRrTkEg',1,1,7,7,3,1796407479846,1796407479846,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(55,'AaJCOs4qIHOIMVY4a-ihQQ',1,1,8,8,3,1796407479850,1796407479850,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(56,'AaJCOs4vSuu7KYfaoauK9g',1,1,8,8,3,1796407479855,1796407479855,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(57,'AaJCOs4xQSfOK0vLxID9uA',1,1,6,6,7,1796407479857,1796407479857,'tracking','',1,'person05@example.com','',NULL,X'00000000000000004f07400330391c36','');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCOs4xQSfOK0vLxID9uA',1796407479857,1796407479857,'','');
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCOs33mvIzvu-cOaARsA',1795166160000,1796407479799,'','');
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCOs33_KRNumWQ47LVBw',1795166220000,1796407479799,'','');
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCOs33Xf3JCV79uclkVg',1795169880000,1796407479799,'','');
INSERT INTO "suppression_history" VALUES(1,1,'person15@example.com','added','hard_bounce','api','AaJCOs33mvIzvu-cOaARsA','','cust-15','event','',1796407479799);
INSERT INTO "suppression_history" VALUES(2,1,'person16@example.com','added','hard_bounce','api','AaJCOs33_KRNumWQ47LVBw','','cust-16','event','',1796407479799);
INSERT INTO "suppression_history" VALUES(3,1,'person18@example.com','added','complaint','api','AaJCOs33Xf3JCV79uclkVg','','cust-18','event','',1796407479799);
INSERT INTO "suppression_history" VALUES(4,1,'person05@example.com','added','unsubscribed','tracking_link','AaJCOs4xQSfOK0vLxID9uA','','cust-05','event','',1796407479857);
INSERT INTO "soft_bounces" VALUES(1,'person17@example.com','{"b":[{"t":1795166280000,"id":"AaJCOs33_2wuHfy2ETg3-g","s":"api"}]}');
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
