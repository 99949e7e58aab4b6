CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
, soft_bounce_limit INTEGER NOT NULL DEFAULT 5);
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
);
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
CREATE TABLE message_links (
    message_id INTEGER NOT NULL,
    url_id     INTEGER NOT NULL,
    human      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, url_id)
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
);
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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407542924);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407542927);
INSERT INTO "schema_migrations" VALUES('migrations/003_suppressions.sql',1796407542930);
INSERT INTO "schema_migrations" VALUES('migrations/004_connection_mailbox.sql',1796407542933);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407542939);
INSERT INTO "orgs" VALUES(1,'org_3IVIU6f1wKat','Upgrade','Europe/Paris',1796407542946,5);
INSERT INTO "api_keys" VALUES(1,'key_y11QxegFTKVl',1,'default','mt_Qt9fkPD',X'63fa3a1ac8956e3f19ecbfa369dbb9dab3be46affc936c9d0a6f5ef9b1cb8634',1796407542946,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407542957,1796407542959);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407542961,1796407542963);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407542975,1796407542977);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407542978,1796407542979);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407542981,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407542982,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407542984,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407542986,0);
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
INSERT INTO "messages" VALUES(1,X'667853e65a254312e11513f5',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407542948,1795165200000,1795165260000,1796407542957,1796407542957,1796407542959,1796407542959,0,0,0,0);
INSERT INTO "messages" VALUES(2,X'10ce9d3e816a8ad8721dfa77',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407542948,1795165260000,1795165320000,1796407542960,1796407542960,1796407542963,1796407542963,0,0,0,0);
INSERT INTO "messages" VALUES(3,X'c8d57ffe6c2bce27dcf18851',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407542948,1795165320000,1795165380000,1796407542964,1796407542964,1796407542977,1796407542977,0,0,0,0);
INSERT INTO "messages" VALUES(4,X'f7dde93b6c7bd55936ffb0b1',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407542948,1795165380000,1795165440000,1796407542978,1796407542978,1796407542979,1796407542979,0,0,0,0);
INSERT INTO "messages" VALUES(5,X'1f831493cbb84ca8830d103b',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407542948,1795165440000,1795165500000,1796407542980,1796407542980,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(6,X'586ea04bb7c699b45cf381f7',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407542948,1795165500000,1795165560000,1796407542981,1796407542981,0,0,0,0,0,1796407542987);
INSERT INTO "messages" VALUES(7,X'0af774058397a93e44790335',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407542948,1795165560000,1795165620000,1796407542984,1796407542984,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(8,X'749cbecbf85a6b24fe533d95',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407542948,1795165620000,1795165680000,1796407542985,1796407542985,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(9,X'c47ca4d486f00ae91f4e2fe6',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407542948,1795165680000,1795165740000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(10,X'7f93f57b6483e10e7c200eee',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407542948,1795165740000,1795165800000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(11,X'b3078063084a682607c3b2c5',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407542948,1795165800000,1795165860000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(12,X'a93b0c570793f5f186c57747',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407542948,1795165860000,1795165920000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(13,X'f61c66094b0253fee0247028',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407542948,1795165920000,1795165980000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(14,X'060bf46994b2d82017dfb3f7',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407542948,1795165980000,1795166040000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(15,X'd6dd91ed521460c03a4fba68',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407542948,1795166040000,1795166100000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(16,X'709c2aace693e492e292a8b7',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407542948,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0);
INSERT INTO "messages" VALUES(17,X'2d1cc97027e92739993d9426',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407542948,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0);
INSERT INTO "messages" VALUES(18,X'f1e9811272288887833c7362',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407542948,1795166220000,0,0,0,0,0,1795166280000,0,0,0);
INSERT INTO "messages" VALUES(19,X'37ef5d32b2c46d4f98b936a4',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407542948,1795166280000,0,0,0,0,0,0,0,1795169880000,0);
INSERT INTO "messages" VALUES(20,X'3776beb440c2d76f7b9886e3',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407542948,1795166340000,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994628,15,14,0,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994629,5,1,0,0,0,0,3,2,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994633,0,0,0,0,0,0,0,0,1,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1996008,0,0,8,8,4,4,0,0,0,1,13,13,4,4);
INSERT INTO "link_stats" VALUES(1,1,2,2,2,2);
INSERT INTO "link_stats" VALUES(1,2,2,2,2,2);
INSERT INTO "message_links" VALUES(1,1,1);
INSERT INTO "message_links" VALUES(2,2,1);
INSERT INTO "message_links" VALUES(3,1,1);
INSERT INTO "message_links" VALUES(4,2,1);
INSERT INTO "events" VALUES(1,'AaJCO8SpEn2UdIlKdHEZZg',1,1,1,1,1,1795165200000,1796407542953,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e80d5bcb3db2104d1b0');
INSERT INTO "events" VALUES(2,'AaJCO8SpvyOx7OSMfZn6DA',1,1,1,1,2,1795165260000,1796407542953,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e033796b1aa40724e1');
INSERT INTO "events" VALUES(3,'AaJCO8SpTns6Zp75kLWhFw',1,1,2,2,1,1795165260000,1796407542953,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e0c2e8ccc9ee048a8c');
INSERT INTO "events" VALUES(4,'AaJCO8Sptuv4OXEO-mKHXA',1,1,2,2,2,1795165320000,1796407542953,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340ec2322850dca25fe');
INSERT INTO "events" VALUES(5,'AaJCO8Sp3xK1-MCBXcBM-Q',1,1,3,3,1,1795165320000,1796407542953,'api','',1,'person02@example.com','',NULL,X'000001a1f830f3405476d3344f96bea5');
INSERT INTO "events" VALUES(6,'AaJCO8SpbuS5RGh_jHOldQ',1,1,3,3,2,1795165380000,1796407542953,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda0535a724d20b624cd');
INSERT INTO "events" VALUES(7,'AaJCO8SpR0g8L0ecsDsv7g',1,1,4,4,1,1795165380000,1796407542953,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0fd061d9f0d439dab');
INSERT INTO "events" VALUES(8,'AaJCO8SpKfKd0T9z3uZr-Q',1,1,4,4,2,1795165440000,1796407542953,'api','',1,'person03@example.com','',NULL,X'000001a1f832c80049e76d1bbdcd61f4');
INSERT INTO "events" VALUES(9,'AaJCO8Sp_a1grxkJ7F5w0A',1,1,5,5,1,1795165440000,1796407542953,'api','',1,'person04@example.com','',NULL,X'000001a1f832c8009e4672787dc2eb81');
INSERT INTO "events" VALUES(10,'AaJCO8SpOG0c20snbrEinw',1,1,5,5,2,1795165500000,1796407542953,'api','',1,'person04@example.com','',NULL,X'000001a1f833b2602fd085dcf6865a2b');
INSERT INTO "events" VALUES(11,'AaJCO8SpTYvhMrWP6kOTpQ',1,1,6,6,1,1795165500000,1796407542953,'api','',1,'person05@example.com','',NULL,X'000001a1f833b260706469032dec0330');
INSERT INTO "events" VALUES(12,'AaJCO8SpoFB8Tdkkw0fryA',1,1,6,6,2,1795165560000,1796407542953,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc02c267464510d3ecc');
INSERT INTO "events" VALUES(13,'AaJCO8SpqWwpxbas8IeerA',1,1,7,7,1,1795165560000,1796407542953,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc0a58b4e8729cdf959');
INSERT INTO "events" VALUES(14,'AaJCO8SpCCifn4KJzJDVjQ',1,1,7,7,2,1795165620000,1796407542953,'api','',1,'person06@example.com','',NULL,X'000001a1f835872022990a8a6a8e6e4f');
INSERT INTO "events" VALUES(15,'AaJCO8Sp_ryNLUKMNuLoCg',1,1,8,8,1,1795165620000,1796407542953,'api','',1,'person07@example.com','',NULL,X'000001a1f83587206d19a47b4b951512');
INSERT INTO "events" VALUES(16,'AaJCO8SpG3QlboWWUPyYzA',1,1,8,8,2,1795165680000,1796407542953,'api','',1,'person07@example.com','',NULL,X'000001a1f8367180ea706dfb58fb1d54');
INSERT INTO "events" VALUES(17,'AaJCO8SpSQVhd7fkPUWNDg',1,1,9,9,1,1795165680000,1796407542953,'api','',1,'person08@example.com','',NULL,X'000001a1f8367180e52c0b946e8ba6f2');
INSERT INTO "events" VALUES(18,'AaJCO8SpCrtqnw5rbl-3MQ',1,1,9,9,2,1795165740000,1796407542953,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be039449a1ae94e32fa');
INSERT INTO "events" VALUES(19,'AaJCO8SpNnZO_PQ93vsViA',1,1,10,10,1,1795165740000,1796407542953,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be065c3aa6df26ed902');
INSERT INTO "events" VALUES(20,'AaJCO8SppbpzewCP9PEaeA',1,1,10,10,2,1795165800000,1796407542953,'api','',1,'person09@example.com','',NULL,X'000001a1f83846407028aa7b968230ee');
INSERT INTO "events" VALUES(21,'AaJCO8SpFKHEYmtXajxReg',1,1,11,11,1,1795165800000,1796407542953,'api','',1,'person10@example.com','',NULL,X'000001a1f83846405bfa7af8cc4aee83');
INSERT INTO "events" VALUES(22,'AaJCO8SpAUjPOU2Ucd_eQQ',1,1,11,11,2,1795165860000,1796407542953,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a0002207f7c10d0b3c');
INSERT INTO "events" VALUES(23,'AaJCO8SpHNfaqzIahPNHAA',1,1,12,12,1,1795165860000,1796407542953,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0dadc50100d842d46');
INSERT INTO "events" VALUES(24,'AaJCO8SpLH9zZh_I6SRTZg',1,1,12,12,2,1795165920000,1796407542953,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b00fda48a4c9d3243c1');
INSERT INTO "events" VALUES(25,'AaJCO8SpML8OLVWryQ4XYg',1,1,13,13,1,1795165920000,1796407542953,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b00bcfdf51c53c6a9d6');
INSERT INTO "events" VALUES(26,'AaJCO8Spc--qEVrNhPKx6A',1,1,13,13,2,1795165980000,1796407542953,'api','',1,'person12@example.com','',NULL,X'000001a1f83b0560f9bf18bf6b90aafb');
INSERT INTO "events" VALUES(27,'AaJCO8Spe3Vq6wgnxdKq0w',1,1,14,14,1,1795165980000,1796407542953,'api','',1,'person13@example.com','',NULL,X'000001a1f83b0560789b1f8f6b590cba');
INSERT INTO "events" VALUES(28,'AaJCO8SprDA6vlRbUhLa9Q',1,1,14,14,2,1795166040000,1796407542953,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc017167cea2d102955');
INSERT INTO "events" VALUES(29,'AaJCO8Spul3EbSi-4jIeJQ',1,1,15,15,1,1795166040000,1796407542953,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc025261abc6c2537f0');
INSERT INTO "events" VALUES(30,'AaJCO8Sp6kKPpuKHpZxrIg',1,1,15,15,2,1795166100000,1796407542953,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda20fd74ac174f172b03');
INSERT INTO "events" VALUES(31,'AaJCO8SpFPVVoWhrpvxkxQ',1,1,16,16,1,1795166100000,1796407542953,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda20fb1636302e88ab3d');
INSERT INTO "events" VALUES(32,'AaJCO8SpOAjfNe6nEDzkDQ',1,1,16,16,5,1795166160000,1796407542953,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc480a6a9364013271f40');
INSERT INTO "events" VALUES(33,'AaJCO8Sp5XBqEsarlDIwwA',1,1,17,17,1,1795166160000,1796407542953,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc48062c1b7305c2ac45c');
INSERT INTO "events" VALUES(34,'AaJCO8SpPc3FczrBbcP8ow',1,1,17,17,5,1795166220000,1796407542953,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee0a17d52482773ad61');
INSERT INTO "events" VALUES(35,'AaJCO8Sp73dgOO67PESsOw',1,1,18,18,1,1795166220000,1796407542953,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0161b1a68e2ac8a1e');
INSERT INTO "events" VALUES(36,'AaJCO8SpaxOk9vz5Laf3Pw',1,1,18,18,5,1795166280000,1796407542953,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f9940910d997ef7a0d66d');
INSERT INTO "events" VALUES(37,'AaJCO8SpXJ6RNpVsXqruLQ',1,1,19,19,1,1795166280000,1796407542953,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99406bfe43fe7e84ff1e');
INSERT INTO "events" VALUES(38,'AaJCO8Spr0-UUJdJeyreew',1,1,19,19,6,1795169880000,1796407542953,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c03f04d273e4a3ff8b');
INSERT INTO "events" VALUES(39,'AaJCO8SplMEssiwZWZdzvA',1,1,20,20,1,1795166340000,1796407542953,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a07b2b8c0b18865eb1');
INSERT INTO "events" VALUES(40,'AaJCO8Stx7c9ZLdRnU-dRQ',1,1,1,1,3,1796407542957,1796407542957,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(41,'AaJCO8Svoc-nL7LWBcvyWQ',1,1,1,1,4,1796407542959,1796407542959,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(42,'AaJCO8SwaIJwaj4R3cg9BQ',1,1,2,2,3,1796407542960,1796407542960,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(43,'AaJCO8Sx6KaEGE2d-w4zJg',1,1,2,2,3,1796407542961,1796407542961,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(44,'AaJCO8SzJSnq9Zwv1EzEDQ',1,1,2,2,4,1796407542963,1796407542963,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(45,'AaJCO8S0ofMx5110hfQfGg',1,1,3,3,3,1796407542964,1796407542964,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(46,'AaJCO8S_yWHivxUubA93dg',1,1,3,3,3,1796407542975,1796407542975,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(47,'AaJCO8TBSW_2JKbBmPhDPg',1,1,3,3,4,1796407542977,1796407542977,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(48,'AaJCO8TC5HiLo51yHSXlQQ',1,1,4,4,3,1796407542978,1796407542978,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(49,'AaJCO8TDZBRorzU6ANMI_A',1,1,4,4,4,1796407542979,1796407542979,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(50,'AaJCO8TEbXhgV4mMxJhrgw',1,1,5,5,3,1796407542980,1796407542980,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(51,'AaJCO8TFjdlJsbOEZmWHcQ',1,1,5,5,3,1796407542981,1796407542981,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(52,'AaJCO8TFzqPNfW1kPRxfng',1,1,6,6,3,1796407542981,1796407542981,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(53,'AaJCO8TGbi-acaYn1PPIuw',1,1,6,6,3,1796407542982,1796407542982,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(54,'AaJCO8TI56QEiKPKxHu0mg',1,1,7,7,3,1796407542984,1796407542984,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(55,'AaJCO8TJ5ODPresbkglC7Q',1,1,8,8,3,1796407542985,1796407542985,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(56,'AaJCO8TKnt-lh77eGGiYjQ',1,1,8,8,3,1796407542986,1796407542986,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(57,'AaJCO8TLFbOP-1gSzZ4o7Q',1,1,6,6,7,1796407542987,1796407542987,'tracking','',1,'person05@example.com','',NULL,X'00000000000000006d8faa9e825ced91');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCO8TLFbOP-1gSzZ4o7Q',1796407542987,1796407542987,'','');
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCO8SpOAjfNe6nEDzkDQ',1795166160000,1796407542953,'','');
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCO8SpPc3FczrBbcP8ow',1795166220000,1796407542953,'','');
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCO8Spr0-UUJdJeyreew',1795169880000,1796407542953,'','');
INSERT INTO "suppression_history" VALUES(1,1,'person15@example.com','added','hard_bounce','api','AaJCO8SpOAjfNe6nEDzkDQ','','cust-15','event','',1796407542953);
INSERT INTO "suppression_history" VALUES(2,1,'person16@example.com','added','hard_bounce','api','AaJCO8SpPc3FczrBbcP8ow','','cust-16','event','',1796407542953);
INSERT INTO "suppression_history" VALUES(3,1,'person18@example.com','added','complaint','api','AaJCO8Spr0-UUJdJeyreew','','cust-18','event','',1796407542953);
INSERT INTO "suppression_history" VALUES(4,1,'person05@example.com','added','unsubscribed','tracking_link','AaJCO8TLFbOP-1gSzZ4o7Q','','cust-05','event','',1796407542987);
INSERT INTO "soft_bounces" VALUES(1,'person17@example.com','{"b":[{"t":1795166280000,"id":"AaJCO8SpaxOk9vz5Laf3Pw","s":"api"}]}');
INSERT INTO "indexer_state" VALUES('customer_events',0);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX connections_org ON connections (org_id, id);
CREATE INDEX customers_email ON customers (org_id, email);
CREATE INDEX suppressions_time ON suppressions (org_id, occurred_at, email);
CREATE INDEX suppression_history_email ON suppression_history (org_id, email, id);
