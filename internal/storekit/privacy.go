package storekit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// What an erasure does to rows is the same in every store (docs/privacy.md): the
// customer gets a new id, the addresses leave every row, the metadata that describes the
// person goes, and suppressions stay under the address's hash.

// ErasedCustomerPrefix starts the id an erased customer gets in place of the CRM's.
const ErasedCustomerPrefix = "erased:"

// NewErasedID returns a new id for an erased customer: ErasedCustomerPrefix and 16
// random hex characters.
func NewErasedID() string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return ErasedCustomerPrefix + hex.EncodeToString(rnd[:])
}

// ErasedMetaKeys are the metadata keys of an event that describe the person or their
// device: removed when the customer is erased. What is kept (link, client and device
// family, country, bounce type and code, vendor ids) describes the email, not the person.
// The city stays: the scrubbed events no longer name the person (address gone, customer
// id replaced), and the click rules need it to move a relabelled click between the human
// and the non-human breakdown counters.
var ErasedMetaKeys = []string{"ip", "user_agent", "raw", "extra"}

// ErasedAddresses returns the distinct normalized addresses of addrs (empty ones left
// out), sorted, and a function that cuts any of them, in any case, out of a text.
func ErasedAddresses(addrs []string) ([]string, func(string) string) {
	var norm, pats []string
	for _, a := range addrs {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		norm = append(norm, mailtrail.NormalizeEmail(a))
		pats = append(pats, regexp.QuoteMeta(a))
	}
	slices.Sort(norm)
	norm = slices.Compact(norm)
	if len(pats) == 0 {
		return nil, func(s string) string { return s }
	}
	slices.Sort(pats)
	re := regexp.MustCompile(`(?i)` + strings.Join(slices.Compact(pats), "|"))
	return norm, func(s string) string { return re.ReplaceAllLiteralString(s, "[erased]") }
}

// ScrubMeta removes the personal keys (ErasedMetaKeys) of an event's stored metadata (a
// JSON object) and cuts the addresses out of its reason text with scrub; nil when
// nothing is left, else the new JSON as a string.
func ScrubMeta(meta string, scrub func(string) string) (any, error) {
	if meta == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return nil, err
	}
	for _, k := range ErasedMetaKeys {
		delete(m, k)
	}
	if raw, ok := m["reason"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			m["reason"], _ = json.Marshal(scrub(s))
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// ErasedHashes returns the keys an address may be kept under once erased: EmailHash of
// the address, and, when it differs, the hash of the form addresses were normalized to
// before the SQLite store's migration 010 (local part as spelled), which hashes made
// before it still use.
func ErasedHashes(raw string) []string {
	h := mailtrail.EmailHash(raw)
	raw = strings.TrimSpace(raw)
	legacy := raw
	if at := strings.LastIndexByte(raw, '@'); at >= 0 {
		legacy = raw[:at+1] + strings.ToLower(raw[at+1:])
	}
	if legacy == mailtrail.NormalizeEmail(raw) {
		return []string{h}
	}
	sum := sha256.Sum256([]byte(legacy))
	return []string{h, mailtrail.EmailHashPrefix + hex.EncodeToString(sum[:])}
}

// MarkErased shows a suppression kept under an address's hash with an empty email and
// the hash in EmailHash.
func MarkErased(s *mailtrail.Suppression) {
	if mailtrail.IsEmailHash(s.Email) {
		s.EmailHash, s.Email = s.Email, ""
	}
}

// ErasedLookup is the lookup of the suppressions kept under the hashes of addresses that
// were not found under themselves (their customer was erased): the hashes to look up
// (Hashes, sorted), then Add with each suppression found under one.
type ErasedLookup struct {
	Hashes []string
	byHash map[string]string // hash → the normalized address asked
}

// NewErasedLookup returns the lookup for the addresses of raw (as given) that found, by
// normalized address, lacks; its Hashes are empty when there is nothing to look up.
func NewErasedLookup(raw []string, found map[string]mailtrail.Suppression) ErasedLookup {
	l := ErasedLookup{byHash: map[string]string{}}
	for _, r := range raw {
		a := mailtrail.NormalizeEmail(r)
		if _, ok := found[a]; ok || a == "" || mailtrail.IsEmailHash(a) {
			continue
		}
		for _, h := range ErasedHashes(r) {
			if _, dup := l.byHash[h]; !dup {
				l.byHash[h] = a
				l.Hashes = append(l.Hashes, h)
			}
		}
	}
	slices.Sort(l.Hashes)
	return l
}

// Add records s, kept under the hash key, in found under the address it was asked for,
// with its hash in EmailHash; when the address is kept under both of its hashes, the
// suppression that ranks higher (rules.Replaces) answers.
func (l ErasedLookup) Add(found map[string]mailtrail.Suppression, key string, s mailtrail.Suppression) {
	s.EmailHash, s.Email = key, l.byHash[key]
	if prev, ok := found[s.Email]; ok && !rules.Replaces(SuppressOf(prev), SuppressOf(s)) {
		return
	}
	found[s.Email] = s
}

// SuppressOf is the rules' view of a stored suppression.
func SuppressOf(s mailtrail.Suppression) rules.Suppress {
	return rules.Suppress{Reason: s.Reason, Source: s.Source, EventID: s.EventID, Detail: s.Detail, At: s.SuppressedAt.UnixMilli()}
}
