package esp

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Every SNS delivery attempt carries the original signed Timestamp (the publish time). A
// ±5 minute window would reject the retries of a message we failed to take the first
// time, losing it; so a Notification may be up to SNSHorizon old (its MessageId, inside
// the signature, is the dedupe key: a replay stores nothing). Subscription confirmations,
// which make us fetch a URL, keep an hour (SNS's retry cap). The future side keeps the
// usual clock-skew allowance.
const (
	sesMaxAge     = SNSHorizon
	sesConfirmAge = time.Hour
	sesMaxFuture  = Window
	sesCertCache  = 16 // signing certificates kept; SNS uses a handful per region
)

// SES is the "ses" vendor: Amazon SES notifications and event publishing delivered by an
// SNS HTTP/S subscription. Credentials: TopicARN (required, the only topic accepted) and
// optionally Username/Password, which SNS sends as basic auth when the subscription URL
// carries them.
type SES struct {
	fetch Fetcher

	mu    sync.Mutex
	certs map[string]*x509.Certificate
	order []string // cache keys, oldest first
}

// NewSES returns the ses vendor; f fetches SNS signing certificates.
func NewSES(f Fetcher) Vendor {
	return &SES{fetch: f, certs: map[string]*x509.Certificate{}}
}

// Name implements Vendor.
func (*SES) Name() string { return "ses" }

// MaxBody implements Vendor: SNS messages are at most 256 KiB.
func (*SES) MaxBody() int64 { return 256 << 10 }

// snsEnvelope is the JSON body SNS posts.
type snsEnvelope struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
	SubscribeURL     string  `json:"SubscribeURL"`
}

// Verify implements Vendor. It checks, cheapest first and without any outbound request
// until all else passed: basic auth when configured, the pinned TopicArn, the message
// type and signature version, the Timestamp window, the x-amz-sns-* headers against the
// body, the SigningCertURL (and a confirmation's SubscribeURL) host; then the RSA
// signature with the certificate fetched from SigningCertURL (cached). A failed fetch is
// EUNAVAILABLE so that SNS retries.
func (s *SES) Verify(ctx context.Context, r *Request, c Credentials) error {
	var env snsEnvelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return errUnauthorized()
	}
	if sesWantsBasic(c) && !checkBasicOrBearer(r.Header.Get("Authorization"), c) {
		return errUnauthorized()
	}
	if !eachCredential(c, func(c Credentials) bool { return c.TopicARN != "" && equal(env.TopicArn, c.TopicARN) }) {
		return errUnauthorized()
	}
	maxAge := sesMaxAge
	if env.Type != "Notification" {
		maxAge = sesConfirmAge
	}
	if !sesHeadersMatch(r, &env) || !sesFresh(env.Timestamp, r.Now, maxAge) || !sesCertURLOK(env.SigningCertURL) {
		return errUnauthorized()
	}
	switch env.Type {
	case "Notification":
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		if !sesSubscribeURLOK(env.SubscribeURL) {
			return errUnauthorized()
		}
	default:
		return errUnauthorized()
	}
	var hash crypto.Hash
	switch env.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return errUnauthorized()
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signature)
	if err != nil || len(sig) == 0 {
		return errUnauthorized()
	}
	cert, err := s.cert(ctx, env.SigningCertURL)
	if err != nil {
		return err
	}
	if r.Now.Before(cert.NotBefore) || r.Now.After(cert.NotAfter) {
		return errUnauthorized()
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errUnauthorized()
	}
	if rsa.VerifyPKCS1v15(pub, hash, sesDigest(hash, sesCanonical(&env)), sig) != nil {
		return errUnauthorized()
	}
	return nil
}

// sesWantsBasic reports whether basic auth is configured (now or for the rotated-out
// credentials).
func sesWantsBasic(c Credentials) bool {
	return c.Username != "" || (c.Previous != nil && c.Previous.Username != "")
}

// sesHeadersMatch checks the x-amz-sns-* headers, when present, against the signed body.
func sesHeadersMatch(r *Request, env *snsEnvelope) bool {
	for h, v := range map[string]string{
		"X-Amz-Sns-Message-Type": env.Type,
		"X-Amz-Sns-Message-Id":   env.MessageID,
		"X-Amz-Sns-Topic-Arn":    env.TopicArn,
	} {
		if got := r.Header.Get(h); got != "" && got != v {
			return false
		}
	}
	return true
}

// sesFresh reports whether the signed Timestamp is at most maxAge old and at most
// sesMaxFuture ahead of now.
func sesFresh(ts string, now time.Time, maxAge time.Duration) bool {
	t, ok := parseTimeB(ts)
	if !ok {
		return false
	}
	d := now.Sub(t)
	return d <= maxAge && d >= -sesMaxFuture
}

// sesHostOK reports whether host is exactly sns.<region>.amazonaws.com(.cn).
func sesHostOK(host string) bool {
	rest, ok := strings.CutPrefix(host, "sns.")
	if !ok {
		return false
	}
	region, ok := strings.CutSuffix(rest, ".amazonaws.com")
	if !ok {
		region, ok = strings.CutSuffix(rest, ".amazonaws.com.cn")
	}
	return ok && region != "" && !strings.Contains(region, ".") && dnsLabelsB(region)
}

// sesCertURLOK reports whether u may be fetched as an SNS signing certificate: an SNS
// host and a path ending in .pem, with no fragment.
func sesCertURLOK(u string) bool {
	if !safeURLB(u, sesHostOK) {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && strings.HasSuffix(p.Path, ".pem") && p.Fragment == "" && !strings.Contains(u, "#")
}

// sesSubscribeURLOK reports whether u is a confirmation URL on an SNS host.
func sesSubscribeURLOK(u string) bool { return safeURLB(u, sesHostOK) }

// sesCanonical builds the string SNS signs: "Name\nValue\n" for each field, in the order
// the message type defines; Subject only when the notification has one.
func sesCanonical(env *snsEnvelope) []byte {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	add("Message", env.Message)
	add("MessageId", env.MessageID)
	if env.Type == "Notification" {
		if env.Subject != nil {
			add("Subject", *env.Subject)
		}
	} else {
		add("SubscribeURL", env.SubscribeURL)
	}
	add("Timestamp", env.Timestamp)
	if env.Type != "Notification" {
		add("Token", env.Token)
	}
	add("TopicArn", env.TopicArn)
	add("Type", env.Type)
	return []byte(b.String())
}

func sesDigest(h crypto.Hash, msg []byte) []byte {
	if h == crypto.SHA1 {
		d := sha1.Sum(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

// cert returns the certificate at u, from the cache or fetched. Only URLs that passed
// sesCertURLOK reach it.
func (s *SES) cert(ctx context.Context, u string) (*x509.Certificate, error) {
	s.mu.Lock()
	c, ok := s.certs[u]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	b, err := s.fetch.Get(ctx, u)
	if err != nil {
		return nil, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "SNS signing certificate unavailable; retry later")
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errUnauthorized()
	}
	c, err = x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, errUnauthorized()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.certs[u]; !ok {
		if len(s.order) >= sesCertCache {
			delete(s.certs, s.order[0])
			s.order = s.order[1:]
		}
		s.order = append(s.order, u)
	}
	s.certs[u] = c
	return c, nil
}

// Parse implements Vendor. A SubscriptionConfirmation gives ConfirmURL (re-checked to be
// on an SNS host); an UnsubscribeConfirmation is ignored; a Notification's Message is
// mapped by sesEvents.
func (s *SES) Parse(_ context.Context, r *Request) (*Result, error) {
	var env snsEnvelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return nil, errMalformed("ses")
	}
	res := &Result{Ignored: map[string]int{}}
	switch env.Type {
	case "SubscriptionConfirmation":
		if !sesSubscribeURLOK(env.SubscribeURL) {
			return nil, errUnauthorized()
		}
		res.ConfirmURL = env.SubscribeURL
	case "UnsubscribeConfirmation":
		res.Ignored["UnsubscribeConfirmation"]++
	case "Notification":
		if err := sesEvents(&env, r.Now, res); err != nil {
			return nil, err
		}
	default:
		return nil, errMalformed("ses")
	}
	return res, nil
}
