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

// adminFlags parses the config flags plus the verb's own; it returns the opened store's
// config.
func adminFlags(name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &Config{}
	cfg.bind(fs)
	extra(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return cfg, nil
}

func runOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("org: want create or list")
	}
	var name, tz string
	cfg, err := adminFlags("org "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "organization name (create)")
		fs.StringVar(&tz, "timezone", "UTC", "IANA time zone of the organization's reports (create)")
	})
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, apiHint("org "+args[0]))
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "create":
		if name == "" {
			return errors.New("org create: --name is required")
		}
		zone, err := httpd.ValidateTimezone(tz)
		if err != nil {
			return err
		}
		org, key, err := db.CreateOrg(ctx, name, zone)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"id": org.ID, "name": org.Name, "timezone": org.Timezone, "api_key": key})
	case "list":
		orgs, err := db.Orgs(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, orgs)
	}
	return fmt.Errorf("org: unknown verb %q (want create or list)", args[0])
}

func runKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("key: want create, list or revoke")
	}
	var org, name, key, scope string
	cfg, err := adminFlags("key "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&org, "org", "", "organization id")
		fs.StringVar(&name, "name", "api", "key name (create)")
		fs.StringVar(&key, "key", "", "key id (revoke)")
		fs.StringVar(&scope, "scope", mailtrail.ScopeAll, "create: all, or read (reports, events, segments, journeys, checks; no changes)")
	})
	if err != nil {
		return err
	}
	db, err := openOrgStore(ctx, cfg, "key "+args[0], org)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
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
	case "revoke":
		if key == "" {
			return errors.New("key revoke: --key is required")
		}
		if err := db.RevokeAPIKey(ctx, org, key); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", key)
		return nil
	}
	return fmt.Errorf("key: unknown verb %q (want create, list or revoke)", args[0])
}

// openOrgStore opens the store for a CLI verb that works on one organization, after
// checking that --org was given.
func openOrgStore(ctx context.Context, cfg *Config, verb, org string) (*ownedStore, error) {
	if org == "" {
		return nil, fmt.Errorf("%s: --org is required", verb)
	}
	return openStore(ctx, cfg, apiHint(verb))
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
