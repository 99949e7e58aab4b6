// Package pgtest gives tests the PostgreSQL server that ./scripts/test.sh checks (the
// machine's, MAILTRAIL_TEST_POSTGRES_DSN) and schemas of their own on it, dropped when
// the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DSN returns the test server's DSN (MAILTRAIL_TEST_POSTGRES_DSN). Without it the test
// skips, unless MAILTRAIL_REQUIRE_SERVICES is set (CI): then it fails.
func DSN(t testing.TB) string {
	t.Helper()
	v := os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN")
	if v == "" {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal("MAILTRAIL_TEST_POSTGRES_DSN is not set: scripts/test.sh sets it (docs/cluster.md, \"The test engines\")")
		}
		t.Skip("MAILTRAIL_TEST_POSTGRES_DSN is not set (a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	return v
}

// Schema returns a fresh schema name (prefix and random hex) on the server of dsn,
// dropped with everything in it when the test ends.
func Schema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
