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
INSERT INTO "schema_migrations" VALUES('migrations/001_init.sql',1796407506319);
INSERT INTO "schema_migrations" VALUES('migrations/002_connections.sql',1796407506330);
INSERT INTO "orgs" VALUES(1,'org_dOe2JbOcWuDm','Upgrade','Europe/Paris',1796407506367);
INSERT INTO "api_keys" VALUES(1,'key_9YnD-1g6geL7',1,'default','mt_626zrsJ',X'6c6a2693a204760743fa0f366263bfea01d655b433b1bc7203c4ed00c771be52',1796407506367,NULL);
INSERT INTO "campaigns" VALUES(1,1,'spring');
INSERT INTO "customers" VALUES(1,1,'cust-00','person00@example.com',1795165200000,1796407506419,1796407506425);
INSERT INTO "customers" VALUES(2,1,'cust-01','person01@example.com',1795165260000,1796407506437,1796407506438);
INSERT INTO "customers" VALUES(3,1,'cust-02','person02@example.com',1795165320000,1796407506441,1796407506442);
INSERT INTO "customers" VALUES(4,1,'cust-03','person03@example.com',1795165380000,1796407506444,1796407506445);
INSERT INTO "customers" VALUES(5,1,'cust-04','person04@example.com',1795165440000,1796407506455,0);
INSERT INTO "customers" VALUES(6,1,'cust-05','person05@example.com',1795165500000,1796407506460,0);
INSERT INTO "customers" VALUES(7,1,'cust-06','person06@example.com',1795165560000,1796407506462,0);
INSERT INTO "customers" VALUES(8,1,'cust-07','person07@example.com',1795165620000,1796407506464,0);
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
INSERT INTO "messages" VALUES(1,X'1b8b6c66d0635d80e023e500',1,1,1,'person00@example.com',NULL,1,1,X'0102',1796407506374,1795165200000,1795165260000,1796407506419,1796407506419,1796407506425,1796407506425,0,0,0,0);
INSERT INTO "messages" VALUES(2,X'970ff169efa4f1649a1d3599',1,1,2,'person01@example.com',NULL,1,1,X'0102',1796407506374,1795165260000,1795165320000,1796407506435,1796407506435,1796407506438,1796407506438,0,0,0,0);
INSERT INTO "messages" VALUES(3,X'6e4e0991fc163a81eba46531',1,1,3,'person02@example.com',NULL,1,1,X'0102',1796407506374,1795165320000,1795165380000,1796407506440,1796407506440,1796407506442,1796407506442,0,0,0,0);
INSERT INTO "messages" VALUES(4,X'06a6fc1f539cf8abc395c384',1,1,4,'person03@example.com',NULL,1,1,X'0102',1796407506374,1795165380000,1795165440000,1796407506444,1796407506444,1796407506445,1796407506445,0,0,0,0);
INSERT INTO "messages" VALUES(5,X'8f136068cb1440825c7544df',1,1,5,'person04@example.com',NULL,1,1,X'0102',1796407506374,1795165440000,1795165500000,1796407506449,1796407506449,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(6,X'65844b0d689c5cdbb88b3cd3',1,1,6,'person05@example.com',NULL,1,1,X'0102',1796407506374,1795165500000,1795165560000,1796407506459,1796407506459,0,0,0,0,0,1796407506465);
INSERT INTO "messages" VALUES(7,X'2f0d490fa91711736b989d4c',1,1,7,'person06@example.com',NULL,1,1,X'0102',1796407506374,1795165560000,1795165620000,1796407506462,1796407506462,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(8,X'f6db77d70264702604369b93',1,1,8,'person07@example.com',NULL,1,1,X'0102',1796407506374,1795165620000,1795165680000,1796407506463,1796407506463,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(9,X'f54406e180c4cc0af0be6cda',1,1,9,'person08@example.com',NULL,1,1,X'0102',1796407506374,1795165680000,1795165740000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(10,X'13051b16198539c2b364140e',1,1,10,'person09@example.com',NULL,1,1,X'0102',1796407506374,1795165740000,1795165800000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(11,X'18466c51c61554c1348d61d4',1,1,11,'person10@example.com',NULL,1,1,X'0102',1796407506374,1795165800000,1795165860000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(12,X'c3851fe53b865e1bc0144988',1,1,12,'person11@example.com',NULL,1,1,X'0102',1796407506374,1795165860000,1795165920000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(13,X'4f16200138ff5b6062566e74',1,1,13,'person12@example.com',NULL,1,1,X'0102',1796407506374,1795165920000,1795165980000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(14,X'fec95f5ff2bf09dea70ed5fd',1,1,14,'person13@example.com',NULL,1,1,X'0102',1796407506374,1795165980000,1795166040000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(15,X'e6fc7e83f50d18a7805582b6',1,1,15,'person14@example.com',NULL,1,1,X'0102',1796407506374,1795166040000,1795166100000,0,0,0,0,0,0,0,0);
INSERT INTO "messages" VALUES(16,X'94d4e9f9791c37094df06230',1,1,16,'person15@example.com',NULL,1,1,X'0102',1796407506374,1795166100000,0,0,0,0,0,1795166160000,1795166160000,0,0);
INSERT INTO "messages" VALUES(17,X'c9123fbb3cb59ec4e1282510',1,1,17,'person16@example.com',NULL,1,1,X'0102',1796407506374,1795166160000,0,0,0,0,0,1795166220000,1795166220000,0,0);
INSERT INTO "messages" VALUES(18,X'2fa4683941a6c826bbab3b43',1,1,18,'person17@example.com',NULL,1,1,X'0102',1796407506374,1795166220000,0,0,0,0,0,1795166280000,0,0,0);
INSERT INTO "messages" VALUES(19,X'5b5072d2827cc5a9bd6cf5da',1,1,19,'person18@example.com',NULL,1,1,X'0102',1796407506374,1795166280000,0,0,0,0,0,0,0,1795169880000,0);
INSERT INTO "messages" VALUES(20,X'8abb2da643463e9cca8f78df',1,1,20,'person19@example.com',NULL,1,1,X'0102',1796407506374,1795166340000,0,0,0,0,0,0,0,0,0);
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
INSERT INTO "events" VALUES(1,'AaJCOzXfSR0gP4TR__w8fQ',1,1,1,1,1,1795165200000,1796407506399,'api','',1,'person00@example.com','',NULL,X'000001a1f82f1e805460b83ed77ff74e');
INSERT INTO "events" VALUES(2,'AaJCOzXfxK7pqXPYGbhIng',1,1,1,1,2,1795165260000,1796407506399,'api','',1,'person00@example.com','',NULL,X'000001a1f83008e096784d14c3a9face');
INSERT INTO "events" VALUES(3,'AaJCOzXfj-OD3cziQlQvTQ',1,1,2,2,1,1795165260000,1796407506399,'api','',1,'person01@example.com','',NULL,X'000001a1f83008e01593bf65d8f860d3');
INSERT INTO "events" VALUES(4,'AaJCOzXfDwUR2lJasf89fg',1,1,2,2,2,1795165320000,1796407506399,'api','',1,'person01@example.com','',NULL,X'000001a1f830f340abe3275188c85453');
INSERT INTO "events" VALUES(5,'AaJCOzXfO-pliSGAo_hnDQ',1,1,3,3,1,1795165320000,1796407506399,'api','',1,'person02@example.com','',NULL,X'000001a1f830f340ae9a8b654b48645c');
INSERT INTO "events" VALUES(6,'AaJCOzXfZsaXke5IhCAW4A',1,1,3,3,2,1795165380000,1796407506399,'api','',1,'person02@example.com','',NULL,X'000001a1f831dda037900406ad3210c1');
INSERT INTO "events" VALUES(7,'AaJCOzXfUicX6plSstKrHw',1,1,4,4,1,1795165380000,1796407506399,'api','',1,'person03@example.com','',NULL,X'000001a1f831dda0cea92303c43d2b6e');
INSERT INTO "events" VALUES(8,'AaJCOzXfDYLoTmkovXyTag',1,1,4,4,2,1795165440000,1796407506399,'api','',1,'person03@example.com','',NULL,X'000001a1f832c800c6a8018b4ffc1e50');
INSERT INTO "events" VALUES(9,'AaJCOzXfjeDLnSBBEjZXaQ',1,1,5,5,1,1795165440000,1796407506399,'api','',1,'person04@example.com','',NULL,X'000001a1f832c800429cbe4f04daf71c');
INSERT INTO "events" VALUES(10,'AaJCOzXfEzc_Cf7D-sWLmg',1,1,5,5,2,1795165500000,1796407506399,'api','',1,'person04@example.com','',NULL,X'000001a1f833b260817e570a1f74eab4');
INSERT INTO "events" VALUES(11,'AaJCOzXfdlihjtkYxmrFbA',1,1,6,6,1,1795165500000,1796407506399,'api','',1,'person05@example.com','',NULL,X'000001a1f833b2604185e12f3eadbc30');
INSERT INTO "events" VALUES(12,'AaJCOzXfKjyrECfa_9d1Ig',1,1,6,6,2,1795165560000,1796407506399,'api','',1,'person05@example.com','',NULL,X'000001a1f8349cc0f59dbdd17804c846');
INSERT INTO "events" VALUES(13,'AaJCOzXfC3WcPOcNXq_NDQ',1,1,7,7,1,1795165560000,1796407506399,'api','',1,'person06@example.com','',NULL,X'000001a1f8349cc0b060fcb3d8391a2e');
INSERT INTO "events" VALUES(14,'AaJCOzXfEH5n2WKl0k18tA',1,1,7,7,2,1795165620000,1796407506399,'api','',1,'person06@example.com','',NULL,X'000001a1f8358720b4979c43e1c3f32e');
INSERT INTO "events" VALUES(15,'AaJCOzXfZE_jnzaR8iANiw',1,1,8,8,1,1795165620000,1796407506399,'api','',1,'person07@example.com','',NULL,X'000001a1f835872090d01e9c8905c431');
INSERT INTO "events" VALUES(16,'AaJCOzXfrkH56lP0ra_FIA',1,1,8,8,2,1795165680000,1796407506399,'api','',1,'person07@example.com','',NULL,X'000001a1f83671808a7976e60bcbc5d3');
INSERT INTO "events" VALUES(17,'AaJCOzXfh0ENb4kdzqF9ig',1,1,9,9,1,1795165680000,1796407506399,'api','',1,'person08@example.com','',NULL,X'000001a1f83671805259af46213d387e');
INSERT INTO "events" VALUES(18,'AaJCOzXf0v45mpx0Gw28tQ',1,1,9,9,2,1795165740000,1796407506399,'api','',1,'person08@example.com','',NULL,X'000001a1f8375be050ffbcb0dcc5b6b2');
INSERT INTO "events" VALUES(19,'AaJCOzXfQ7MpmFaB0IbiNg',1,1,10,10,1,1795165740000,1796407506399,'api','',1,'person09@example.com','',NULL,X'000001a1f8375be01c822cadab364606');
INSERT INTO "events" VALUES(20,'AaJCOzXfTaUJse_Fp7_34A',1,1,10,10,2,1795165800000,1796407506399,'api','',1,'person09@example.com','',NULL,X'000001a1f83846401a3c834ce9403a53');
INSERT INTO "events" VALUES(21,'AaJCOzXfGE57UeXZe9gCiQ',1,1,11,11,1,1795165800000,1796407506399,'api','',1,'person10@example.com','',NULL,X'000001a1f8384640690dabb2af45b506');
INSERT INTO "events" VALUES(22,'AaJCOzXfiHWLS2rUqVzUOw',1,1,11,11,2,1795165860000,1796407506399,'api','',1,'person10@example.com','',NULL,X'000001a1f83930a07e696e4b16e1ae64');
INSERT INTO "events" VALUES(23,'AaJCOzXf-6Dn6SpZySwlrg',1,1,12,12,1,1795165860000,1796407506399,'api','',1,'person11@example.com','',NULL,X'000001a1f83930a07aac36bac2170f26');
INSERT INTO "events" VALUES(24,'AaJCOzXfF2Hbj_gbkNZvaw',1,1,12,12,2,1795165920000,1796407506399,'api','',1,'person11@example.com','',NULL,X'000001a1f83a1b0015ff992bae467a91');
INSERT INTO "events" VALUES(25,'AaJCOzXfHHx-FpL5RW1EXw',1,1,13,13,1,1795165920000,1796407506399,'api','',1,'person12@example.com','',NULL,X'000001a1f83a1b00a35ce04cea216e39');
INSERT INTO "events" VALUES(26,'AaJCOzXfyI2Gr49SabZJhA',1,1,13,13,2,1795165980000,1796407506399,'api','',1,'person12@example.com','',NULL,X'000001a1f83b05600c5340491e742533');
INSERT INTO "events" VALUES(27,'AaJCOzXf6J6OkDpPmDwO3g',1,1,14,14,1,1795165980000,1796407506399,'api','',1,'person13@example.com','',NULL,X'000001a1f83b0560ef5ead654735c54b');
INSERT INTO "events" VALUES(28,'AaJCOzXf8q5mbjfcKnXBzA',1,1,14,14,2,1795166040000,1796407506399,'api','',1,'person13@example.com','',NULL,X'000001a1f83befc0da43c37e90b536c7');
INSERT INTO "events" VALUES(29,'AaJCOzXfQYPrYzkpuJYdrQ',1,1,15,15,1,1795166040000,1796407506399,'api','',1,'person14@example.com','',NULL,X'000001a1f83befc0249677815ff32961');
INSERT INTO "events" VALUES(30,'AaJCOzXfppCKCSWZBc183w',1,1,15,15,2,1795166100000,1796407506399,'api','',1,'person14@example.com','',NULL,X'000001a1f83cda20ccea3fbe10b8931a');
INSERT INTO "events" VALUES(31,'AaJCOzXfZmLwiNELTrDNQw',1,1,16,16,1,1795166100000,1796407506399,'api','',1,'person15@example.com','',NULL,X'000001a1f83cda2002f897d7764f6811');
INSERT INTO "events" VALUES(32,'AaJCOzXfYjV2y8h-6dgDMw',1,1,16,16,5,1795166160000,1796407506399,'api','',1,'person15@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83dc4807f99c16ba6d1124e');
INSERT INTO "events" VALUES(33,'AaJCOzXfe2ipISYmSqD6Cg',1,1,17,17,1,1795166160000,1796407506399,'api','',1,'person16@example.com','',NULL,X'000001a1f83dc480d4fac9543ae96f6a');
INSERT INTO "events" VALUES(34,'AaJCOzXf22ubGDI-4obYHA',1,1,17,17,5,1795166220000,1796407506399,'api','',1,'person16@example.com','','{"bounce_type":"hard","smtp_code":"550 5.1.1"}',X'000001a1f83eaee02b625a89a89d05f1');
INSERT INTO "events" VALUES(35,'AaJCOzXfQn3YSDLEAt7YsQ',1,1,18,18,1,1795166220000,1796407506399,'api','',1,'person17@example.com','',NULL,X'000001a1f83eaee0f331e087926ac72e');
INSERT INTO "events" VALUES(36,'AaJCOzXfncWaKga3dKO4mQ',1,1,18,18,5,1795166280000,1796407506399,'api','',1,'person17@example.com','','{"bounce_type":"soft","smtp_code":"452 4.2.2"}',X'000001a1f83f9940e29cc428f28e3d1d');
INSERT INTO "events" VALUES(37,'AaJCOzXf4RgT52P_1Eu5qA',1,1,19,19,1,1795166280000,1796407506399,'api','',1,'person18@example.com','',NULL,X'000001a1f83f99403e0db3fcde753812');
INSERT INTO "events" VALUES(38,'AaJCOzXf6GpDorbmTh8dXQ',1,1,19,19,6,1795169880000,1796407506399,'api','',1,'person18@example.com','',NULL,X'000001a1f87687c0e4005c298cc5c2a5');
INSERT INTO "events" VALUES(39,'AaJCOzXfPlP8GigyYRWU0w',1,1,20,20,1,1795166340000,1796407506399,'api','',1,'person19@example.com','',NULL,X'000001a1f84083a023f233f318384f8a');
INSERT INTO "events" VALUES(40,'AaJCOzXzRp2Ia5ey_91AFw',1,1,1,1,3,1796407506419,1796407506419,'tracking','human',1,'person00@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(41,'AaJCOzX5jRti2yzEjlobAQ',1,1,1,1,4,1796407506425,1796407506425,'tracking','human',1,'person00@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(42,'AaJCOzYD95PN8ouye4qlIw',1,1,2,2,3,1796407506435,1796407506435,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(43,'AaJCOzYFnLh9WcC195zHGw',1,1,2,2,3,1796407506437,1796407506437,'tracking','human',1,'person01@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(44,'AaJCOzYG6Mz_ErEdNOGeNw',1,1,2,2,4,1796407506438,1796407506438,'tracking','human',1,'person01@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(45,'AaJCOzYIwl1D-axDEbVqRw',1,1,3,3,3,1796407506440,1796407506440,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(46,'AaJCOzYJERL_UxSCyhQ6FA',1,1,3,3,3,1796407506441,1796407506441,'tracking','human',1,'person02@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(47,'AaJCOzYKjkpsOE3f77B5Hw',1,1,3,3,4,1796407506442,1796407506442,'tracking','human',1,'person02@example.com','','{"link_url":"https://shop.example.com/spring","link_index":0,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(48,'AaJCOzYM_mIssDx01JRwUw',1,1,4,4,3,1796407506444,1796407506444,'tracking','human',1,'person03@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(49,'AaJCOzYNOORy_WRRUraBTQ',1,1,4,4,4,1796407506445,1796407506445,'tracking','human',1,'person03@example.com','','{"link_url":"https://shop.example.com/sale","link_index":1,"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(50,'AaJCOzYRSmskDZMyF89geg',1,1,5,5,3,1796407506449,1796407506449,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(51,'AaJCOzYXvAyLRgOR1egfPw',1,1,5,5,3,1796407506455,1796407506455,'tracking','human',1,'person04@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(52,'AaJCOzYbJN_kEQuMxWUuNA',1,1,6,6,3,1796407506459,1796407506459,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(53,'AaJCOzYcNpIlyveS3TAzsA',1,1,6,6,3,1796407506460,1796407506460,'tracking','human',1,'person05@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(54,'AaJCOzYenUufJJGBcPTKWg',1,1,7,7,3,1796407506462,1796407506462,'tracking','human',1,'person06@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(55,'AaJCOzYft7LoL6cvU4-MHw',1,1,8,8,3,1796407506463,1796407506463,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(56,'AaJCOzYgKtjdkWTDctF7Fg',1,1,8,8,3,1796407506464,1796407506464,'tracking','human',1,'person07@example.com','','{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0","ip":"127.0.0.1","method":"GET"}',NULL);
INSERT INTO "events" VALUES(57,'AaJCOzYha9OyYifWRI1S7w',1,1,6,6,7,1796407506465,1796407506465,'tracking','',1,'person05@example.com','',NULL,X'0000000000000000e2a5b728ddb7646c');
INSERT INTO "suppressions" VALUES(1,'person05@example.com','cust-05','unsubscribed','tracking_link','AaJCOzYha9OyYifWRI1S7w',1796407506465,1796407506465);
INSERT INTO "suppressions" VALUES(1,'person15@example.com','cust-15','hard_bounce','api','AaJCOzXfYjV2y8h-6dgDMw',1795166160000,1796407506399);
INSERT INTO "suppressions" VALUES(1,'person16@example.com','cust-16','hard_bounce','api','AaJCOzXf22ubGDI-4obYHA',1795166220000,1796407506399);
INSERT INTO "suppressions" VALUES(1,'person18@example.com','cust-18','complaint','api','AaJCOzXf6GpDorbmTh8dXQ',1795169880000,1796407506399);
CREATE INDEX messages_esp ON messages (org_id, esp_message_id) WHERE esp_message_id IS NOT NULL;
CREATE INDEX messages_customer ON messages (customer_id);
CREATE INDEX events_campaign ON events (campaign_id, occurred_at);
CREATE INDEX events_customer ON events (customer_id, occurred_at);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX connections_org ON connections (org_id, id);
CREATE INDEX customers_email ON customers (org_id, email);
