package clickhouse

import (
	"context"
	"fmt"
)

// eventColumns are the columns of a raw event, in the order of the staging table, the
// events table and the rows the shipper writes (row.go). They mirror what the SQLite
// store's events table keeps, minus the address and the metadata that can name a person
// (CustomerEmail, the client IP, the user agent, the vendor's raw payload): ClickHouse
// holds no copy an erasure would have to reach.
const eventColumns = `org, id, type, occurred_at, occurred_ms, received_at, campaign, message, customer,
	source, class, reasons, esp_message_id, link_url, bounce_type, client, device, country, city, pos, idx`

const eventColumnTypes = `
	org            String,
	id             String,
	type           UInt8,
	occurred_at    DateTime,
	occurred_ms    UInt16,
	received_at    DateTime,
	campaign       String,
	message        String,
	customer       String,
	source         String,
	class          String,
	reasons        String,
	esp_message_id String,
	link_url       String,
	bounce_type    String,
	client         String,
	device         String,
	country        String,
	city           String,
	pos            UInt64,
	idx            UInt32`

// schema creates the tables when they are missing. Every statement is idempotent.
//
//   - events: one row per event, ReplacingMergeTree ordered by (org, campaign, type,
//     occurred_at, id). Every column is a function of the id (the log's events never
//     change), so two copies of an event have the same sorting key and merges keep one;
//     until they do, reads count distinct ids (CountsByType).
//   - events_stage: the blocks being shipped, one partition per block (its first
//     position), tagged with the upload's attempt; row_end is a one-character last
//     column, so a row cut inside its last field (which 18.16 commits) is seen.
//   - ship_positions: the last log position shipped, per stream (max(pos) wins).
//
// With WithReplicated, events and ship_positions are their Replicated variants, %[2]s and
// %[3]s below.
var schema = []string{
	`CREATE DATABASE IF NOT EXISTS %[1]s`,
	`CREATE TABLE IF NOT EXISTS %[1]s.events (` + eventColumnTypes + `
	) ENGINE = %[2]s
	PARTITION BY toYYYYMM(occurred_at)
	ORDER BY (org, campaign, type, occurred_at, id)`,
	`CREATE TABLE IF NOT EXISTS %[1]s.events_stage (
	first   UInt64,
	attempt UInt64,
	n       UInt32,` + eventColumnTypes + `,
	row_end String
	) ENGINE = MergeTree
	PARTITION BY first
	ORDER BY (attempt, n)`,
	`CREATE TABLE IF NOT EXISTS %[1]s.ship_positions (
	stream String,
	pos    UInt64,
	block  String,
	at     DateTime
	) ENGINE = %[3]s
	ORDER BY stream`,
}

// engines returns the engines of the events and the positions.
func (db *DB) engines() (events, positions string) {
	if !db.replicated {
		return "ReplacingMergeTree", "ReplacingMergeTree(pos)"
	}
	path := "/clickhouse/mailtrail/" + db.database + "/"
	return "ReplicatedReplacingMergeTree('" + path + "events', '{replica}')",
		"ReplicatedReplacingMergeTree('" + path + "ship_positions', '{replica}', pos)"
}

// Schema creates the database and its tables when they are missing; it changes nothing
// that exists. It returns the first statement's error.
func (db *DB) Schema(ctx context.Context) error {
	events, positions := db.engines()
	for _, s := range schema {
		if err := db.exec(ctx, fmt.Sprintf(s, db.database, events, positions)); err != nil {
			return fmt.Errorf("clickhouse: schema: %w", err)
		}
	}
	return nil
}

// DropDatabase removes the database and everything in it (tests, benchmarks).
func (db *DB) DropDatabase(ctx context.Context) error {
	return db.exec(ctx, "DROP DATABASE IF EXISTS "+db.database)
}
