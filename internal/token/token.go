// Package token signs and verifies the tracking ids that appear in open-pixel, click and
// unsubscribe URLs.
//
// A token is the base64url encoding, without padding, of:
//
//	byte 0       version (high 4 bits, always 1) | key id (low 4 bits, 0..15)
//	bytes 1..12  the message Ref: 12 random bytes, the public message_id
//	click only   the link index as a canonical uvarint (0..65535, 1 to 3 bytes)
//	last 16      tag = HMAC-SHA256(key, purpose byte ‖ every preceding token byte), first 128 bits
//
// Open and unsubscribe tokens are 29 bytes (39 characters). A click token is 30 bytes
// (40 characters) for links 0..127, 31 bytes (42) up to 16383 and 32 bytes (43) beyond.
//
// Why this shape:
//   - The purpose is inside the MAC but not in the token: the route already says which
//     purpose it expects, so the byte would be redundant, and an open token (which ends up
//     in proxy logs and image caches) can never be replayed as an unsubscribe or click.
//   - The ref is random, so ids cannot be enumerated, and signed, so they cannot be forged
//     or edited: the tag is checked before any storage is touched.
//   - RFC 2104 §5 allows a truncated HMAC of at least half the hash length and at least 80
//     bits; we keep 128 bits (HMAC-SHA-256-128, the IPsec choice), which leaves a forger
//     2^-128 per guess while keeping URLs short.
//   - The key id lets keys rotate: one key signs, older keys stay verify-only for the life
//     of the links, and a retired key's id is simply unknown.
//
// Every verification failure is the same error, ErrInvalid, so the answer says nothing
// about which check failed.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"

	"github.com/mailtrail/mailtrail"
)

// Purpose says which URL a token was signed for. Its value is part of the MAC input, so
// the numbers are persisted in every issued token: never renumber them.
type Purpose byte

// The purposes.
const (
	Open        Purpose = 1
	Click       Purpose = 2
	Unsubscribe Purpose = 3
)

// String returns "open", "click" or "unsubscribe", or "" for an invalid purpose. It suits
// metric labels.
func (p Purpose) String() string {
	switch p {
	case Open:
		return "open"
	case Click:
		return "click"
	case Unsubscribe:
		return "unsubscribe"
	}
	return ""
}

func (p Purpose) valid() bool { return p >= Open && p <= Unsubscribe }

// MaxLink is the largest link index a click token can carry.
const MaxLink = 65535

// ErrInvalid is the one error Verify returns, whatever was wrong with the token: bad
// length, alphabet or encoding, unknown version or key, bad link index, wrong purpose or
// wrong tag. Its code is mailtrail.ENOTFOUND because a forged id and an unknown one must
// look the same to the caller's client.
var ErrInvalid = &mailtrail.Error{Code: mailtrail.ENOTFOUND, Message: "invalid tracking id"}

const (
	version = 1
	tagLen  = 16
	// baseLen is the header byte, the ref and the tag: the whole of an open token.
	baseLen = 1 + len(Ref{}) + tagLen
	maxLen  = baseLen + 3 // a click token with a 3-byte uvarint
	// Encoded lengths: ceil(n*4/3) for n = 29, 30 and 32 bytes.
	minChars = 39
	maxChars = 43
)

// strict rejects padding, the standard alphabet's '+' and '/', and non-zero trailing bits.
// It still skips CR and LF, which validAlphabet rejects first.
var strict = base64.RawURLEncoding.Strict()

// Signer signs tokens with its active key and verifies them with any of its keys. It is
// safe for concurrent use. Build it with NewSigner.
type Signer struct {
	active  uint8
	secrets [16][]byte // by key id; nil for unknown ids
	scratch sync.Pool  // *scratch
}

// scratch is everything one Sign or Verify needs, pooled so that neither allocates
// beyond the returned string. The HMACs keep their ipad/opad states between uses.
type scratch struct {
	macs [16]hash.Hash
	buf  [1 + maxLen]byte // buf[0] is the purpose, the token bytes follow
	sum  [sha256.Size]byte
	text [maxChars]byte
}

// NewSigner returns a Signer that signs with active and verifies with active and every
// key in verifyOnly. It returns an error if a key id is over 15, a secret is shorter than
// MinSecretLen bytes, or two keys share an id. The secrets are copied.
func NewSigner(active Key, verifyOnly ...Key) (*Signer, error) {
	s := &Signer{active: active.ID}
	for _, k := range append([]Key{active}, verifyOnly...) {
		if k.ID > MaxKeyID {
			return nil, fmt.Errorf("token: key id %d: over %d", k.ID, MaxKeyID)
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("token: key %d: secret is %d bytes, need at least %d", k.ID, len(k.Secret), MinSecretLen)
		}
		if s.secrets[k.ID] != nil {
			return nil, fmt.Errorf("token: key id %d given twice", k.ID)
		}
		s.secrets[k.ID] = append([]byte(nil), k.Secret...)
	}
	s.scratch.New = func() any { return new(scratch) }
	return s, nil
}

// tag computes the full HMAC of msg (purpose byte included) with key kid into st.sum.
func (s *Signer) tag(st *scratch, kid uint8, msg []byte) []byte {
	h := st.macs[kid]
	if h == nil {
		h = hmac.New(sha256.New, s.secrets[kid])
		st.macs[kid] = h
	} else {
		h.Reset()
	}
	h.Write(msg)
	return h.Sum(st.sum[:0])[:tagLen]
}

// Sign returns the token for ref with purpose p, signed with the active key. link is the
// index of the link in the message and is used only when p is Click. Sign panics if p is
// not a valid Purpose or a click's link is outside 0..MaxLink: both are bugs of the caller,
// which must bound the links of a message before signing.
func (s *Signer) Sign(p Purpose, ref Ref, link int) string {
	if !p.valid() {
		panic(fmt.Sprintf("token: Sign with invalid purpose %d", p))
	}
	if p == Click && (link < 0 || link > MaxLink) {
		panic(fmt.Sprintf("token: Sign with link index %d outside 0..%d", link, MaxLink))
	}
	st := s.scratch.Get().(*scratch)
	defer s.scratch.Put(st)

	st.buf[0] = byte(p)
	b := st.buf[1:]
	b[0] = version<<4 | s.active
	n := 1 + copy(b[1:], ref[:])
	if p == Click {
		n += binary.PutUvarint(b[n:], uint64(link))
	}
	n += copy(b[n:], s.tag(st, s.active, st.buf[:1+n]))
	strict.Encode(st.text[:], b[:n])
	return string(st.text[:strict.EncodedLen(n)])
}

// Verify checks that tok is a token for purpose p signed by one of the Signer's keys and
// returns its ref and, for a click, its link index (0 otherwise). On any failure it returns
// the zero Ref, 0 and ErrInvalid. It never panics, whatever tok holds.
func (s *Signer) Verify(p Purpose, tok string) (ref Ref, link int, err error) {
	// Cheap public checks first, before any allocation or decoding.
	switch {
	case !p.valid():
		return Ref{}, 0, ErrInvalid
	case p == Click:
		if len(tok) < minChars+1 || len(tok) > maxChars || len(tok)%4 == 1 {
			return Ref{}, 0, ErrInvalid
		}
	default:
		if len(tok) != minChars {
			return Ref{}, 0, ErrInvalid
		}
	}
	if !validAlphabet(tok) {
		return Ref{}, 0, ErrInvalid
	}

	st := s.scratch.Get().(*scratch)
	defer s.scratch.Put(st)

	n := copy(st.text[:], tok)
	b := st.buf[1:]
	m, derr := strict.Decode(b, st.text[:n])
	if derr != nil || m != strict.DecodedLen(n) || m < baseLen || b[0]>>4 != version {
		return Ref{}, 0, ErrInvalid
	}
	body := m - tagLen // bytes under the MAC
	if p == Click {
		v, k := binary.Uvarint(b[baseLen-tagLen : body])
		// k <= 0: truncated or overflowing; k short: trailing bytes; the length test
		// rejects non-canonical (zero-padded) encodings.
		if k <= 0 || baseLen-tagLen+k != body || v > MaxLink || k != uvarintLen(v) {
			return Ref{}, 0, ErrInvalid
		}
		link = int(v)
	} else if body != baseLen-tagLen {
		return Ref{}, 0, ErrInvalid
	}

	// An unknown key id costs the same HMAC as a known one, then fails.
	kid := b[0] & 0x0f
	known := s.secrets[kid] != nil
	if !known {
		kid = s.active
	}
	st.buf[0] = byte(p)
	want := s.tag(st, kid, st.buf[:1+body])
	if !hmac.Equal(want, b[body:m]) || !known {
		return Ref{}, 0, ErrInvalid
	}
	copy(ref[:], b[1:])
	return ref, link, nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// validAlphabet reports whether s holds only base64url characters. The base64 decoder
// skips CR and LF even in strict mode, so they must be rejected here: a token must have
// exactly one spelling.
func validAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
