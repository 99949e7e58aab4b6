package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/mailbox"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// mailboxDrain bounds how long shutdown waits for a bounce-mailbox batch in progress
// (its commit, then the move); past it the batch is cancelled and read again next start.
const mailboxDrain = 10 * time.Second

// mailboxStore is what the bounce-mailbox source reads from the store.
type mailboxStore interface {
	MailboxConnections(ctx context.Context) ([]mailtrail.Connection, error)
}

// mailboxSource lists the connections that name a bounce mailbox, logins unsealed.
type mailboxSource struct {
	db   mailboxStore
	keys secrets.Keyring // the service secret's sealing keys, retired ones included
	log  *slog.Logger
}

var _ mailbox.Source = mailboxSource{}

// Accounts implements mailbox.Source. A connection whose login cannot be opened (sealed
// under a secret that is neither the current one nor listed in --old-secret-keys) is
// skipped and logged.
func (s mailboxSource) Accounts(ctx context.Context) ([]mailbox.Account, error) {
	conns, err := s.db.MailboxConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]mailbox.Account, 0, len(conns))
	for _, c := range conns {
		login, err := connection.OpenMailboxLogin(s.keys, c.ID, c.SealedIMAP)
		if err != nil {
			s.log.WarnContext(ctx, "bounce mailbox: login cannot be opened; connection skipped", "connection", c.ID, "err", err.Error())
			continue
		}
		out = append(out, mailbox.Account{ConnID: c.ID, OrgID: c.OrgID, Vendor: c.Vendor, URL: c.IMAPURL,
			Username: login.Username, Password: login.Password, Interval: time.Duration(c.IMAPPollSeconds) * time.Second, Delete: c.IMAPDelete})
	}
	return out, nil
}

// mailboxMetrics counts the bounce-mailbox messages by vendor and outcome, and report
// kinds recognised but not recorded.
func mailboxMetrics(reg *metrics.Registry) (onMessage func(vendor, outcome string), onIgnored func(vendor string, kinds map[string]int)) {
	msgs := reg.NewCounter("mailtrail_mailbox_messages_total", "Bounce-mailbox messages handled, by vendor and outcome (processed: committed then moved or deleted; invalid: left unread for review).", "vendor", "outcome")
	ignored := reg.NewCounter("mailtrail_mailbox_ignored_total", "Bounce-mailbox report kinds recognised but not recorded (auto-replies, delays, …).", "vendor", "kind")
	return func(vendor, outcome string) { msgs.Inc(vendor, outcome) },
		func(vendor string, kinds map[string]int) {
			for k, n := range kinds {
				ignored.Add(int64(n), vendor, k)
			}
		}
}
