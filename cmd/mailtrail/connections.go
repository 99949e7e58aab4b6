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
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/httpd"
)

// runConnection is `mailtrail connection create|list`: ESP connections of an
// organization, their credentials sealed with the key derived from the current service
// secret.
func runConnection(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("connection: want create or list")
	}
	var org, vendor, name string
	var in esp.Credentials
	var mb httpd.MailboxInput
	cfg, err := adminFlags("connection "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&org, "org", "", "organization id")
		fs.StringVar(&vendor, "vendor", "", "sendgrid, sparkpost, smtpcom, ocimail, mailgun, ses, postmark, resend, generic or smtp (create)")
		fs.StringVar(&name, "name", "", "connection name (create)")
		fs.StringVar(&in.SigningKey, "signing-key", "", "signing key / verification key / whsec_ secret (create)")
		fs.StringVar(&in.Username, "username", "", "basic-auth user (create)")
		fs.StringVar(&in.Password, "password", "", "basic-auth password (create)")
		fs.StringVar(&in.BearerToken, "bearer-token", "", "bearer token (create)")
		fs.StringVar(&in.TopicARN, "topic-arn", "", "SES: the SNS topic ARN accepted (create)")
		fs.StringVar(&mb.IMAPURL, "imap-url", "", "smtp/ocimail: bounce mailbox imaps://host:port/INBOX (create)")
		fs.StringVar(&mb.IMAPUsername, "imap-username", "", "bounce mailbox login (create)")
		fs.StringVar(&mb.IMAPPassword, "imap-password", "", "bounce mailbox password (create)")
		fs.Int64Var(&mb.IMAPPollSeconds, "imap-poll-seconds", 0, "bounce mailbox poll interval, 10 to 86400 (create; default 60)")
		fs.BoolVar(&mb.IMAPDelete, "imap-delete", false, "delete processed bounce mail instead of moving it to Processed (create)")
	})
	if err != nil {
		return err
	}
	db, err := openOrgStore(ctx, cfg, "connection", org)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
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
	return fmt.Errorf("connection: unknown verb %q (want create or list)", args[0])
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
