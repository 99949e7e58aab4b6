package esp

import (
	"slices"
	"strings"
	"time"
)

// What the rest of the service needs to know about particular vendors lives here, so
// that no package outside esp names one (a root test, TestVendorNamesOnlyInESP, holds
// that): the list of vendors, their setup steps, which ones read a bounce mailbox, which
// take optional basic auth, and which sign a replayable token.

// vendorOrder is every vendor a connection may name, in the order the API, the CLI and
// the dashboard offer them.
var vendorOrder = []string{"sendgrid", "sparkpost", "smtpcom", "ocimail", "mailgun", "ses", "postmark", "resend", "generic", "smtp"}

// Names returns the vendors a connection may name, in the order they are offered.
func Names() []string { return slices.Clone(vendorOrder) }

// NamesList spells Names for messages and help text: "a, b, … or z".
func NamesList() string { return orList(vendorOrder) }

// mailboxVendors are the vendors whose connections may name a bounce mailbox (IMAP).
var mailboxVendors = []string{"smtp", "ocimail"}

// HasMailbox reports whether a connection of vendor may name a bounce mailbox.
func HasMailbox(vendor string) bool { return slices.Contains(mailboxVendors, vendor) }

// MailboxVendors spells the vendors with a bounce mailbox for messages: "a and b".
func MailboxVendors() string {
	return strings.Join(mailboxVendors[:len(mailboxVendors)-1], ", ") + " and " + mailboxVendors[len(mailboxVendors)-1]
}

// OptionalBasicAuth reports whether vendor's Verify checks a username and password when
// they are given although no set of required credentials includes them (basic auth on
// top of another credential).
func OptionalBasicAuth(vendor string) bool {
	need, ok := credentialNeeds[vendor]
	if !ok || !need.basic {
		return false
	}
	for _, set := range need.anyOf {
		if slices.Contains(set, FieldUsername) {
			return false
		}
	}
	return true
}

// VendorsNeeding spells, for help text, the vendors one of whose sets of credentials
// includes f, in the order of Names: "a, b or c".
func VendorsNeeding(f CredentialField) string {
	var out []string
	for _, v := range vendorOrder {
		for _, set := range credentialNeeds[v].anyOf {
			if slices.Contains(set, f) {
				out = append(out, v)
				break
			}
		}
	}
	return orList(out)
}

// SetupSteps returns the short setup steps of vendor's webhooks (nil for an unknown one).
func SetupSteps(vendor string) []string { return slices.Clone(setupSteps[vendor]) }

// ReplayToken returns the token a vendor that signs a token rather than the event
// (Mailgun) put in a webhook body, "" for other vendors or when there is none. A token
// seen within ReplayHorizon + Window of its first arrival is a replay.
func ReplayToken(vendor string, body []byte) string {
	if vendor != "mailgun" {
		return ""
	}
	return MailgunToken(body)
}

// ReplayHorizon is how old the signed timestamp of a token-signing vendor's request may
// be (see ReplayToken).
const ReplayHorizon time.Duration = MailgunHorizon

// setupSteps are short setup steps per vendor, shown by the dashboard (docs/webhooks.md
// has the full table).
var setupSteps = map[string][]string{
	"sendgrid": {"Mail Settings → Event Webhook: paste the webhook URL.", "Turn on “Signed Event Webhook”; the verification key is this connection's signing key.",
		"Send custom_args mt_message_id (from POST /api/v1/messages)."},
	"sparkpost": {"Create a webhook with the URL and the auth this connection was given (basic, OAuth 2 or header X-Mailtrail-Webhook-Secret).",
		"rcpt_meta carries the custom args."},
	"smtpcom": {"Set the callback URL to the webhook URL.", "Add the header X-Mailtrail-Webhook-Secret (or basic/bearer auth) as given to this connection."},
	"mailgun": {"Webhooks (JSON): paste the URL for delivered, failed, complained, unsubscribed.",
		"The HTTP webhook signing key is this connection's signing key.", "v: user-variables carry the custom args."},
	"ses": {"SES configuration set → event destination SNS.", "Subscribe the webhook URL to the topic over HTTPS (confirmed automatically).",
		"Tag messages with mt_message_id."},
	"postmark": {"Webhooks for Delivery, Bounce, SpamComplaint, SubscriptionChange.", "Put the username and password in the URL, or use the bearer token or secret header.",
		"Metadata.mt_message_id carries the message id."},
	"resend":  {"Add a webhook for email.* events with the URL.", "The whsec_… signing secret is this connection's signing key.", "Tag mt_message_id."},
	"ocimail": {"Email Delivery logs → Connector Hub → Notifications topic.", "HTTPS subscription to the URL with basic auth (confirmed automatically).", "Optionally, a bounce mailbox."},
	"generic": {"Sign each request with HMAC-SHA256 using the signing key, as in internal/esp/GENERIC.md."},
	"smtp":    {"Pipe bounce mail to the URL: curl -u user:pass --data-binary @- URL.", "Or give the connection a bounce mailbox over IMAP."},
}
