package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// Bounds of a bounce mailbox's poll interval; 0 takes DefaultMailboxPoll.
const (
	DefaultMailboxPoll = time.Minute
	minMailboxPoll     = 10 * time.Second
	maxMailboxPoll     = 24 * time.Hour
)

// MailboxInput are the optional bounce-mailbox fields of a connection (vendors smtp and
// ocimail): the IMAP URL, its login, the poll interval and what to do with processed
// messages.
type MailboxInput struct {
	IMAPURL         string `json:"imap_url"`
	IMAPUsername    string `json:"imap_username"`
	IMAPPassword    string `json:"imap_password"`
	IMAPPollSeconds int64  `json:"imap_poll_seconds"`
	IMAPDelete      bool   `json:"imap_delete"`
}

// MailboxLogin is a bounce mailbox's IMAP login, as sealed.
type MailboxLogin struct {
	Username string `json:"u"`
	Password string `json:"p"`
}

// mailboxSealContext binds a sealed login to its connection, apart from the webhook
// credentials of the same connection.
func mailboxSealContext(connID string) []byte {
	return []byte("mailtrail connection imap v1\x00" + connID)
}

// Apply validates in and, when it names a mailbox, sets c's mailbox fields with the login
// sealed under the keyring's current key (c.ID and c.Vendor must be set). Nothing set is no mailbox. It returns
// an EINVALID error naming the field that is wrong.
func (in *MailboxInput) Apply(keys secrets.Keyring, c *mailtrail.Connection) error {
	in.IMAPURL = strings.TrimSpace(in.IMAPURL)
	if in.IMAPURL == "" {
		if in.IMAPUsername != "" || in.IMAPPassword != "" || in.IMAPPollSeconds != 0 || in.IMAPDelete {
			return mailtrail.Errorf(mailtrail.EINVALID, "imap_url is required with the other imap_ fields")
		}
		return nil
	}
	if !esp.HasMailbox(c.Vendor) {
		return mailtrail.Errorf(mailtrail.EINVALID, "a bounce mailbox (imap_url) is for vendors %s", esp.MailboxVendors())
	}
	if err := CheckIMAPURL(in.IMAPURL); err != nil {
		return err
	}
	if in.IMAPUsername == "" || in.IMAPPassword == "" || len(in.IMAPUsername) > 1024 || len(in.IMAPPassword) > 8<<10 {
		return mailtrail.Errorf(mailtrail.EINVALID, "imap_username and imap_password are required with imap_url")
	}
	poll := time.Duration(in.IMAPPollSeconds) * time.Second
	if in.IMAPPollSeconds == 0 {
		poll = DefaultMailboxPoll
	}
	if in.IMAPPollSeconds < 0 || poll < minMailboxPoll || poll > maxMailboxPoll {
		return mailtrail.Errorf(mailtrail.EINVALID, "imap_poll_seconds must be %d to %d", int64(minMailboxPoll/time.Second), int64(maxMailboxPoll/time.Second))
	}
	pt, err := json.Marshal(MailboxLogin{Username: in.IMAPUsername, Password: in.IMAPPassword})
	if err != nil {
		return err
	}
	sealed, err := keys.Seal(pt, mailboxSealContext(c.ID))
	if err != nil {
		return err
	}
	c.IMAPURL, c.IMAPPollSeconds, c.IMAPDelete, c.SealedIMAP = in.IMAPURL, int64(poll/time.Second), in.IMAPDelete, sealed
	return nil
}

// OpenMailboxLogin opens the login that Apply sealed under any key of the keyring;
// secrets.ErrOpen when no key opens it or the connection does not match.
func OpenMailboxLogin(keys secrets.Keyring, connID string, sealed []byte) (MailboxLogin, error) {
	var l MailboxLogin
	pt, err := keys.Open(sealed, mailboxSealContext(connID))
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(pt, &l); err != nil {
		return l, fmt.Errorf("connection: sealed mailbox login: %w", err)
	}
	return l, nil
}

// CheckIMAPHost returns an EINVALID error when the host of imap_url u (already checked by
// CheckIMAPURL; "" is no mailbox) is an address policy p refuses (the cloud metadata
// service, the local network, loopback, unless the operator allows them), localhost, or,
// with a resolver r, a name that resolves to such an address. Without r names are not
// looked up: the poller's dialer checks every address it dials anyway.
func CheckIMAPHost(ctx context.Context, u string, p egress.Policy, r egress.Resolver) error {
	if u == "" {
		return nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return mailtrail.Errorf(mailtrail.EINVALID, "imap_url must be imaps://host:port/MAILBOX (or imap://), without credentials")
	}
	// A name that does not resolve yet is accepted: the poller's dialer checks every
	// address at every connection, and a mailbox may be configured before its DNS.
	if r == nil {
		r = noLookup{}
	}
	switch err := p.CheckHost(ctx, pu.Hostname(), r); {
	case errors.Is(err, egress.ErrUnresolved):
	case err != nil:
		return mailtrail.Errorf(mailtrail.EINVALID, "imap_url targets a private, loopback, link-local or reserved address (allowed only with --imap-allow-private)")
	}
	return nil
}

// noLookup resolves nothing: CheckHost then judges literals and localhost only.
type noLookup struct{}

func (noLookup) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, nil
}

// CheckIMAPURL returns an EINVALID error unless u is imaps://host[:port][/MAILBOX] or
// imap://… with a host and without credentials, query or fragment.
func CheckIMAPURL(u string) error {
	p, err := url.Parse(u)
	bad := err != nil || (p.Scheme != "imap" && p.Scheme != "imaps") || p.Hostname() == "" || p.User != nil ||
		p.RawQuery != "" || p.Fragment != "" || len(u) > 2048
	if bad {
		return mailtrail.Errorf(mailtrail.EINVALID, "imap_url must be imaps://host:port/MAILBOX (or imap://), without credentials")
	}
	return nil
}
