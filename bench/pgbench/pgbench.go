// Package pgbench holds what the benchmarks on PostgreSQL share: schemas of their own,
// named at random and dropped after, and the median of their rounds.
package pgbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"

	"github.com/jackc/pgx/v5"
)

// RandomName returns prefix followed by 2n random hex digits: a schema, database or
// stream of one run.
func RandomName(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// DropSchema drops schema and everything in it on the server of dsn; a failure is
// printed, not returned (it runs after the measurement).
func DropSchema(dsn, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drop schema:", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		fmt.Fprintln(os.Stderr, "drop schema:", err)
	}
}

// Median returns the median of v (the upper one of an even count).
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
