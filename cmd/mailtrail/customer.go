package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// runCustomer is `mailtrail customer erase --org ORG_ID CUSTOMER_ID`: the erasure of the
// API (DELETE /api/v1/customers/{id}) run against the data directory.
func runCustomer(ctx context.Context, args []string, stdout io.Writer) error {
	if _, err := group("customer", args, stdout, [2]string{"erase", "erase --org ORG_ID CUSTOMER_ID"}); err != nil {
		return err
	}
	var org string
	l := newLeaf("customer erase", "mailtrail customer erase --org ORG_ID CUSTOMER_ID",
		"Erases a customer's personal data (address, IP, user agent, city, the CRM's id); aggregates are kept and\nthe addresses stay suppressed as hashes.",
		func(fs *flag.FlagSet) { fs.StringVar(&org, "org", "", "organization id") }, "data-dir")
	if err := l.parse(args[1:], stdout); err != nil {
		return err
	}
	fs, cfg := l.fs, l.cfg
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return errors.New("customer erase: want one customer id after the flags: mailtrail customer erase --org ORG_ID CUSTOMER_ID")
	}
	db, err := openOrgStore(ctx, cfg, "customer erase", org)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.EraseCustomer(ctx, org, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("customer erase: %w", err)
	}
	// The event log (an earlier serve --event-log) keeps the customer's applied events
	// until its retention: they go now.
	if err := forgetEventLog(ctx, cfg.DataDir, db.DB); err != nil {
		return fmt.Errorf("customer erase: the customer is erased, but the event log still holds their events (%w): they leave it at its retention", err)
	}
	// The segment index's snapshot names the customer's former id: it goes too (the next
	// start would refuse it anyway, the store's generation having moved).
	snap := filepath.Join(cfg.DataDir, segmentSnapshotFile)
	if err := os.Remove(snap); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("customer erase: the customer is erased, but %s still names their former id and could not be removed (%w): delete it", snap, err)
	}
	return printJSON(stdout, res)
}
