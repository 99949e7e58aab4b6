package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/httpd"
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
	var mb httpd.MailboxInput
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
		if err := httpd.CheckVendor(vendors(nil), vendor); err != nil {
			return err
		}
		// The API's check, with the fields spelled as flags.
		flagName := func(f esp.CredentialField) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }
		if in, err = httpd.CheckCredentials(vendor, in, strings.TrimSpace(mb.IMAPURL) != "", flagName); err != nil {
			return fmt.Errorf("connection create: %s", mailtrail.ErrorMessage(err))
		}
		secret, err := cfg.secret()
		if err != nil {
			return err
		}
		keys, err := cfg.keyring(secret)
		if err != nil {
			return err
		}
		c := &mailtrail.Connection{ID: httpd.NewConnectionID(), OrgID: org, Vendor: vendor, Name: name}
		if c.Sealed, err = httpd.SealCredentials(keys, c.ID, in); err != nil {
			return err
		}
		if err := mb.Apply(keys, c); err != nil {
			return err
		}
		if err := httpd.CheckIMAPHost(ctx, c.IMAPURL, egress.Policy{AllowPrivate: cfg.IMAPAllowPrivate}, nil); err != nil {
			return fmt.Errorf("connection create: %s", mailtrail.ErrorMessage(err))
		}
		if err := db.CreateConnection(ctx, c); err != nil {
			return err
		}
		c.WebhookURL = httpd.WebhookURL(cfg.PublicURL, c.Vendor, c.ID)
		return printJSON(stdout, c)
	case "list":
		list, err := db.Connections(ctx, org)
		if err != nil {
			return err
		}
		for i := range list {
			list[i].WebhookURL = httpd.WebhookURL(cfg.PublicURL, list[i].Vendor, list[i].ID)
		}
		return printJSON(stdout, list)
	}
	return nil
}

// dashConnections lets the dashboard create and rotate connections through the API's
// server (a.server is set before any request).
type dashConnections struct{ a *app }

func (d dashConnections) CreateConnection(ctx context.Context, orgID, vendor, name string, creds esp.Credentials) (*mailtrail.Connection, error) {
	return d.a.server.CreateConnection(ctx, orgID, vendor, name, creds, httpd.MailboxInput{})
}

func (d dashConnections) RotateConnection(ctx context.Context, orgID, id string, creds esp.Credentials, grace time.Duration) error {
	return d.a.server.RotateConnection(ctx, orgID, id, creds, grace)
}
