// Command mailtrail is the email-events service: one binary that instruments emails,
// serves the tracking pixel, click redirect and unsubscribe page, records events durably
// and answers reports. Configuration and wiring live here and only here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `mailtrail — email engagement tracking for a CRM

Usage:
  mailtrail serve [flags]            run the service on the embedded store
  mailtrail demo [flags]             run it with a demo organization and generated history
  mailtrail org create --name N [--timezone Europe/Paris]
  mailtrail org list
  mailtrail key create --org ORG_ID [--name N] [--scope all|read]
  mailtrail key list --org ORG_ID
  mailtrail key revoke --org ORG_ID --key KEY_ID
  mailtrail connection create --org ORG_ID --vendor V --name N [--signing-key K | --username U --password P | --bearer-token T | --topic-arn ARN]
  mailtrail connection list --org ORG_ID
  mailtrail suppression import --org ORG_ID --file F.csv   (progress on stderr)
  mailtrail customer erase --org ORG_ID CUSTOMER_ID   (personal data; aggregates kept)
  mailtrail backup --to FILE          a consistent copy of the store and its secret key, beside a running server
  mailtrail restore --from FILE --data-dir DIR   into a new or empty directory
  mailtrail cluster check [--timeout 5s] [--json]   which of NATS, PostgreSQL and ClickHouse are reachable and healthy
  mailtrail cluster copy-orgs --postgres-dsn DSN   the store's organizations into PostgreSQL, for workers
  mailtrail worker --event-log-url URLS --postgres-dsn DSN [--clickhouse-url URL]   project the event log into PostgreSQL (and ClickHouse)
  mailtrail version

Every command takes the flags of serve (at least --data-dir); "mailtrail serve --help" lists
them with their MAILTRAIL_* environment variables, "mailtrail COMMAND --help" a command's
own. One process at a time opens a data directory: while a server runs, use its API.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mailtrail:", cliMessage(err))
		}
		os.Exit(exitCode(err))
	}
}

// Run runs one command of the binary; tests call it as main does. Help asked for is
// printed on stdout and returns nil; no command prints the usage on stderr and returns
// flag.ErrHelp.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := run(ctx, args, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, false)
	case "demo":
		return runServe(ctx, rest, stdout, stderr, true)
	case "org":
		return runOrg(ctx, rest, stdout)
	case "key":
		return runKey(ctx, rest, stdout)
	case "connection":
		return runConnection(ctx, rest, stdout)
	case "suppression":
		return runSuppression(ctx, rest, stdout, stderr)
	case "customer":
		return runCustomer(ctx, rest, stdout)
	case "backup":
		return runBackup(ctx, rest, stdout)
	case "restore":
		return runRestore(ctx, rest, stdout)
	case "cluster":
		return runCluster(ctx, rest, stdout)
	case "worker":
		return runWorker(ctx, rest, stdout, stderr)
	case "version":
		if len(rest) > 0 && isHelp(rest[0]) {
			fmt.Fprintln(stdout, "Usage:\n  mailtrail version\n\nPrints the module version, the VCS revision and the Go version of the build.")
			return nil
		}
		fmt.Fprintln(stdout, buildVersion().line())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (mailtrail --help lists them)", cmd)
}
