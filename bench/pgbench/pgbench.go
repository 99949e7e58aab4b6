// Package pgbench holds what the benchmarks on PostgreSQL share: schemas of their own,
// named at random and dropped after, a log in memory for their projectors, and the
// median of their rounds.
package pgbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// MemLog is a log in memory, safe for concurrent use: records at positions 1, 2, …;
// every Read returns copies of the events carrying the organization Org (a store changes
// the events it writes, and each store has its own organization id).
type MemLog struct {
	Org string

	mu   sync.Mutex
	recs [][]*mailtrail.Event
}

// Add appends a record and returns its position.
func (l *MemLog) Add(evs []*mailtrail.Event) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, evs)
	return uint64(len(l.recs))
}

// Len returns how many records the log holds: its last position.
func (l *MemLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// WithOrg returns a log of the same records read with another organization.
func (l *MemLog) WithOrg(org string) *MemLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &MemLog{Org: org, recs: l.recs}
}

// Read is projector.Log's.
func (l *MemLog) Read(_ context.Context, from uint64, limit int) ([]projector.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []projector.Record
	for i := max(int(from), 1); i <= len(l.recs) && len(out) < limit; i++ {
		evs := make([]*mailtrail.Event, len(l.recs[i-1]))
		for j, e := range l.recs[i-1] {
			c := *e
			c.OrgID = l.Org
			evs[j] = &c
		}
		out = append(out, projector.Record{Pos: uint64(i), Events: evs})
	}
	return out, nil
}

// DeleteStream deletes a benchmark's JetStream stream, quietly (it is only cleanup).
func DeleteStream(url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, name)
}
