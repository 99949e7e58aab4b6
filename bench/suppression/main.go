// Command suppression measures the suppression list on the embedded store: CSV import
// rows/s and the bulk check of 10,000 addresses against 1,000,000 suppressions, each beside
// a baseline measured in the same run (a plain keyed table for the import, 10,000 single
// lookups for the check). It prints figures and ratios; it asserts nothing.
//
//	go run ./bench/suppression [-rows 1000000] [-check 10000] [-rounds 20]
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/suppression"

	_ "modernc.org/sqlite"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "suppressions imported")
	check := flag.Int("check", 10_000, "addresses per check")
	rounds := flag.Int("rounds", 20, "check rounds")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mailtrail-supbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(ctx, filepath.Join(dir, "m.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	org, key, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		log.Fatal(err)
	}

	// Import: the CSV is generated as it is read, so only the import's memory counts.
	start := time.Now()
	res, err := suppression.Import(ctx, csvOf(*rows), db, org.ID, "bench", suppression.ImportOptions{})
	if err != nil {
		log.Fatal(err)
	}
	imp := time.Since(start)
	base := baselineImport(ctx, filepath.Join(dir, "base.db"), *rows)
	fmt.Printf("CSV import of %d rows (synchronous=FULL, 5,000 rows per transaction, with history):\n", res.Rows)
	fmt.Printf("  mailtrail  %8.2fs  %9.0f rows/s\n", imp.Seconds(), float64(res.Rows)/imp.Seconds())
	fmt.Printf("  baseline   %8.2fs  %9.0f rows/s   (plain INSERT into one keyed table)\n", base.Seconds(), float64(*rows)/base.Seconds())
	fmt.Printf("  ratio      %8.2f× the baseline's time\n\n", imp.Seconds()/base.Seconds())

	// Check: half of the addresses are suppressed, spread over the whole list.
	emails := make([]string, *check)
	for i := range emails {
		if i%2 == 0 {
			emails[i] = fmt.Sprintf("user%d@list.example.com", (i*7919)%*rows)
		} else {
			emails[i] = fmt.Sprintf("other%d@elsewhere.example.org", i)
		}
	}
	store := measure(*rounds, func() {
		if _, err := db.CheckSuppressions(ctx, org.ID, emails); err != nil {
			log.Fatal(err)
		}
	})
	srv := httpd.New(db, nil, nil, nil, httpd.Options{})
	body, _ := json.Marshal(map[string]any{"emails": emails})
	api := measure(*rounds, func() {
		req := httptest.NewRequest("POST", "/api/v1/suppressions/check", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			log.Fatalf("check: %d %s", rec.Code, rec.Body.String())
		}
	})
	single := measure(max(*rounds/5, 3), func() {
		for _, e := range emails {
			if _, err := db.Suppressed(ctx, org.ID, e); err != nil {
				log.Fatal(err)
			}
		}
	})
	fmt.Printf("Bulk check of %d addresses against %d suppressions (median / p90 of %d rounds):\n", *check, res.Added, *rounds)
	fmt.Printf("  store, one query (json_each)        %s\n", store)
	fmt.Printf("  HTTP handler (JSON in and out)      %s\n", api)
	fmt.Printf("  baseline: %d single lookups      %s\n", *check, single)
	fmt.Printf("  ratio store/baseline                %.2f\n", store.median.Seconds()/single.median.Seconds())
}

type stats struct{ median, p90 time.Duration }

func (s stats) String() string {
	return fmt.Sprintf("%7.2f ms / %7.2f ms", float64(s.median.Microseconds())/1000, float64(s.p90.Microseconds())/1000)
}

func measure(n int, f func()) stats {
	f() // warm: statements prepared, pages cached
	d := make([]time.Duration, n)
	for i := range d {
		t := time.Now()
		f()
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	return stats{d[n/2], d[n*9/10]}
}

// csvOf generates "email,reason,customer_id" and n rows.
func csvOf(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		var b bytes.Buffer
		b.WriteString("email,reason,customer_id\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "user%d@list.example.com,,cust-%d\n", i, i)
			if b.Len() > 64<<10 {
				pw.Write(b.Bytes())
				b.Reset()
			}
		}
		pw.Write(b.Bytes())
		pw.Close()
	}()
	return pr
}

// baselineImport inserts the same rows into one keyed table, 5,000 per transaction.
func baselineImport(ctx context.Context, path string, n int) time.Duration {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE s (email TEXT PRIMARY KEY, reason TEXT, customer_id TEXT) WITHOUT ROWID`); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO s VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			log.Fatal(err)
		}
		for j := 0; j < 5000 && i < n; j, i = j+1, i+1 {
			if _, err := st.ExecContext(ctx, fmt.Sprintf("user%d@list.example.com", i), "list_import", fmt.Sprintf("cust-%d", i)); err != nil {
				log.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			log.Fatal(err)
		}
	}
	return time.Since(start)
}
