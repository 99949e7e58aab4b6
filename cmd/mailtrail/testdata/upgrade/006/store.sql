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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407554701);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407554708);
INSERT INTO "schema_migrations" VALUES('migrations/003_suppressions.sql',1796407554715);
INSERT INTO "schema_migrations" VALUES('migrations/004_connection_mailbox.sql',1796407554722);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407554727);
INSERT INTO "schema_migrations" VALUES('migrations/006_analytics.sql',1796407554736);
INSERT INTO "orgs" VALUES(1,'org_1p-LvJl517yQ','Upgrade','Europe/Paris',1796407554755,5,0,0);
INSERT INTO "api_keys" VALUES(1,'key_Z6jFalN_zXdA',1,'default','mt_nVR3sXB',X'4472b292e0b4de5f17f23b28cdb3650772d69b5ea9d42d8a56486d0d527d6461',1796407554755,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407554764,1796407554766);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407554772,1796407554773);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407554775,1796407554777);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407554778,1796407554779);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407554781,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407554783,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407554784,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407554786,0);
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
INSERT INTO "messages" VALUES(1,X'3cebfaee1bf324cea53bdffd',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407554757,1795165200000,1795165260000,1796407554764,1796407554764,1796407554766,1796407554766,0,0,0,0,1795165260000);
INSERT INTO "messages" VALUES(2,X'c494295626a16845a8b4768d',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407554757,1795165260000,1795165320000,1796407554771,1796407554771,1796407554773,1796407554773,0,0,0,0,1795165320000);
INSERT INTO "messages" VALUES(3,X'852e5c36777c0cef21ac6584',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407554757,1795165320000,1795165380000,1796407554774,1796407554774,1796407554777,1796407554777,0,0,0,0,1795165380000);
INSERT INTO "messages" VALUES(4,X'01ad98250c10189edf0d0c15',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407554757,1795165380000,1795165440000,1796407554778,1796407554778,1796407554779,1796407554779,0,0,0,0,1795165440000);
INSERT INTO "messages" VALUES(5,X'aedf6d55e3511b9c2cdd7314',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407554757,1795165440000,1795165500000,1796407554780,1796407554780,0,0,0,0,0,0,1795165500000);
INSERT INTO "messages" VALUES(6,X'a94dfc3d615953ad3acd7cd1',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407554757,1795165500000,1795165560000,1796407554782,1796407554782,0,0,0,0,0,1796407554787,1795165560000);
INSERT INTO "messages" VALUES(7,X'762df0ae35e3f7b98bec3394',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407554757,1795165560000,1795165620000,1796407554784,1796407554784,0,0,0,0,0,0,1795165620000);
INSERT INTO "messages" VALUES(8,X'96fe7e1dd91a03e57c87dc84',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407554757,1795165620000,1795165680000,1796407554785,1796407554785,0,0,0,0,0,0,1795165680000);
INSERT INTO "messages" VALUES(9,X'3695f77491dffba9388d6a72',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407554757,1795165680000,1795165740000,0,0,0,0,0,0,0,0,1795165740000);
INSERT INTO "messages" VALUES(10,X'dfafb4074e31159a77d9a677',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407554757,1795165740000,1795165800000,0,0,0,0,0,0,0,0,1795165800000);
INSERT INTO "messages" VALUES(11,X'af34433375aabea5a1cfd320',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407554757,1795165800000,1795165860000,0,0,0,0,0,0,0,0,1795165860000);
INSERT INTO "messages" VALUES(12,X'a5aa307234ed602ada37e8d0',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407554757,1795165860000,1795165920000,0,0,0,0,0,0,0,0,1795165920000);
INSERT INTO "messages" VALUES(13,X'dc0cf7fc98415bae77e6bacd',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407554757,1795165920000,1795165980000,0,0,0,0,0,0,0,0,1795165980000);
INSERT INTO "messages" VALUES(14,X'23b1594d362c35425f0d7f69',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407554757,1795165980000,1795166040000,0,0,0,0,0,0,0,0,1795166040000);
INSERT INTO "messages" VALUES(15,X'deeb7801a86c4cf679467c77',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407554757,1795166040000,1795166100000,0,0,0,0,0,0,0,0,1795166100000);
INSERT INTO "messages" VALUES(16,X'1b9d6b8d4f1e904e298c640f',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407554757,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0,0);
INSERT INTO "messages" VALUES(17,X'6562ca96d39d1d250c515610',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407554757,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0,0);
INSERT INTO "messages" VALUES(18,X'5c237583608d9c8be585c97c',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407554757,1795166220000,0,0,0,0,0,1795166280000,0,0,0,0);
INSERT INTO "messages" VALUES(19,X'6468f8ec4d50dce3bb5c8eea',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407554757,1795166280000,0,0,0,0,0,0,0,1795169880000,0,0);
INSERT INTO "messages" VALUES(20,X'05cbd43efb1e786ab1193805',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407554757,1795166340000,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994628,15,14,0,0,0,0,0,0,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994629,5,1,0,0,0,0,3,2,0,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1994633,0,0,0,0,0,0,0,0,1,0,0,0,0,0);
INSERT INTO "campaign_stats" VALUES(1,1996008,0,0,8,8,4,4,0,0,0,1,13,13,4,4);
INSERT INTO "link_stats" VALUES(1,1,2,2,2,2);
INSERT INTO "link_stats" VALUES(1,2,2,2,2,2);
INSERT INTO "events" VALUES(1,'AaJCO_LJKeWYyQmsWxizHQ',1,1,1,1,1,1795165200000,1796407554761,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e8095f20cb781593398','');
INSERT INTO "events" VALUES(2,'AaJCO_LJ7RPZ1d7uMHsDpw',1,1,1,1,2,1795165260000,1796407554761,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e0c8cf184e67349db2','');
INSERT INTO "events" VALUES(3,'AaJCO_LJuccOFk9IHsX9nQ',1,1,2,2,1,1795165260000,1796407554761,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e008009292ea4076c4','');
INSERT INTO "events" VALUES(4,'AaJCO_LJHU3Os0FRyQRXiw',1,1,2,2,2,1795165320000,1796407554761,'api','',1,'person01@example.com','',NULL,X'000001a1f830f3405acd173ea7d1a90b','');
INSERT INTO "events" VALUES(5,'AaJCO_LJftWIHaHXHbT3IA',1,1,3,3,1,1795165320000,1796407554761,'api','',1,'person02@example.com','',NULL,X'000001a1f830f34004f72e83149759e2','');
INSERT INTO "events" VALUES(6,'AaJCO_LJAQedq1yGWELC_w',1,1,3,3,2,1795165380000,1796407554761,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda0935c8d522fb57d9d','');
INSERT INTO "events" VALUES(7,'AaJCO_LJ32PfrY2fqmFoLA',1,1,4,4,1,1795165380000,1796407554761,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0af499792f5bcf5fc','');
INSERT INTO "events" VALUES(8,'AaJCO_LJVV6LJijoYoJ48Q',1,1,4,4,2,1795165440000,1796407554761,'api','',1,'person03@example.com','',NULL,X'000001a1f832c800a08eef245f0770d6','');
INSERT INTO "events" VALUES(9,'AaJCO_LJ4gkvPH-pXidPoQ',1,1,5,5,1,1795165440000,1796407554761,'api','',1,'person04@example.com','',NULL,X'000001a1f832c8003820c050c09e0ace','');
INSERT INTO "events" VALUES(10,'AaJCO_LJPcadLneFRj6d5A',1,1,5,5,2,1795165500000,1796407554761,'api','',1,'person04@example.com','',NULL,X'000001a1f833b2604b21747ca4b89e5e','');
INSERT INTO "events" VALUES(11,'AaJCO_LJBvWtAHVT6ryLBA',1,1,6,6,1,1795165500000,1796407554761,'api','',1,'person05@example.com','',NULL,X'000001a1f833b2604febff277f3db948','');
INSERT INTO "events" VALUES(12,'AaJCO_LJwUmiAj0fm8ecOA',1,1,6,6,2,1795165560000,1796407554761,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc0f308f11d7c74804c','');
INSERT INTO "events" VALUES(13,'AaJCO_LJodcujaDdpSZLjQ',1,1,7,7,1,1795165560000,1796407554761,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc0b1040be03744b8ce','');
INSERT INTO "events" VALUES(14,'AaJCO_LJwoal-HetW9xIfw',1,1,7,7,2,1795165620000,1796407554761,'api','',1,'person06@example.com','',NULL,X'000001a1f83587200684a74bf2640f02','');
INSERT INTO "events" VALUES(15,'AaJCO_LJUdBH9aWho-YTyA',1,1,8,8,1,1795165620000,1796407554761,'api','',1,'person07@example.com','',NULL,X'000001a1f83587208b28d439fe4b52b1','');
INSERT INTO "events" VALUES(16,'AaJCO_LJcELuIa7VdyzKxw',1,1,8,8,2,1795165680000,1796407554761,'api','',1,'person07@example.com','',NULL,X'000001a1f83671806170e55c871b93ba','');
INSERT INTO "events" VALUES(17,'AaJCO_LJNPxbnQprQaE1Eg',1,1,9,9,1,1795165680000,1796407554761,'api','',1,'person08@example.com','',NULL,X'000001a1f8367180bd869907f6cb4482','');
INSERT INTO "events" VALUES(18,'AaJCO_LJo-24gZ77KmX7hA',1,1,9,9,2,1795165740000,1796407554761,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be07c8a94f77d929e00','');
INSERT INTO "events" VALUES(19,'AaJCO_LJDo76k0FNxbCeKQ',1,1,10,10,1,1795165740000,1796407554761,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be018cc39a8301a56e8','');
INSERT INTO "events" VALUES(20,'AaJCO_LJPKtwFSvJXeolag',1,1,10,10,2,1795165800000,1796407554761,'api','',1,'person09@example.com','',NULL,X'000001a1f83846407343630eb0e4be76','');
INSERT INTO "events" VALUES(21,'AaJCO_LJ0KZVlmgGnDFDVg',1,1,11,11,1,1795165800000,1796407554761,'api','',1,'person10@example.com','',NULL,X'000001a1f8384640f3e5ef8ebcb171e8','');
INSERT INTO "events" VALUES(22,'AaJCO_LJt-XDGgY8_gTyBQ',1,1,11,11,2,1795165860000,1796407554761,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a00fabcb95d3c28338','');
INSERT INTO "events" VALUES(23,'AaJCO_LJeZo1795yoF6TrA',1,1,12,12,1,1795165860000,1796407554761,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a07b4000750fa77cb0','');
INSERT INTO "events" VALUES(24,'AaJCO_LJYclyrF93cEBSqQ',1,1,12,12,2,1795165920000,1796407554761,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b00d73094e977c88e33','');
INSERT INTO "events" VALUES(25,'AaJCO_LJ775qXt8KA1mPdQ',1,1,13,13,1,1795165920000,1796407554761,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b0085ed1555e7d60556','');
INSERT INTO "events" VALUES(26,'AaJCO_LJctneWyLCUlpPHw',1,1,13,13,2,1795165980000,1796407554761,'api','',1,'person12@example.com','',NULL,X'000001a1f83b0560870b4d68fa6b1660','');
INSERT INTO "events" VALUES(27,'AaJCO_LJXHFJ5TEVRTsFtg',1,1,14,14,1,1795165980000,1796407554761,'api','',1,'person13@example.com','',NULL,X'000001a1f83b05606174c9b1b3f132da','');
INSERT INTO "events" VALUES(28,'AaJCO_LJUOkszzXIiV_ieA',1,1,14,14,2,1795166040000,1796407554761,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc03baba20fb2c66078','');
INSERT INTO "events" VALUES(29,'AaJCO_LJ6TYpoh3TxAa5NQ',1,1,15,15,1,1795166040000,1796407554761,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc0bb13c691a73447d9','');
INSERT INTO "events" VALUES(30,'AaJCO_LJoBrC5LmESogxpQ',1,1,15,15,2,1795166100000,1796407554761,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda209cad4e21aae308c9','');
INSERT INTO "events" VALUES(31,'AaJCO_LJ8NnCeWyNbNeirQ',1,1,16,16,1,1795166100000,1796407554761,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda205c221d47d481a039','');
INSERT INTO "events" VALUES(32,'AaJCO_LJLmPsjTQz1fzdrw',1,1,16,16,5,1795166160000,1796407554761,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc4800ac465bd53c179a5','');
INSERT INTO "events" VALUES(33,'AaJCO_LJbgRr1uXzVWcbsA',1,1,17,17,1,1795166160000,1796407554761,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc480a18cb00e27f5fa91','');
INSERT INTO "events" VALUES(34,'AaJCO_LJrRw8MJwp2wJuEw',1,1,17,17,5,1795166220000,1796407554761,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee06d383a9ab41aece6','');
INSERT INTO "events" VALUES(35,'AaJCO_LJhvWH4m-whzPKdA',1,1,18,18,1,1795166220000,1796407554761,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0ebbe730d07199df5','');
INSERT INTO "events" VALUES(36,'AaJCO_LJgoUURJpEA1Yb6w',1,1,18,18,5,1795166280000,1796407554761,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f99403f233852ba2e4807','');
INSERT INTO "events" VALUES(37,'AaJCO_LJcoIQWt584jdf1A',1,1,19,19,1,1795166280000,1796407554761,'api','',1,'person18@example.com','',NULL,X'000001a1f83f994086ccfd3877dbd152','');
INSERT INTO "events" VALUES(38,'AaJCO_LJFS90Fiw6Cmx-RQ',1,1,19,19,6,1795169880000,1796407554761,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c0c6638898bd61e125','');
INSERT INTO "events" VALUES(39,'AaJCO_LJLb_23MWKlLPmgQ',1,1,20,20,1,1795166340000,1796407554761,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a071b2e3388886dd42','');
INSERT INTO "events" VALUES(40,'AaJCO_LMu58CXihZs2jWpQ',1,1,1,1,3,1796407554764,1796407554764,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(41,'AaJCO_LOoF_7q_SzwltpQA',1,1,1,1,4,1796407554766,1796407554766,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(42,'AaJCO_LTD2aXNdPdRakGxQ',1,1,2,2,3,1796407554771,1796407554771,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(43,'AaJCO_LUhBkKhpHZQlczbg',1,1,2,2,3,1796407554772,1796407554772,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(44,'AaJCO_LVHJEn3JkfSKFkoQ',1,1,2,2,4,1796407554773,1796407554773,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(45,'AaJCO_LW72WSO-TMAMZiMQ',1,1,3,3,3,1796407554774,1796407554774,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(46,'AaJCO_LX7Q7Er-Hu-vVMbw',1,1,3,3,3,1796407554775,1796407554775,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(47,'AaJCO_LZalweqS2nDq2NaQ',1,1,3,3,4,1796407554777,1796407554777,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(48,'AaJCO_Laq0dR-IdptNdi2w',1,1,4,4,3,1796407554778,1796407554778,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(49,'AaJCO_Lb06qit5KhyMdLlA',1,1,4,4,4,1796407554779,1796407554779,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(50,'AaJCO_Lchc5bwGvAjhnRlA',1,1,5,5,3,1796407554780,1796407554780,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(51,'AaJCO_LdFs6tFOAY77Q2Qg',1,1,5,5,3,1796407554781,1796407554781,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(52,'AaJCO_LeCBQCUgJk3k8qJA',1,1,6,6,3,1796407554782,1796407554782,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(53,'AaJCO_LfGr3K-PIJKg4jyw',1,1,6,6,3,1796407554783,1796407554783,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(54,'AaJCO_LgzXJQsvoQrF2KCw',1,1,7,7,3,1796407554784,1796407554784,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(55,'AaJCO_Lh8jIyhJGjvLogfg',1,1,8,8,3,1796407554785,1796407554785,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(56,'AaJCO_LiCIV194dND7uXRA',1,1,8,8,3,1796407554786,1796407554786,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.0","client":"thunderbird","device":"desktop","method":"GET"}',NULL,'');
INSERT INTO "events" VALUES(57,'AaJCO_LjK4eJBOGj5zPvGA',1,1,6,6,7,1796407554787,1796407554787,'tracking','',1,'person05@example.com','',NULL,X'000000000000000023f704bb92cabb64','');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCO_LjK4eJBOGj5zPvGA',1796407554787,1796407554787,'','');
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCO_LJLmPsjTQz1fzdrw',1795166160000,1796407554761,'','');
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCO_LJrRw8MJwp2wJuEw',1795166220000,1796407554761,'','');
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCO_LJFS90Fiw6Cmx-RQ',1795169880000,1796407554761,'','');
INSERT INTO "suppression_history" VALUES(1,1,'person15@example.com','added','hard_bounce','api','AaJCO_LJLmPsjTQz1fzdrw','','cust-15','event','',1796407554761);
INSERT INTO "suppression_history" VALUES(2,1,'person16@example.com','added','hard_bounce','api','AaJCO_LJrRw8MJwp2wJuEw','','cust-16','event','',1796407554761);
INSERT INTO "suppression_history" VALUES(3,1,'person18@example.com','added','complaint','api','AaJCO_LJFS90Fiw6Cmx-RQ','','cust-18','event','',1796407554761);
INSERT INTO "suppression_history" VALUES(4,1,'person05@example.com','added','unsubscribed','tracking_link','AaJCO_LjK4eJBOGj5zPvGA','','cust-05','event','',1796407554787);
INSERT INTO "soft_bounces" VALUES(1,'person17@example.com','{"b":[{"t":1795166280000,"id":"AaJCO_LJgoUURJpEA1Yb6w","s":"api"}]}');
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
CREATE INDEX events_message_clicks ON events (message_id) WHERE type = 4;
CREATE INDEX link_clicks_top ON link_clicks (campaign_id, url_id, human_clicks, message_id);
