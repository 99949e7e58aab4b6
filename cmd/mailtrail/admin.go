package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// noArgs returns an error naming the verb when it was given arguments it does not take.
func noArgs(l *leaf) error {
	if l.fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (see mailtrail %s --help)", l.fs.Name(), l.fs.Arg(0), l.fs.Name())
	}
	return nil
}

func runOrg(ctx context.Context, args []string, stdout io.Writer) error {
	verb, err := group("org", args, stdout, [2]string{"create", "create --name N [--timezone Europe/Paris]"}, [2]string{"list", "list"})
	if err != nil {
		return err
	}
	var name, tz string
	var l *leaf
	if verb == "create" {
		l = newLeaf("org create", "mailtrail org create --name N [--timezone ZONE]", "Creates an organization and its first API key (printed once).",
			func(fs *flag.FlagSet) {
				fs.StringVar(&name, "name", "", "organization name")
				fs.StringVar(&tz, "timezone", "UTC", "IANA time zone of the organization's reports")
			}, "data-dir")
	} else {
		l = newLeaf("org list", "mailtrail org list", "Lists the organizations.", func(*flag.FlagSet) {}, "data-dir")
	}
	if err := l.parse(args[1:], stdout); err != nil {
		return err
	}
	if err := noArgs(l); err != nil {
		return err
	}
	var zone string
	if verb == "create" {
		if name == "" {
			return errors.New("org create: --name is required")
		}
		if zone, err = httpd.ValidateTimezone(tz); err != nil {
			return fmt.Errorf("org create: %w", err)
		}
	}
	db, err := openOffline(ctx, l.cfg, "org "+verb)
	if err != nil {
		return err
	}
	defer db.Close()
	if verb == "list" {
		orgs, err := db.Orgs(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, orgs)
	}
	org, key, err := db.CreateOrg(ctx, name, zone)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"id": org.ID, "name": org.Name, "timezone": org.Timezone, "api_key": key})
}

func runKey(ctx context.Context, args []string, stdout io.Writer) error {
	verb, err := group("key", args, stdout, [2]string{"create", "create --org ORG_ID [--name N] [--scope all|read]"},
		[2]string{"list", "list --org ORG_ID"}, [2]string{"revoke", "revoke --org ORG_ID --key KEY_ID"})
	if err != nil {
		return err
	}
	var org, name, key, scope string
	orgFlag := func(fs *flag.FlagSet) { fs.StringVar(&org, "org", "", "organization id") }
	var l *leaf
	switch verb {
	case "create":
		l = newLeaf("key create", "mailtrail key create --org ORG_ID [--name N] [--scope all|read]", "Creates an API key (printed once).",
			func(fs *flag.FlagSet) {
				orgFlag(fs)
				fs.StringVar(&name, "name", "api", "key name")
				fs.StringVar(&scope, "scope", mailtrail.ScopeAll, "all, or read (reports, events, segments, journeys, checks; no changes)")
			}, "data-dir")
	case "list":
		l = newLeaf("key list", "mailtrail key list --org ORG_ID", "Lists an organization's API keys (never their secrets).", orgFlag, "data-dir")
	default:
		l = newLeaf("key revoke", "mailtrail key revoke --org ORG_ID --key KEY_ID", "Revokes an API key.",
			func(fs *flag.FlagSet) {
				orgFlag(fs)
				fs.StringVar(&key, "key", "", "key id")
			}, "data-dir")
	}
	if err := l.parse(args[1:], stdout); err != nil {
		return err
	}
	if err := noArgs(l); err != nil {
		return err
	}
	if verb == "revoke" && key == "" {
		return errors.New("key revoke: --key is required")
	}
	db, err := openOrgStore(ctx, l.cfg, "key "+verb, org)
	if err != nil {
		return err
	}
	defer db.Close()
	switch verb {
	case "create":
		k, secret, err := db.CreateAPIKey(ctx, org, name, scope)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"key": k, "api_key": secret})
	case "list":
		keys, err := db.APIKeys(ctx, org)
		if err != nil {
			return err
		}
		return printJSON(stdout, keys)
	}
	if err := db.RevokeAPIKey(ctx, org, key); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "revoked", key)
	return nil
}

// openOrgStore opens the store for a CLI verb that works on one organization, after
// checking that --org was given.
func openOrgStore(ctx context.Context, cfg *Config, verb, org string) (*ownedStore, error) {
	if org == "" {
		return nil, fmt.Errorf("%s: --org is required", verb)
	}
	return openOffline(ctx, cfg, verb)
}

// verbAPI is the API route that does what a CLI verb does, for a running server; readOnly
// verbs only read, so they could run beside the server if they did not open its store.
var verbAPI = map[string]struct {
	route    string
	readOnly bool
}{
	"org create":         {"POST /api/v1/admin/organizations (admin token)", false},
	"org list":           {"GET /api/v1/admin/organizations (admin token)", true},
	"key create":         {"POST /api/v1/admin/organizations/{org}/keys (admin token)", false},
	"key list":           {"GET /api/v1/admin/organizations/{org}/keys (admin token)", true},
	"key revoke":         {"DELETE /api/v1/admin/organizations/{org}/keys/{key} (admin token)", false},
	"connection create":  {"POST /api/v1/connections (API key)", false},
	"connection list":    {"GET /api/v1/connections (API key)", true},
	"suppression import": {"POST /api/v1/suppressions/import (API key)", false},
	"customer erase":     {"DELETE /api/v1/customers/{id} (API key)", false},
}

// apiHint is what the data directory's in-use error suggests for verb.
func apiHint(verb string) string {
	v, ok := verbAPI[verb]
	if !ok {
		return ""
	}
	if v.readOnly {
		return fmt.Sprintf("%s only reads, and the running server answers it: use its API, %s", verb, v.route)
	}
	return "use its API: " + v.route
}
