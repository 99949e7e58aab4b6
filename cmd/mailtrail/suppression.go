package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mailtrail/mailtrail/internal/suppression"
)

// runSuppression is `mailtrail suppression import --org ID --file F`: the CSV import of
// the API, run against the data directory, with progress on stderr.
func runSuppression(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if _, err := group("suppression", args, stdout, [2]string{"import", "import --org ORG_ID --file F.csv"}); err != nil {
		return err
	}
	var org, file string
	l := newLeaf("suppression import", "mailtrail suppression import --org ORG_ID --file F.csv",
		"Imports suppressed addresses from a CSV file (the API's format), with progress on stderr; importing a file again is safe.",
		func(fs *flag.FlagSet) {
			fs.StringVar(&org, "org", "", "organization id")
			fs.StringVar(&file, "file", "", "CSV file: email[,reason[,customer_id[,note]]] or a header row naming them; - for stdin")
		}, "data-dir")
	if err := l.parse(args[1:], stdout); err != nil {
		return err
	}
	if err := noArgs(l); err != nil {
		return err
	}
	cfg := l.cfg
	if org == "" || file == "" {
		return errors.New("suppression import: --org and --file are required")
	}
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	db, err := openOffline(ctx, cfg, "suppression import")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Org(ctx, org); err != nil {
		return err
	}
	start := time.Now()
	last := start
	res, err := suppression.NewService(db).Import(ctx, in, org, "admin", suppression.ImportOptions{Progress: func(r suppression.ImportResult) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(stderr, "%d rows: %d added, %d existing, %d rejected (%.0f rows/s)\n",
				r.Rows, r.Added, r.Existing, r.Rejected, float64(r.Rows)/now.Sub(start).Seconds())
		}
	}})
	fmt.Fprintf(stderr, "%d rows in %s: %d added, %d existing, %d rejected\n", res.Rows, time.Since(start).Round(time.Millisecond),
		res.Added, res.Existing, res.Rejected)
	if perr := printJSON(stdout, res); err == nil {
		err = perr
	}
	return err
}
