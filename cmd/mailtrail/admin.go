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
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
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
	db, err := openStore(ctx, cfg)
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
	db, err := openOrgStore(ctx, cfg, "key", org)
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
func openOrgStore(ctx context.Context, cfg *Config, verb, org string) (*sqlite.DB, error) {
	if org == "" {
		return nil, fmt.Errorf("%s: --org is required", verb)
	}
	return openStore(ctx, cfg)
}
