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
);
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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407532833);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407532848);
INSERT INTO "schema_migrations" VALUES('migrations/005_customer_index.sql',1796407532851);
INSERT INTO "orgs" VALUES(1,'org_EMF5QmCEHyJF','Upgrade','Europe/Paris',1796407532858);
INSERT INTO "api_keys" VALUES(1,'key_FoOiaB-kH4Ov',1,'default','mt_rorsl5L',X'36b56745166bd41890e1d68270bbdeb728bf09d33675f91526962f9955c8472c',1796407532858,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407532871,1796407532872);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407532874,1796407532875);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407532877,1796407532878);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407532879,1796407532880);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407532882,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407532884,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407532885,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407532887,0);
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
INSERT INTO "messages" VALUES(1,X'35eb47f947785f9bccb8f674',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407532860,1795165200000,1795165260000,1796407532871,1796407532871,1796407532872,1796407532872,0,0,0,0);
INSERT INTO "messages" VALUES(2,X'215d33aeabbcc1f2b86e0d22',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407532860,1795165260000,1795165320000,1796407532873,1796407532873,1796407532875,1796407532875,0,0,0,0);
INSERT INTO "messages" VALUES(3,X'8ca18689e983537541ee30b9',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407532860,1795165320000,1795165380000,1796407532876,1796407532876,1796407532878,1796407532878,0,0,0,0);
INSERT INTO "messages" VALUES(4,X'85173fdc9616ac9efeab295e',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407532860,1795165380000,1795165440000,1796407532879,1796407532879,1796407532880,1796407532880,0,0,0,0);
INSERT INTO "messages" VALUES(5,X'e3f3eca461446c36365bcad4',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407532860,1795165440000,1795165500000,1796407532881,1796407532881,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(6,X'1e259644039bdfddf6a417a4',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407532860,1795165500000,1795165560000,1796407532883,1796407532883,0,0,0,0,0,1796407532888);
INSERT INTO "messages" VALUES(7,X'e3f5ccbebe9caecaaeaa8b22',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407532860,1795165560000,1795165620000,1796407532885,1796407532885,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(8,X'5543c63ac85f99d918766d6c',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407532860,1795165620000,1795165680000,1796407532886,1796407532886,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(9,X'24c8b69c3c9ee34416dfe014',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407532860,1795165680000,1795165740000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(10,X'b8217e4743d4c3f30f5573ff',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407532860,1795165740000,1795165800000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(11,X'7557f145b0605f0a14b4b44e',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407532860,1795165800000,1795165860000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(12,X'8350689b5848efb17645d409',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407532860,1795165860000,1795165920000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(13,X'2159a0297446783f26e504e1',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407532860,1795165920000,1795165980000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(14,X'40d486d23997a09866eb01be',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407532860,1795165980000,1795166040000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(15,X'b325da317c7907149e55e6b0',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407532860,1795166040000,1795166100000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(16,X'f3aecdae6806cac3eda2d813',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407532860,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0);
INSERT INTO "messages" VALUES(17,X'7310e2ad891713cd193d1f3d',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407532860,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0);
INSERT INTO "messages" VALUES(18,X'6fc8cbcbaa0fc4c963d58f85',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407532860,1795166220000,0,0,0,0,0,1795166280000,0,0,0);
INSERT INTO "messages" VALUES(19,X'd4321c076ea657eb14c9c6a5',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407532860,1795166280000,0,0,0,0,0,0,0,1795169880000,0);
INSERT INTO "messages" VALUES(20,X'600b7d51872629493ac408dc',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407532860,1795166340000,0,0,0,0,0,0,0,0,0);
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
INSERT INTO "events" VALUES(1,'AaJCO51Dw0p6df0tptx7IA',1,1,1,1,1,1795165200000,1796407532867,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e802f9535ae9a3d3149');
INSERT INTO "events" VALUES(2,'AaJCO51DP_nUyDrK-6o9ww',1,1,1,1,2,1795165260000,1796407532867,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e0f399b790d41a0e04');
INSERT INTO "events" VALUES(3,'AaJCO51DDOWVC-iNYTwPZA',1,1,2,2,1,1795165260000,1796407532867,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e075e311492f08a9d3');
INSERT INTO "events" VALUES(4,'AaJCO51DbGyO8WjutnDTSg',1,1,2,2,2,1795165320000,1796407532867,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340ba13baff86310e46');
INSERT INTO "events" VALUES(5,'AaJCO51DPPjiJ9-Ox3LJSw',1,1,3,3,1,1795165320000,1796407532867,'api','',1,'person02@example.com','',NULL,X'000001a1f830f340e02193131230a51a');
INSERT INTO "events" VALUES(6,'AaJCO51D-GI5KHA0tKB10g',1,1,3,3,2,1795165380000,1796407532867,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda08cdece3b99ac3039');
INSERT INTO "events" VALUES(7,'AaJCO51DmbNo5I9DuwgyAA',1,1,4,4,1,1795165380000,1796407532867,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0c6e4dee0f9d9a177');
INSERT INTO "events" VALUES(8,'AaJCO51Dl47iqpqSGvkFfw',1,1,4,4,2,1795165440000,1796407532867,'api','',1,'person03@example.com','',NULL,X'000001a1f832c80015c84762f4e25f3a');
INSERT INTO "events" VALUES(9,'AaJCO51DK9S4CttRrnvJCA',1,1,5,5,1,1795165440000,1796407532867,'api','',1,'person04@example.com','',NULL,X'000001a1f832c800e4583a19f788c7a3');
INSERT INTO "events" VALUES(10,'AaJCO51Dl7CPEwNfozwOxA',1,1,5,5,2,1795165500000,1796407532867,'api','',1,'person04@example.com','',NULL,X'000001a1f833b260df7b42e0b4238309');
INSERT INTO "events" VALUES(11,'AaJCO51Dl61hWMr-T8i2_Q',1,1,6,6,1,1795165500000,1796407532867,'api','',1,'person05@example.com','',NULL,X'000001a1f833b2601a05618361d05100');
INSERT INTO "events" VALUES(12,'AaJCO51D2RF6V5zbwW4L7A',1,1,6,6,2,1795165560000,1796407532867,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc07ebb89548431a76e');
INSERT INTO "events" VALUES(13,'AaJCO51DrfU3Ov3zMmbiPg',1,1,7,7,1,1795165560000,1796407532867,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc077b3bd45f2db1be9');
INSERT INTO "events" VALUES(14,'AaJCO51DajThgn8GCIMr8Q',1,1,7,7,2,1795165620000,1796407532867,'api','',1,'person06@example.com','',NULL,X'000001a1f835872077df9edddaddbed3');
INSERT INTO "events" VALUES(15,'AaJCO51DLjIC5etMcEid7g',1,1,8,8,1,1795165620000,1796407532867,'api','',1,'person07@example.com','',NULL,X'000001a1f83587202d424fc5da937919');
INSERT INTO "events" VALUES(16,'AaJCO51DPeycRYYqmFpcrA',1,1,8,8,2,1795165680000,1796407532867,'api','',1,'person07@example.com','',NULL,X'000001a1f8367180a9e4592b9024f9ad');
INSERT INTO "events" VALUES(17,'AaJCO51DPxgub9LrWvcrww',1,1,9,9,1,1795165680000,1796407532867,'api','',1,'person08@example.com','',NULL,X'000001a1f836718049b5b32aaec54a15');
INSERT INTO "events" VALUES(18,'AaJCO51DRw8usUXeCLcx8A',1,1,9,9,2,1795165740000,1796407532867,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be0e43963ca1db19bba');
INSERT INTO "events" VALUES(19,'AaJCO51Df6IYHm7oE48_HQ',1,1,10,10,1,1795165740000,1796407532867,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be061151c2fadec1d98');
INSERT INTO "events" VALUES(20,'AaJCO51D7VSRvbq8069DOg',1,1,10,10,2,1795165800000,1796407532867,'api','',1,'person09@example.com','',NULL,X'000001a1f83846402e6058bd9dba37c0');
INSERT INTO "events" VALUES(21,'AaJCO51DasQQR12Pji8AlA',1,1,11,11,1,1795165800000,1796407532867,'api','',1,'person10@example.com','',NULL,X'000001a1f838464036bda231a859d0b8');
INSERT INTO "events" VALUES(22,'AaJCO51DsBgvMywjJfriuw',1,1,11,11,2,1795165860000,1796407532867,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a0fae086110a170d3e');
INSERT INTO "events" VALUES(23,'AaJCO51Df4n8pSlWa70tMg',1,1,12,12,1,1795165860000,1796407532867,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a0dd7925cbd78fba88');
INSERT INTO "events" VALUES(24,'AaJCO51D5z01n1SQjsnZ_w',1,1,12,12,2,1795165920000,1796407532867,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b008917b3b7a31660eb');
INSERT INTO "events" VALUES(25,'AaJCO51DaQKl96uqX01rxQ',1,1,13,13,1,1795165920000,1796407532867,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b0056266393fba946e9');
INSERT INTO "events" VALUES(26,'AaJCO51DLIpAH0N7TD6VaQ',1,1,13,13,2,1795165980000,1796407532867,'api','',1,'person12@example.com','',NULL,X'000001a1f83b05605dba15328e1d9433');
INSERT INTO "events" VALUES(27,'AaJCO51DgyuEh6IdHmbSsg',1,1,14,14,1,1795165980000,1796407532867,'api','',1,'person13@example.com','',NULL,X'000001a1f83b0560c84dd4dbc7d9de38');
INSERT INTO "events" VALUES(28,'AaJCO51Dclf-rW4GcL85MQ',1,1,14,14,2,1795166040000,1796407532867,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc06247c71acf91bc1e');
INSERT INTO "events" VALUES(29,'AaJCO51DxygNNoYFjBwlOQ',1,1,15,15,1,1795166040000,1796407532867,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc0b22a45b6416ab19c');
INSERT INTO "events" VALUES(30,'AaJCO51DYlP82NaHw5PH6w',1,1,15,15,2,1795166100000,1796407532867,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda205d855017833f44f6');
INSERT INTO "events" VALUES(31,'AaJCO51D9updEZGdFm1wyA',1,1,16,16,1,1795166100000,1796407532867,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda200004439bd8f7ed67');
INSERT INTO "events" VALUES(32,'AaJCO51Drc7ySpPmfX_lnw',1,1,16,16,5,1795166160000,1796407532867,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc480435cb5b7888095ae');
INSERT INTO "events" VALUES(33,'AaJCO51DW4UFNvZ5e-Zhfg',1,1,17,17,1,1795166160000,1796407532867,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc480c6919b2e6d5720dd');
INSERT INTO "events" VALUES(34,'AaJCO51DoHxubcgft_kD-A',1,1,17,17,5,1795166220000,1796407532867,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee0af6ba8c37274cdb4');
INSERT INTO "events" VALUES(35,'AaJCO51Dz5B07S9LcI2rVg',1,1,18,18,1,1795166220000,1796407532867,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0a50ce5e5a174c2b9');
INSERT INTO "events" VALUES(36,'AaJCO51Dl16WH_b5DIgZgA',1,1,18,18,5,1795166280000,1796407532867,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f99406d31e549266cc690');
INSERT INTO "events" VALUES(37,'AaJCO51D2GVDJHmPY-ci4Q',1,1,19,19,1,1795166280000,1796407532867,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99404a8965458d0f96f2');
INSERT INTO "events" VALUES(38,'AaJCO51DMEoMrnXdKiHc2Q',1,1,19,19,6,1795169880000,1796407532867,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c0e6ff6c06ed7c2aa8');
INSERT INTO "events" VALUES(39,'AaJCO51DFtTDMvOYQb9glg',1,1,20,20,1,1795166340000,1796407532867,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a00c269b508cd6acd2');
INSERT INTO "events" VALUES(40,'AaJCO51Hxb463n_uHADcnQ',1,1,1,1,3,1796407532871,1796407532871,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(41,'AaJCO51Ia9gZkp5lpJic2A',1,1,1,1,4,1796407532872,1796407532872,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(42,'AaJCO51Jv2j9jM2kKwEGOg',1,1,2,2,3,1796407532873,1796407532873,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(43,'AaJCO51KF_V-Zv6SOgt-NQ',1,1,2,2,3,1796407532874,1796407532874,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(44,'AaJCO51Ld7L3-88Tu9Zdtg',1,1,2,2,4,1796407532875,1796407532875,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(45,'AaJCO51MN231WgnnJsdmiQ',1,1,3,3,3,1796407532876,1796407532876,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(46,'AaJCO51NXgAxRtJ996yphQ',1,1,3,3,3,1796407532877,1796407532877,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(47,'AaJCO51OlT0X6FCANBDjYA',1,1,3,3,4,1796407532878,1796407532878,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(48,'AaJCO51PMqUMSEqWI6D0gg',1,1,4,4,3,1796407532879,1796407532879,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(49,'AaJCO51QnxCf4b2lizWdLw',1,1,4,4,4,1796407532880,1796407532880,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(50,'AaJCO51RTF6WHjhZe3xLvg',1,1,5,5,3,1796407532881,1796407532881,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(51,'AaJCO51SdrjwNdjPf4avyg',1,1,5,5,3,1796407532882,1796407532882,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(52,'AaJCO51TaHfNZ4VDzzOuEw',1,1,6,6,3,1796407532883,1796407532883,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(53,'AaJCO51UPtAtJAFzAKXPUw',1,1,6,6,3,1796407532884,1796407532884,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(54,'AaJCO51VLcZkJWoNTN60Lg',1,1,7,7,3,1796407532885,1796407532885,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(55,'AaJCO51WeyfYgQlbpQJckA',1,1,8,8,3,1796407532886,1796407532886,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(56,'AaJCO51Xh-84LRUpy1ZSaQ',1,1,8,8,3,1796407532887,1796407532887,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(57,'AaJCO51Yjk-H2EA1VolV7g',1,1,6,6,7,1796407532888,1796407532888,'tracking','',1,'person05@example.com','',NULL,X'00000000000000008cb3da43fe22c679');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCO51Yjk-H2EA1VolV7g',1796407532888,1796407532888);
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCO51Drc7ySpPmfX_lnw',1795166160000,1796407532867);
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCO51DoHxubcgft_kD-A',1795166220000,1796407532867);
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCO51DMEoMrnXdKiHc2Q',1795169880000,1796407532867);
INSERT INTO "indexer_state" VALUES('customer_events',0);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX connections_org ON connections (org_id, id);
CREATE INDEX customers_email ON customers (org_id, email);
