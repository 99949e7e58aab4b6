CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
, soft_bounce_limit INTEGER NOT NULL DEFAULT 5, keep_full_ip INTEGER NOT NULL DEFAULT 0, retention_days INTEGER NOT NULL DEFAULT 0);
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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407579404);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407579408);
INSERT INTO "schema_migrations" VALUES('migrations/003_suppressions.sql',1796407579411);
INSERT INTO "schema_migrations" VALUES('migrations/004_connection_mailbox.sql',1796407579414);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407579417);
INSERT INTO "schema_migrations" VALUES('migrations/006_analytics.sql',1796407579423);
INSERT INTO "schema_migrations" VALUES('migrations/007_outbox.sql',1796407579426);
INSERT INTO "orgs" VALUES(1,'org_iUuehLh9i5ns','Upgrade','Europe/Paris',1796407579443,5,0,0);
INSERT INTO "api_keys" VALUES(1,'key_nJMhhEWQygBe',1,'default','mt_j1SY9bR',X'f2ae967e676513de6c6ef847d93cee1dff7500dcd296872e770d48149abe5821',1796407579443,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407579459,1796407579462);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407579467,1796407579468);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407579474,1796407579480);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407579483,1796407579486);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407579489,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407579493,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407579495,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407579499,0);
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
INSERT INTO "messages" VALUES(1,X'766ce3c462fd4a8b5b5fc642',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407579447,1795165200000,1795165260000,1796407579459,1796407579459,1796407579462,1796407579462,0,0,0,0,1795165260000);
INSERT INTO "messages" VALUES(2,X'37906613a17ff65d4db5e680',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407579447,1795165260000,1795165320000,1796407579465,1796407579465,1796407579468,1796407579468,0,0,0,0,1795165320000);
INSERT INTO "messages" VALUES(3,X'6d3dba03ea53dca3faa9ebf4',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407579447,1795165320000,1795165380000,1796407579473,1796407579473,1796407579480,1796407579480,0,0,0,0,1795165380000);
INSERT INTO "messages" VALUES(4,X'106e1828689795127505ca33',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407579447,1795165380000,1795165440000,1796407579483,1796407579483,1796407579486,1796407579486,0,0,0,0,1795165440000);
INSERT INTO "messages" VALUES(5,X'ff7370dbecef25d12daa4730',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407579447,1795165440000,1795165500000,1796407579488,1796407579488,0,0,0,0,0,0,1795165500000);
INSERT INTO "messages" VALUES(6,X'1d43ef74b912aaea09f8e3b1',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407579447,1795165500000,1795165560000,1796407579491,1796407579491,0,0,0,0,0,1796407579500,1795165560000);
INSERT INTO "messages" VALUES(7,X'54ef0e71365134cf57716d8e',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407579447,1795165560000,1795165620000,1796407579495,1796407579495,0,0,0,0,0,0,1795165620000);
INSERT INTO "messages" VALUES(8,X'ec50a256058d488bf27b0e90',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407579447,1795165620000,1795165680000,1796407579498,1796407579498,0,0,0,0,0,0,1795165680000);
INSERT INTO "messages" VALUES(9,X'3c760b2aafc08f17df948429',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407579447,1795165680000,1795165740000,0,0,0,0,0,0,0,0,1795165740000);
INSERT INTO "messages" VALUES(10,X'de45845d0c04403c07be292e',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407579447,1795165740000,1795165800000,0,0,0,0,0,0,0,0,1795165800000);
INSERT INTO "messages" VALUES(11,X'8f424d1bbc5124bcb6e425ee',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407579447,1795165800000,1795165860000,0,0,0,0,0,0,0,0,1795165860000);
INSERT INTO "messages" VALUES(12,X'e930a56849daa8a33d30cf1d',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407579447,1795165860000,1795165920000,0,0,0,0,0,0,0,0,1795165920000);
INSERT INTO "messages" VALUES(13,X'4cdb2555d366ae35d754a44a',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407579447,1795165920000,1795165980000,0,0,0,0,0,0,0,0,1795165980000);
INSERT INTO "messages" VALUES(14,X'd3fd95cda8d7b5feb890f9b2',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407579447,1795165980000,1795166040000,0,0,0,0,0,0,0,0,1795166040000);
INSERT INTO "messages" VALUES(15,X'f58a70f65caeaa95a72b796a',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407579447,1795166040000,1795166100000,0,0,0,0,0,0,0,0,1795166100000);
INSERT INTO "messages" VALUES(16,X'e7f559d332b2171515a18ead',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407579447,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0,0);
INSERT INTO "messages" VALUES(17,X'b4ec597b799c10ea24f4b0aa',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407579447,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0,0);
INSERT INTO "messages" VALUES(18,X'317cb1f81ae4f4a0585fdb60',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407579447,1795166220000,0,0,0,0,0,1795166280000,0,0,0,0);
INSERT INTO "messages" VALUES(19,X'a5bdef7ef2bd15a97e715754',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407579447,1795166280000,0,0,0,0,0,0,0,1795169880000,0,0);
INSERT INTO "messages" VALUES(20,X'61063334ca3230381dece6bd',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407579447,1795166340000,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994628,15,14,0,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994629,5,1,0,0,0,0,3,2,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994633,0,0,0,0,0,0,0,0,1,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1996008,0,0,8,8,4,4,0,0,0,1,13,13,4,4);
INSERT INTO "link_stats" VALUES(1,1,2,2,2,2);
INSERT INTO "link_stats" VALUES(1,2,2,2,2,2);
INSERT INTO "events" VALUES(1,'AaJCPFM-TEbRpDz6uMEFkQ',1,1,1,1,1,1795165200000,1796407579454,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e80667396cf889b6865','');
INSERT INTO "events" VALUES(2,'AaJCPFM-ci1lhIPhOSOfug',1,1,1,1,2,1795165260000,1796407579454,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e01ca0dc4d21f1eee7','');
INSERT INTO "events" VALUES(3,'AaJCPFM-jLXS9ruJWzDkmw',1,1,2,2,1,1795165260000,1796407579454,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e0193906d107d829a9','');
INSERT INTO "events" VALUES(4,'AaJCPFM-JaJ63qfDIuXx7g',1,1,2,2,2,1795165320000,1796407579454,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340840a6d8a03822c8f','');
INSERT INTO "events" VALUES(5,'AaJCPFM-nlwsB3heTOaZvQ',1,1,3,3,1,1795165320000,1796407579454,'api','',1,'person02@example.com','',NULL,X'000001a1f830f34041e9f1dc0e50c4e8','');
INSERT INTO "events" VALUES(6,'AaJCPFM-9Ubhknw00i6DBw',1,1,3,3,2,1795165380000,1796407579454,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda0c3e48e656af9a0e0','');
INSERT INTO "events" VALUES(7,'AaJCPFM-FAwqHeCqFJu3EQ',1,1,4,4,1,1795165380000,1796407579454,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda08a1f5be26a653c7b','');
INSERT INTO "events" VALUES(8,'AaJCPFM-QKITXIIlAj7_zQ',1,1,4,4,2,1795165440000,1796407579454,'api','',1,'person03@example.com','',NULL,X'000001a1f832c8001da3bb11936b8803','');
INSERT INTO "events" VALUES(9,'AaJCPFM-ppNjQUNpJXSeqQ',1,1,5,5,1,1795165440000,1796407579454,'api','',1,'person04@example.com','',NULL,X'000001a1f832c800d75af1f4e0177df4','');
INSERT INTO "events" VALUES(10,'AaJCPFM-p7KQsi6XtuWheA',1,1,5,5,2,1795165500000,1796407579454,'api','',1,'person04@example.com','',NULL,X'000001a1f833b2605b76816362632146','');
INSERT INTO "events" VALUES(11,'AaJCPFM-Q9T2hsw-wgOS0Q',1,1,6,6,1,1795165500000,1796407579454,'api','',1,'person05@example.com','',NULL,X'000001a1f833b260890be0b009e66f7b','');
INSERT INTO "events" VALUES(12,'AaJCPFM-evrfyPGaK3SN6g',1,1,6,6,2,1795165560000,1796407579454,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc0ad04632a5c7796c1','');
INSERT INTO "events" VALUES(13,'AaJCPFM-4rKluw1wWvuWIg',1,1,7,7,1,1795165560000,1796407579454,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc080292443827ee167','');
INSERT INTO "events" VALUES(14,'AaJCPFM-SK-VHrwi30lfsQ',1,1,7,7,2,1795165620000,1796407579454,'api','',1,'person06@example.com','',NULL,X'000001a1f83587207f9284a8c657f078','');
INSERT INTO "events" VALUES(15,'AaJCPFM-xbV5JjcUBNWHzA',1,1,8,8,1,1795165620000,1796407579454,'api','',1,'person07@example.com','',NULL,X'000001a1f8358720385bf8a431179e88','');
INSERT INTO "events" VALUES(16,'AaJCPFM-v5r5F-C-HVMn_w',1,1,8,8,2,1795165680000,1796407579454,'api','',1,'person07@example.com','',NULL,X'000001a1f8367180df4e902f648bad7a','');
INSERT INTO "events" VALUES(17,'AaJCPFM-esF94kvIM1zM3A',1,1,9,9,1,1795165680000,1796407579454,'api','',1,'person08@example.com','',NULL,X'000001a1f83671800c9bdb3043e01602','');
INSERT INTO "events" VALUES(18,'AaJCPFM-xIQNIpgRrssH8A',1,1,9,9,2,1795165740000,1796407579454,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be03fb68280f8e2ea0c','');
INSERT INTO "events" VALUES(19,'AaJCPFM-NSjYS6PEW0THTw',1,1,10,10,1,1795165740000,1796407579454,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be0c9f530fabcdc4a17','');
INSERT INTO "events" VALUES(20,'AaJCPFM-NXCKoxk2I0ZmsQ',1,1,10,10,2,1795165800000,1796407579454,'api','',1,'person09@example.com','',NULL,X'000001a1f83846402cbbf1e8f228f645','');
INSERT INTO "events" VALUES(21,'AaJCPFM-6OE70Mlt2tsYGg',1,1,11,11,1,1795165800000,1796407579454,'api','',1,'person10@example.com','',NULL,X'000001a1f8384640ab232b1ca1b5b9be','');
INSERT INTO "events" VALUES(22,'AaJCPFM-bNMlNABAeCu-nA',1,1,11,11,2,1795165860000,1796407579454,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a06eaf4aa5fdfa662d','');
INSERT INTO "events" VALUES(23,'AaJCPFM-1CDiQft-y-gSsg',1,1,12,12,1,1795165860000,1796407579454,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0d743dbc7b31412d5','');
INSERT INTO "events" VALUES(24,'AaJCPFM-JqiXNxRvYkveyQ',1,1,12,12,2,1795165920000,1796407579454,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b00877d57b487a26333','');
INSERT INTO "events" VALUES(25,'AaJCPFM-kVl3GLX1soROYA',1,1,13,13,1,1795165920000,1796407579454,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b00f1e41d3b6eccf08b','');
INSERT INTO "events" VALUES(26,'AaJCPFM-gUvNFniwSl4X6g',1,1,13,13,2,1795165980000,1796407579454,'api','',1,'person12@example.com','',NULL,X'000001a1f83b05600e0c2d0921a062ec','');
INSERT INTO "events" VALUES(27,'AaJCPFM-gFSp25TNQFqFcw',1,1,14,14,1,1795165980000,1796407579454,'api','',1,'person13@example.com','',NULL,X'000001a1f83b05601d13b823984a61f9','');
INSERT INTO "events" VALUES(28,'AaJCPFM-ZyWi9Y4ku6dADA',1,1,14,14,2,1795166040000,1796407579454,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc062cb22ae1ee4c9d4','');
INSERT INTO "events" VALUES(29,'AaJCPFM-_x4DFaBmzgcicA',1,1,15,15,1,1795166040000,1796407579454,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc01f0ed9da25b35c47','');
INSERT INTO "events" VALUES(30,'AaJCPFM-bDV6uTxZamKhBA',1,1,15,15,2,1795166100000,1796407579454,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda208385e7a2d0ce6502','');
INSERT INTO "events" VALUES(31,'AaJCPFM-TPLifji9A8CsDg',1,1,16,16,1,1795166100000,1796407579454,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda200faf1f4a35e0219b','');
INSERT INTO "events" VALUES(32,'AaJCPFM-mhRDVz1Pd3bumg',1,1,16,16,5,1795166160000,1796407579454,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc480cd31b08d663a1441','');
INSERT INTO "events" VALUES(33,'AaJCPFM-JcpyOowfybFA7Q',1,1,17,17,1,1795166160000,1796407579454,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc4801cbd1709335182cd','');
INSERT INTO "events" VALUES(34,'AaJCPFM-jSf697-3vAJvnw',1,1,17,17,5,1795166220000,1796407579454,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee02f3a4125816e1bdc','');
INSERT INTO "events" VALUES(35,'AaJCPFM-kMJ4nxLn0bw_Zw',1,1,18,18,1,1795166220000,1796407579454,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0a0cbbbec56c298d3','');
INSERT INTO "events" VALUES(36,'AaJCPFM-ieVB9aOh6evvTw',1,1,18,18,5,1795166280000,1796407579454,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f9940097a9624bb608065','');
INSERT INTO "events" VALUES(37,'AaJCPFM-Rn-g-GLRgeSbMw',1,1,19,19,1,1795166280000,1796407579454,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99405543b6de2f4e0261','');
INSERT INTO "events" VALUES(38,'AaJCPFM-L6FzlWztQusYDw',1,1,19,19,6,1795169880000,1796407579454,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c028c4292869eb71f5','');
INSERT INTO "events" VALUES(39,'AaJCPFM-pZ2CpxBmmrTduw',1,1,20,20,1,1795166340000,1796407579454,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a0bf4907f966a7fc02','');
INSERT INTO "events" VALUES(40,'AaJCPFNDn8Qazr6ZhUJJ9g',1,1,1,1,3,1796407579459,1796407579459,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(41,'AaJCPFNGmKcovzyYcGhyUw',1,1,1,1,4,1796407579462,1796407579462,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(42,'AaJCPFNJNxEc9FPkF5kIOA',1,1,2,2,3,1796407579465,1796407579465,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(43,'AaJCPFNLy7KmKS74Al1Sww',1,1,2,2,3,1796407579467,1796407579467,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(44,'AaJCPFNMe4PCWawa6RIROg',1,1,2,2,4,1796407579468,1796407579468,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(45,'AaJCPFNRcKrqfZrAli4tcw',1,1,3,3,3,1796407579473,1796407579473,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(46,'AaJCPFNSDQ2YS_EPwT6JhQ',1,1,3,3,3,1796407579474,1796407579474,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(47,'AaJCPFNYCDQUjR17uDOCFQ',1,1,3,3,4,1796407579480,1796407579480,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(48,'AaJCPFNblyt9pYceAea3uQ',1,1,4,4,3,1796407579483,1796407579483,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(49,'AaJCPFNeZwE-GydapFWmPg',1,1,4,4,4,1796407579486,1796407579486,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(50,'AaJCPFNgCSfWYBBLzN07yw',1,1,5,5,3,1796407579488,1796407579488,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(51,'AaJCPFNhsMXAMQXn99S96w',1,1,5,5,3,1796407579489,1796407579489,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(52,'AaJCPFNj1z9b-1p_z4XNDw',1,1,6,6,3,1796407579491,1796407579491,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(53,'AaJCPFNlMPY7rjWmihAAtg',1,1,6,6,3,1796407579493,1796407579493,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(54,'AaJCPFNn7qvtBzgW5bZh_Q',1,1,7,7,3,1796407579495,1796407579495,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(55,'AaJCPFNq7RE0fiyILVr6wA',1,1,8,8,3,1796407579498,1796407579498,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(56,'AaJCPFNr7aqchOboGcQZzA',1,1,8,8,3,1796407579499,1796407579499,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(57,'AaJCPFNs08BjjakibHDkpg',1,1,6,6,7,1796407579500,1796407579500,'tracking','',1,'person05@example.com','',NULL,X'00000000000000004c3814cc5138956e','');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCPFNs08BjjakibHDkpg',1796407579500,1796407579500,'','');
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCPFM-mhRDVz1Pd3bumg',1795166160000,1796407579454,'','');
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCPFM-jSf697-3vAJvnw',1795166220000,1796407579454,'','');
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCPFM-L6FzlWztQusYDw',1795169880000,1796407579454,'','');
INSERT INTO "suppression_history" VALUES(1,1,'person15@example.com','added','hard_bounce','api','AaJCPFM-mhRDVz1Pd3bumg','','cust-15','event','',1796407579454);
INSERT INTO "suppression_history" VALUES(2,1,'person16@example.com','added','hard_bounce','api','AaJCPFM-jSf697-3vAJvnw','','cust-16','event','',1796407579454);
INSERT INTO "suppression_history" VALUES(3,1,'person18@example.com','added','complaint','api','AaJCPFM-L6FzlWztQusYDw','','cust-18','event','',1796407579454);
INSERT INTO "suppression_history" VALUES(4,1,'person05@example.com','added','unsubscribed','tracking_link','AaJCPFNs08BjjakibHDkpg','','cust-05','event','',1796407579500);
INSERT INTO "soft_bounces" VALUES(1,'person17@example.com','{"b":[{"t":1795166280000,"id":"AaJCPFM-ieVB9aOh6evvTw","s":"api"}]}');
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
