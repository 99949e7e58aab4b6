package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// CountsByType returns how many distinct events of each type org's campaign has in
// ClickHouse. It counts event ids (uniqExact), not rows, so a block copied twice before
// the merges collapse it counts once. Types without events are absent.
func (db *DB) CountsByType(ctx context.Context, org, campaign string) (map[mailtrail.EventType]int64, error) {
	out, err := db.do(ctx, fmt.Sprintf(`SELECT type, uniqExact(id) FROM %s
		WHERE org = %s AND campaign = %s GROUP BY type ORDER BY type FORMAT TabSeparated`,
		db.table("events"), Quote(org), Quote(campaign)), nil)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: counts by type: %w", err)
	}
	counts := map[mailtrail.EventType]int64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			return nil, fmt.Errorf("clickhouse: counts by type: answer %q", line)
		}
		t, err1 := strconv.ParseUint(f[0], 10, 8)
		n, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("clickhouse: counts by type: answer %q", line)
		}
		counts[mailtrail.EventType(t)] = n
	}
	return counts, nil
}

// Rows returns how many rows the events table holds, copies not yet merged included,
// and how many distinct event ids: more rows than ids means a block was copied twice.
func (db *DB) Rows(ctx context.Context) (rows, ids int64, err error) {
	out, err := db.do(ctx, "SELECT count(), uniqExact(id) FROM "+db.table("events"), nil)
	if err != nil {
		return 0, 0, fmt.Errorf("clickhouse: rows: %w", err)
	}
	if _, err := fmt.Sscan(out, &rows, &ids); err != nil {
		return 0, 0, fmt.Errorf("clickhouse: rows: answer %q", out)
	}
	return rows, ids, nil
}
