package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// runConnection is `mailtrail connection create|list`: ESP connections of an
// organization, their credentials sealed with the key derived from the current service
// secret.
func runConnection(ctx context.Context, args []string, stdout io.Writer) error {
	verb, err := group("connection", args, stdout,
		[2]string{"create", "create --org ORG_ID --vendor V --name N [--signing-key K | --username U --password P | --bearer-token T | --topic-arn ARN] [--imap-url URL …]"},
		[2]string{"list", "list --org ORG_ID"})
	if err != nil {
		return err
	}
	var org, vendor, name string
	var in esp.Credentials
	var mb connection.MailboxInput
	orgFlag := func(fs *flag.FlagSet) { fs.StringVar(&org, "org", "", "organization id") }
	var l *leaf
	if verb == "create" {
		l = newLeaf("connection create", "mailtrail connection create --org ORG_ID --vendor V --name N [credential flags]",
			"Creates an ESP connection, its credentials sealed under the service secret, and prints its webhook URL.",
			func(fs *flag.FlagSet) {
				orgFlag(fs)
				fs.StringVar(&vendor, "vendor", "", esp.NamesList())
				fs.StringVar(&name, "name", "", "connection name")
				fs.StringVar(&in.SigningKey, "signing-key", "", "signing key / verification key / whsec_ secret")
				fs.StringVar(&in.Username, "username", "", "basic-auth user")
				fs.StringVar(&in.Password, "password", "", "basic-auth password")
				fs.StringVar(&in.BearerToken, "bearer-token", "", "bearer token")
				fs.StringVar(&in.TopicARN, "topic-arn", "", esp.VendorsNeeding(esp.FieldTopicARN)+": the SNS topic ARN accepted")
				fs.StringVar(&mb.IMAPURL, "imap-url", "", esp.MailboxVendors()+": bounce mailbox imaps://host:port/INBOX")
				fs.StringVar(&mb.IMAPUsername, "imap-username", "", "bounce mailbox login")
				fs.StringVar(&mb.IMAPPassword, "imap-password", "", "bounce mailbox password")
				fs.Int64Var(&mb.IMAPPollSeconds, "imap-poll-seconds", 0, "bounce mailbox poll interval, 10 to 86400 (default 60)")
				fs.BoolVar(&mb.IMAPDelete, "imap-delete", false, "delete processed bounce mail instead of moving it to Processed")
			}, "data-dir", "public-url", "secret-key", "secret-key-id", "old-secret-keys")
	} else {
		l = newLeaf("connection list", "mailtrail connection list --org ORG_ID", "Lists an organization's ESP connections (never their credentials).",
			orgFlag, "data-dir", "public-url")
	}
	if err := l.parse(args[1:], stdout); err != nil {
		return err
	}
	if err := noArgs(l); err != nil {
		return err
	}
	cfg := l.cfg
	db, err := openOrgStore(ctx, cfg, "connection "+verb, org)
	if err != nil {
		return err
	}
	defer db.Close()
	switch verb {
	case "create":
		if name == "" {
			return errors.New("connection create: --name is required")
		}
		if err := connection.CheckVendor(vendors(nil), vendor); err != nil {
			return err
		}
		secret, err := cfg.secret()
		if err != nil {
			return err
		}
		keys, err := cfg.keyring(secret)
		if err != nil {
			return err
		}
		// The API's rules, with the credential fields spelled as flags.
		flagName := func(f esp.CredentialField) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }
		c, err := newConnections(db, keys, cfg).Create(ctx, org, connection.Input{Vendor: vendor, Name: name, Credentials: in, Mailbox: mb, FieldName: flagName})
		if mailtrail.ErrorCode(err) == mailtrail.EINVALID {
			return fmt.Errorf("connection create: %s", mailtrail.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, c)
	case "list":
		list, err := newConnections(db, secrets.Keyring{}, cfg).List(ctx, org)
		if err != nil {
			return err
		}
		return printJSON(stdout, list)
	}
	return nil
}

// newConnections is the connections use case over db, as the API and the dashboard of a
// process with cfg use it.
func newConnections(db connection.Store, keys secrets.Keyring, cfg *Config) *connection.Service {
	return connection.New(db, connection.Options{Keys: keys, Vendors: vendors(nil), PublicURL: cfg.PublicURL,
		IMAPEgress: egress.Policy{AllowPrivate: cfg.IMAPAllowPrivate}})
}
