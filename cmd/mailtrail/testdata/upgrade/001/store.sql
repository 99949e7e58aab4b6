CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
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
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, email)
) WITHOUT ROWID;
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407492146);
INSERT INTO "orgs" VALUES(1,'org_fyQrGnkHX7AX','Upgrade','Europe/Paris',1796407492164);
INSERT INTO "api_keys" VALUES(1,'key_u2GKzy5lODKz',1,'default','mt_5ZkrZSc',X'52bf283e0db471944fa2314b97ba7994ca8ebb30f2ce45d462123d65058c477d',1796407492164,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407492183,1796407492185);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407492188,1796407492190);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407492193,1796407492196);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407492198,1796407492202);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407492209,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407492213,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407492215,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407492219,0);
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
INSERT INTO "messages" VALUES(1,X'28751c844abefa4aa5f5d370',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407492168,1795165200000,1795165260000,1796407492183,1796407492183,1796407492185,1796407492185,0,0,0,0);
INSERT INTO "messages" VALUES(2,X'1e7f9443caff084ad9d6e27d',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407492168,1795165260000,1795165320000,1796407492187,1796407492187,1796407492190,1796407492190,0,0,0,0);
INSERT INTO "messages" VALUES(3,X'c8fdf42578aa73d727737dc7',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407492168,1795165320000,1795165380000,1796407492192,1796407492192,1796407492196,1796407492196,0,0,0,0);
INSERT INTO "messages" VALUES(4,X'003b6c1beda8e4da0e0de57e',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407492168,1795165380000,1795165440000,1796407492198,1796407492198,1796407492202,1796407492202,0,0,0,0);
INSERT INTO "messages" VALUES(5,X'74fdf1681299220cffbfebdf',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407492168,1795165440000,1795165500000,1796407492206,1796407492206,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(6,X'e57e5a3f586d91285d3aa332',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407492168,1795165500000,1795165560000,1796407492212,1796407492212,0,0,0,0,0,1796407492220);
INSERT INTO "messages" VALUES(7,X'f32eae76cad06013ebf5abef',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407492168,1795165560000,1795165620000,1796407492215,1796407492215,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(8,X'dbf1dece208b545ba9416e89',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407492168,1795165620000,1795165680000,1796407492217,1796407492217,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(9,X'f06e22dcccf7ed62b112d3b3',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407492168,1795165680000,1795165740000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(10,X'7e683f4a865d6d63d72549db',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407492168,1795165740000,1795165800000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(11,X'273460cd160c1ba9d58c19ce',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407492168,1795165800000,1795165860000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(12,X'2397aab9ae7c789931c314ad',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407492168,1795165860000,1795165920000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(13,X'2462189d5399800c67eaffa1',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407492168,1795165920000,1795165980000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(14,X'363534f24f12e9c3adbccd63',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407492168,1795165980000,1795166040000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(15,X'51211c312d384e34f7c4eab8',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407492168,1795166040000,1795166100000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(16,X'5139012c7a04c57d7fbbf498',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407492168,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0);
INSERT INTO "messages" VALUES(17,X'a96d36848e65d814235163f1',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407492168,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0);
INSERT INTO "messages" VALUES(18,X'bfc2944283b3121307649de7',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407492168,1795166220000,0,0,0,0,0,1795166280000,0,0,0);
INSERT INTO "messages" VALUES(19,X'290b2e1c2c8bcbb915273176',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407492168,1795166280000,0,0,0,0,0,0,0,1795169880000,0);
INSERT INTO "messages" VALUES(20,X'833b7189a8c0343aaae29373',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407492168,1795166340000,0,0,0,0,0,0,0,0,0);
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
INSERT INTO "events" VALUES(1,'AaJCOv5Spnc3TWewrGIVRg',1,1,1,1,1,1795165200000,1796407492178,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e802db50b7febf26142');
INSERT INTO "events" VALUES(2,'AaJCOv5SKk5K64bivT-nag',1,1,1,1,2,1795165260000,1796407492178,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e0c644fca0d4dc3445');
INSERT INTO "events" VALUES(3,'AaJCOv5SkyvhLqkm15noBg',1,1,2,2,1,1795165260000,1796407492178,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e0adae8e863a6dee9c');
INSERT INTO "events" VALUES(4,'AaJCOv5S_vc9r7Rodf5RqA',1,1,2,2,2,1795165320000,1796407492178,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340e4f7630f199669a6');
INSERT INTO "events" VALUES(5,'AaJCOv5S1-uO1-vmswkZSg',1,1,3,3,1,1795165320000,1796407492178,'api','',1,'person02@example.com','',NULL,X'000001a1f830f340e4ca0514fe57cb93');
INSERT INTO "events" VALUES(6,'AaJCOv5SM8VMB-TzTSKQ1w',1,1,3,3,2,1795165380000,1796407492178,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda07ddaab080e3a9b41');
INSERT INTO "events" VALUES(7,'AaJCOv5SQH42HscWwsD-2w',1,1,4,4,1,1795165380000,1796407492178,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda017c2daa1041efb9d');
INSERT INTO "events" VALUES(8,'AaJCOv5SmDjPfIIK-LMC4g',1,1,4,4,2,1795165440000,1796407492178,'api','',1,'person03@example.com','',NULL,X'000001a1f832c80070965e10ef6bc155');
INSERT INTO "events" VALUES(9,'AaJCOv5Sdeyb8wQSd2iAOg',1,1,5,5,1,1795165440000,1796407492178,'api','',1,'person04@example.com','',NULL,X'000001a1f832c8007aa825d36206f56d');
INSERT INTO "events" VALUES(10,'AaJCOv5SdGoD090Sxs_0Tg',1,1,5,5,2,1795165500000,1796407492178,'api','',1,'person04@example.com','',NULL,X'000001a1f833b2600f1d79068788ab7b');
INSERT INTO "events" VALUES(11,'AaJCOv5SEbc-O43R2BXOFA',1,1,6,6,1,1795165500000,1796407492178,'api','',1,'person05@example.com','',NULL,X'000001a1f833b2604d4cedbd759cecc0');
INSERT INTO "events" VALUES(12,'AaJCOv5SFSAl_-EJecmr8A',1,1,6,6,2,1795165560000,1796407492178,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc070f335dd507b8885');
INSERT INTO "events" VALUES(13,'AaJCOv5S5JsFCSQi0stYPQ',1,1,7,7,1,1795165560000,1796407492178,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc06cc5077e48aedbac');
INSERT INTO "events" VALUES(14,'AaJCOv5SSq8nOcPTrnj0PQ',1,1,7,7,2,1795165620000,1796407492178,'api','',1,'person06@example.com','',NULL,X'000001a1f83587204851146df319b770');
INSERT INTO "events" VALUES(15,'AaJCOv5Smx8lTfS7N9Sd8Q',1,1,8,8,1,1795165620000,1796407492178,'api','',1,'person07@example.com','',NULL,X'000001a1f8358720537f03ef08d8d261');
INSERT INTO "events" VALUES(16,'AaJCOv5STBeI7aGCFMJgMQ',1,1,8,8,2,1795165680000,1796407492178,'api','',1,'person07@example.com','',NULL,X'000001a1f83671808d98ca1d68e561e6');
INSERT INTO "events" VALUES(17,'AaJCOv5S6htKT3OL2VBjOg',1,1,9,9,1,1795165680000,1796407492178,'api','',1,'person08@example.com','',NULL,X'000001a1f8367180ac72c1298c6f758b');
INSERT INTO "events" VALUES(18,'AaJCOv5Sk5UDuSRgMkQwdA',1,1,9,9,2,1795165740000,1796407492178,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be0fb742eb00d77f5f7');
INSERT INTO "events" VALUES(19,'AaJCOv5S1FuzXjAgXAdcDQ',1,1,10,10,1,1795165740000,1796407492178,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be0b026cf59c6400c64');
INSERT INTO "events" VALUES(20,'AaJCOv5S_9r14k8ctc2aSw',1,1,10,10,2,1795165800000,1796407492178,'api','',1,'person09@example.com','',NULL,X'000001a1f838464017edc28c66450efd');
INSERT INTO "events" VALUES(21,'AaJCOv5SmU6Dj75NW9956g',1,1,11,11,1,1795165800000,1796407492178,'api','',1,'person10@example.com','',NULL,X'000001a1f8384640fb519b0df2bf28fa');
INSERT INTO "events" VALUES(22,'AaJCOv5SzBKeQL4sXc5ddg',1,1,11,11,2,1795165860000,1796407492178,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a079bc0ac89b6e4b78');
INSERT INTO "events" VALUES(23,'AaJCOv5S-OVG1mvNclhQJg',1,1,12,12,1,1795165860000,1796407492178,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0917882a2ad5a0c19');
INSERT INTO "events" VALUES(24,'AaJCOv5SBHZA0a4C5mo5Eg',1,1,12,12,2,1795165920000,1796407492178,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b0056c3082c028c6754');
INSERT INTO "events" VALUES(25,'AaJCOv5SYFHaOMRPsgETZQ',1,1,13,13,1,1795165920000,1796407492178,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b0034afc9773c49f02a');
INSERT INTO "events" VALUES(26,'AaJCOv5SGXQeK2oF7rDlmg',1,1,13,13,2,1795165980000,1796407492178,'api','',1,'person12@example.com','',NULL,X'000001a1f83b056011bd0063c3f2426e');
INSERT INTO "events" VALUES(27,'AaJCOv5Sg7TeMp1cUMBQlA',1,1,14,14,1,1795165980000,1796407492178,'api','',1,'person13@example.com','',NULL,X'000001a1f83b0560d1c9ffdc277b09ba');
INSERT INTO "events" VALUES(28,'AaJCOv5S89_Ls0zmosaxTw',1,1,14,14,2,1795166040000,1796407492178,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc05be499e7cfcd5ce4');
INSERT INTO "events" VALUES(29,'AaJCOv5SN_bUmb2QR_WcLg',1,1,15,15,1,1795166040000,1796407492178,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc044f3bc0aecab9379');
INSERT INTO "events" VALUES(30,'AaJCOv5SIPLDbvam6A2iLw',1,1,15,15,2,1795166100000,1796407492178,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda20314d9c0b071049a9');
INSERT INTO "events" VALUES(31,'AaJCOv5S6PeWbPpN4LgQ3w',1,1,16,16,1,1795166100000,1796407492178,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda20028c806bc8baab68');
INSERT INTO "events" VALUES(32,'AaJCOv5S07SD3DgCzF5pEw',1,1,16,16,5,1795166160000,1796407492178,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc4805be41e32f0d77b94');
INSERT INTO "events" VALUES(33,'AaJCOv5SkQCJLshfiG2uKA',1,1,17,17,1,1795166160000,1796407492178,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc48084a215269b0dfa0e');
INSERT INTO "events" VALUES(34,'AaJCOv5S4zy5-9pncOE-CA',1,1,17,17,5,1795166220000,1796407492178,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee09e1b4544060e465a');
INSERT INTO "events" VALUES(35,'AaJCOv5SIY5zBB6726WjGg',1,1,18,18,1,1795166220000,1796407492178,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0c8c7683906663703');
INSERT INTO "events" VALUES(36,'AaJCOv5SjNxbzto6BKtEgA',1,1,18,18,5,1795166280000,1796407492178,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f9940f5970465a34baa23');
INSERT INTO "events" VALUES(37,'AaJCOv5Sudl9cJB_6yFROw',1,1,19,19,1,1795166280000,1796407492178,'api','',1,'person18@example.com','',NULL,X'000001a1f83f9940e7c892c9f672606e');
INSERT INTO "events" VALUES(38,'AaJCOv5SQTmEbYzAwLghjQ',1,1,19,19,6,1795169880000,1796407492178,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c0a9ea1658dc2b3b5e');
INSERT INTO "events" VALUES(39,'AaJCOv5SVCdKItQGv0ZZiA',1,1,20,20,1,1795166340000,1796407492178,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a0a206b5e15141bc25');
INSERT INTO "events" VALUES(40,'AaJCOv5Xd9IzSZ092oArpQ',1,1,1,1,3,1796407492183,1796407492183,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(41,'AaJCOv5ZeRuatXb8HqCB_Q',1,1,1,1,4,1796407492185,1796407492185,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(42,'AaJCOv5bMBEPawQldo-10A',1,1,2,2,3,1796407492187,1796407492187,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(43,'AaJCOv5cxWxp-pJQPf2mAg',1,1,2,2,3,1796407492188,1796407492188,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(44,'AaJCOv5eA1hGz99zEWF2SA',1,1,2,2,4,1796407492190,1796407492190,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(45,'AaJCOv5gOud3iczJ4Ax1DA',1,1,3,3,3,1796407492192,1796407492192,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(46,'AaJCOv5he7cZ7LbZWgq6-A',1,1,3,3,3,1796407492193,1796407492193,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(47,'AaJCOv5kXtoQdGiOQ4u8Bg',1,1,3,3,4,1796407492196,1796407492196,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(48,'AaJCOv5mOvKMdmTeE5SrFA',1,1,4,4,3,1796407492198,1796407492198,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(49,'AaJCOv5qj58JWEAyLaG9vg',1,1,4,4,4,1796407492202,1796407492202,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(50,'AaJCOv5uZlIaoUwrvlp3lA',1,1,5,5,3,1796407492206,1796407492206,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(51,'AaJCOv5xg6TEy2mXB-8v0g',1,1,5,5,3,1796407492209,1796407492209,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(52,'AaJCOv50XnuMAzF-h10_rQ',1,1,6,6,3,1796407492212,1796407492212,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(53,'AaJCOv51SvRf5rBjgQth4Q',1,1,6,6,3,1796407492213,1796407492213,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(54,'AaJCOv53ugOSxjSHaJz3EA',1,1,7,7,3,1796407492215,1796407492215,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(55,'AaJCOv55VCaSmb285bKiMw',1,1,8,8,3,1796407492217,1796407492217,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(56,'AaJCOv57O1TOXrxiMPFykg',1,1,8,8,3,1796407492219,1796407492219,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(57,'AaJCOv581G0NpV15HrFqEg',1,1,6,6,7,1796407492220,1796407492220,'tracking','',1,'person05@example.com','',NULL,X'000000000000000053d7dc35f2b5b2d8');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCOv581G0NpV15HrFqEg',1796407492220,1796407492220);
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCOv5S07SD3DgCzF5pEw',1795166160000,1796407492178);
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCOv5S4zy5-9pncOE-CA',1795166220000,1796407492178);
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCOv5SQTmEbYzAwLghjQ',1795169880000,1796407492178);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_customer ON events (customer_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
