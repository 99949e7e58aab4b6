package esp

import (
	"encoding/base64"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// CredentialField is one field of Credentials, spelled as the API spells it.
type CredentialField string

// The fields of Credentials.
const (
	FieldSigningKey  CredentialField = "signing_key"
	FieldUsername    CredentialField = "username"
	FieldPassword    CredentialField = "password"
	FieldBearerToken CredentialField = "bearer_token"
	FieldTopicARN    CredentialField = "topic_arn"
)

// allFields are the fields of Credentials, in the order errors name them.
var allFields = []CredentialField{FieldSigningKey, FieldUsername, FieldPassword, FieldBearerToken, FieldTopicARN}

// credentialNeed is what one vendor's Verify needs of Credentials.
type credentialNeed struct {
	// anyOf are the sets of fields with which Verify can succeed: one set, every field of it.
	anyOf [][]CredentialField
	// basic: Verify checks a username and password whenever they are given (SES: optional
	// basic auth on top of the topic), so one without the other can never succeed.
	basic bool
	// forms are the fields Verify can only use in one form: a description of the form when
	// the value is not in it, "" when it is.
	forms map[CredentialField]func(string) string
	// hint says what the vendor calls the credential, for the error message.
	hint string
}

var (
	basicAuth   = []CredentialField{FieldUsername, FieldPassword}
	signingKey  = []CredentialField{FieldSigningKey}
	bearerToken = []CredentialField{FieldBearerToken}
)

// credentialNeeds is, per vendor, the credentials with which its Verify can succeed: the
// one table of it (the API, the CLI and docs/webhooks.md follow it; TestCredentialNeeds
// holds it against each Verify).
var credentialNeeds = map[string]credentialNeed{
	// ECDSA signature, and the bearer token when one is set; either alone is enough.
	"sendgrid": {anyOf: [][]CredentialField{signingKey, bearerToken},
		forms: map[CredentialField]func(string) string{FieldSigningKey: sendgridKeyForm},
		hint:  "signing_key is the Signed Event Webhook verification key"},
	// Basic auth, bearer token or the X-Mailtrail-Webhook-Secret header (the signing key).
	"sparkpost": {anyOf: [][]CredentialField{basicAuth, bearerToken, signingKey}, basic: true,
		hint: "signing_key is sent as header " + HeaderWebhookSecret},
	"smtpcom": {anyOf: [][]CredentialField{signingKey, basicAuth, bearerToken}, basic: true,
		hint: "signing_key is sent as header " + HeaderWebhookSecret},
	"postmark": {anyOf: [][]CredentialField{basicAuth, bearerToken, signingKey}, basic: true,
		hint: "signing_key is sent as header " + HeaderWebhookSecret},
	// Basic auth or bearer token only: the signing key is not used.
	"ocimail": {anyOf: [][]CredentialField{basicAuth, bearerToken}, basic: true},
	"smtp":    {anyOf: [][]CredentialField{basicAuth, bearerToken}, basic: true},
	// HMAC keys.
	"mailgun": {anyOf: [][]CredentialField{signingKey}, hint: "signing_key is the HTTP webhook signing key"},
	"generic": {anyOf: [][]CredentialField{signingKey}},
	"resend": {anyOf: [][]CredentialField{signingKey},
		forms: map[CredentialField]func(string) string{FieldSigningKey: resendKeyForm},
		hint:  "signing_key is the endpoint's whsec_ signing secret"},
	// The topic is always checked; basic auth too when a username is given.
	"ses": {anyOf: [][]CredentialField{{FieldTopicARN}}, basic: true,
		forms: map[CredentialField]func(string) string{FieldTopicARN: snsTopicForm},
		hint:  "topic_arn is the SNS topic of the SES event destination"},
}

// CheckCredentials returns nil when c holds credentials with which the Verify of vendor
// can succeed. Otherwise it returns an EINVALID *mailtrail.Error naming, as name spells
// them (nil: the API's field names), the fields that are missing or not in the form the
// vendor needs; it never quotes a value. A vendor without an entry in the table is refused.
func CheckCredentials(vendor string, c Credentials, name func(CredentialField) string) error {
	if name == nil {
		name = func(f CredentialField) string { return string(f) }
	}
	need, ok := credentialNeeds[vendor]
	if !ok {
		return mailtrail.Errorf(mailtrail.EINVALID, "vendor %q has no credential rules", vendor)
	}
	for _, f := range allFields {
		form := need.forms[f]
		if v := c.field(f); v != "" && form != nil {
			if want := form(v); want != "" {
				return mailtrail.Errorf(mailtrail.EINVALID, "%s connection: %s is not %s", vendor, name(f), want)
			}
		}
	}
	if need.basic && (c.Username == "") != (c.Password == "") {
		return mailtrail.Errorf(mailtrail.EINVALID, "%s connection: %s and %s go together (basic auth needs both)",
			vendor, name(FieldUsername), name(FieldPassword))
	}
	for _, set := range need.anyOf {
		if c.has(set) {
			return nil
		}
	}
	sets := make([]string, len(need.anyOf))
	for i, set := range need.anyOf {
		names := make([]string, len(set))
		for j, f := range set {
			names[j] = name(f)
		}
		sets[i] = strings.Join(names, " and ")
	}
	msg := vendor + " connection needs " + orList(sets)
	if hint := need.hint; hint != "" {
		for _, f := range allFields {
			hint = strings.ReplaceAll(hint, string(f), name(f))
		}
		msg += " (" + hint + ")"
	}
	return mailtrail.Errorf(mailtrail.EINVALID, "%s; see docs/webhooks.md", msg)
}

// field returns the value of the field f of c.
func (c Credentials) field(f CredentialField) string {
	switch f {
	case FieldSigningKey:
		return c.SigningKey
	case FieldUsername:
		return c.Username
	case FieldPassword:
		return c.Password
	case FieldBearerToken:
		return c.BearerToken
	case FieldTopicARN:
		return c.TopicARN
	}
	return ""
}

// has reports whether every field of set is given in c.
func (c Credentials) has(set []CredentialField) bool {
	for _, f := range set {
		if c.field(f) == "" {
			return false
		}
	}
	return true
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func sendgridKeyForm(k string) string {
	if _, ok := sendgridPublicKey(k); !ok {
		return "a P-256 public key in base64 (SendGrid's verification key)"
	}
	return ""
}

func resendKeyForm(k string) string {
	if _, ok := resendKey(k); !ok {
		return "a whsec_ secret (whsec_ followed by base64)"
	}
	return ""
}

// snsTopicForm accepts a topic ARN, arn:PARTITION:sns:REGION:ACCOUNT:TOPIC, which is what
// SNS puts in TopicArn; a subscription ARN (one more part) never matches it.
func snsTopicForm(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] != "sns" || p[3] == "" || p[4] == "" || p[5] == "" {
		return "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"
	}
	return ""
}

// resendKey decodes a Resend signing secret, "whsec_<base64>"; false when it is not one.
func resendKey(s string) ([]byte, bool) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	return key, err == nil && len(key) > 0
}

// CredentialNeeds returns the sets of fields with which the webhooks of a connection of
// vendor can be verified (every field of one set is enough) and what the vendor calls
// them (may be empty), from the table CheckCredentials follows; ok is false for a vendor
// without credential rules.
func CredentialNeeds(vendor string) (anyOf [][]CredentialField, hint string, ok bool) {
	need, ok := credentialNeeds[vendor]
	if !ok {
		return nil, "", false
	}
	for _, set := range need.anyOf {
		anyOf = append(anyOf, append([]CredentialField(nil), set...))
	}
	return anyOf, need.hint, true
}
