package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// runCustomer is `mailtrail customer erase --org ORG_ID CUSTOMER_ID`: the erasure of the
// API (DELETE /api/v1/customers/{id}) run against the data directory.
func runCustomer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "erase" {
		return errors.New("customer: want erase")
	}
	fs := flag.NewFlagSet("customer erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &Config{}
	cfg.bind(fs)
	var org string
	fs.StringVar(&org, "org", "", "organization id")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
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
	return printJSON(stdout, res)
}
