package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail"
)

var purposes = []Purpose{Open, Click, Unsubscribe}

var testLinks = []int{0, 1, 127, 128, 65535}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func testKey(id uint8) Key {
	return KeyFromSecret(id, bytes.Repeat([]byte{'k', id}, 20))
}

func mustSigner(t testing.TB, active Key, verifyOnly ...Key) *Signer {
	t.Helper()
	s, err := NewSigner(active, verifyOnly...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustRef(t testing.TB) Ref {
	t.Helper()
	r, err := NewRef()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// validTokens returns tokens of every purpose, with every test link for clicks.
func validTokens(t testing.TB, s *Signer) map[string]Purpose {
	t.Helper()
	out := map[string]Purpose{}
	for _, p := range purposes {
		links := []int{0}
		if p == Click {
			links = testLinks
		}
		for _, l := range links {
			out[s.Sign(p, mustRef(t), l)] = p
		}
	}
	return out
}

func expectInvalid(t *testing.T, s *Signer, p Purpose, tok, what string) {
	t.Helper()
	ref, link, err := s.Verify(p, tok)
	if err != ErrInvalid || ref != (Ref{}) || link != 0 {
		t.Fatalf("%s: Verify(%v, %q) = %v, %d, %v; want ErrInvalid", what, p, tok, ref, link, err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := mustSigner(t, testKey(3))
	wantLen := map[int]int{0: 40, 1: 40, 127: 40, 128: 42, 16383: 42, 16384: 43, 65535: 43}
	for _, p := range purposes {
		for link, n := range wantLen {
			ref := mustRef(t)
			tok := s.Sign(p, ref, link)
			if p != Click {
				n = 39
			}
			if len(tok) != n {
				t.Errorf("%v link %d: len %d, want %d", p, link, len(tok), n)
			}
			gotRef, gotLink, err := s.Verify(p, tok)
			if err != nil {
				t.Fatalf("%v link %d: Verify(%q): %v", p, link, tok, err)
			}
			wantLink := link
			if p != Click {
				wantLink = 0
			}
			if gotRef != ref || gotLink != wantLink {
				t.Errorf("%v link %d: got %v, %d; want %v, %d", p, link, gotRef, gotLink, ref, wantLink)
			}
		}
	}
}

// TestLayout rebuilds tokens from the documented layout with an independent HMAC, and
// pins one token: issued tokens live in sent mail, so the format must never drift.
func TestLayout(t *testing.T) {
	k := testKey(5)
	s := mustSigner(t, k)
	var ref Ref
	for i := range ref {
		ref[i] = byte(i)
	}
	for _, tc := range []struct {
		p    Purpose
		link int
		tail []byte
	}{
		{Open, 9, nil},
		{Unsubscribe, 0, nil},
		{Click, 0, []byte{0}},
		{Click, 300, []byte{0xac, 0x02}},
		{Click, 65535, []byte{0xff, 0xff, 0x03}},
	} {
		body := append([]byte{0x15}, ref[:]...)
		body = append(body, tc.tail...)
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte{byte(tc.p)})
		m.Write(body)
		want := base64.RawURLEncoding.EncodeToString(append(body, m.Sum(nil)[:16]...))
		if got := s.Sign(tc.p, ref, tc.link); got != want {
			t.Errorf("%v %d: Sign = %q, want %q", tc.p, tc.link, got, want)
		}
	}
	const golden = "FQABAgMEBQYHCAkKC2rTiiFh6N8t0pJijVcjq_U"
	if got := s.Sign(Open, ref, 0); got != golden {
		t.Errorf("golden open token changed: %q, want %q", got, golden)
	}
}

func TestTampered(t *testing.T) {
	s := mustSigner(t, testKey(1))
	for tok, p := range validTokens(t, s) {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			for bit := 0; bit < 8; bit++ {
				b := bytes.Clone(raw)
				b[i] ^= 1 << bit
				expectInvalid(t, s, p, base64.RawURLEncoding.EncodeToString(b), fmt.Sprintf("byte %d bit %d", i, bit))
			}
			b := bytes.Clone(raw)
			b[i] ^= 0xff
			expectInvalid(t, s, p, base64.RawURLEncoding.EncodeToString(b), fmt.Sprintf("byte %d inverted", i))
		}
		// Every other character in every position, including changes that only touch
		// the trailing bits of the last character.
		for i := range tok {
			for _, c := range []byte(alphabet + "+/=.~ \n\r\x00\xff") {
				if c == tok[i] {
					continue
				}
				b := []byte(tok)
				b[i] = c
				expectInvalid(t, s, p, string(b), fmt.Sprintf("char %d = %q", i, c))
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	s := mustSigner(t, testKey(1))
	for tok, p := range validTokens(t, s) {
		for n := 0; n < len(tok); n++ {
			expectInvalid(t, s, p, tok[:n], fmt.Sprintf("prefix %d", n))
			expectInvalid(t, s, p, tok[len(tok)-n:], fmt.Sprintf("suffix %d", n))
		}
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		for n := 0; n < len(raw); n++ {
			expectInvalid(t, s, p, base64.RawURLEncoding.EncodeToString(raw[:n]), fmt.Sprintf("bytes prefix %d", n))
		}
	}
}

func TestExtended(t *testing.T) {
	s := mustSigner(t, testKey(1))
	for tok, p := range validTokens(t, s) {
		for _, c := range alphabet {
			expectInvalid(t, s, p, tok+string(c), "append "+string(c))
			expectInvalid(t, s, p, string(c)+tok, "prepend "+string(c))
		}
		for _, x := range []string{"=", "==", "\n", "\r\n", " ", "%00", "AAAA", tok, strings.Repeat("A", 1<<20)} {
			expectInvalid(t, s, p, tok+x, fmt.Sprintf("append %q", x))
		}
		// Newlines inside: a base64 decoder would skip them.
		expectInvalid(t, s, p, tok[:10]+"\n"+tok[10:], "inner LF")
		expectInvalid(t, s, p, tok[:10]+"\r"+tok[10:], "inner CR")
		// Padded and standard-alphabet spellings of the same bytes.
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		if pad := base64.URLEncoding.EncodeToString(raw); pad != tok {
			expectInvalid(t, s, p, pad, "padded")
		}
		if std := base64.RawStdEncoding.EncodeToString(raw); std != tok {
			expectInvalid(t, s, p, std, "std alphabet")
		}
		for _, extra := range [][]byte{{0}, {0, 0}, {0xff}, bytes.Repeat([]byte{7}, 40)} {
			expectInvalid(t, s, p, base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), extra...)), "bytes appended")
		}
	}
}

func TestCrossPurpose(t *testing.T) {
	s := mustSigner(t, testKey(1))
	for tok, p := range validTokens(t, s) {
		for _, q := range append(purposes, 0, 4, 0xff) {
			if q != p {
				expectInvalid(t, s, q, tok, fmt.Sprintf("%v token as %v", p, q))
			}
		}
	}
	// Same bytes under the MAC, different purpose: only the MAC can tell them apart.
	ref := mustRef(t)
	expectInvalid(t, s, Unsubscribe, s.Sign(Open, ref, 0), "open as unsubscribe, same ref")
	expectInvalid(t, s, Open, s.Sign(Unsubscribe, ref, 0), "unsubscribe as open, same ref")
}

// forge builds a token from raw parts with a correct MAC, so that only the structural
// checks can reject it.
func forge(secret []byte, header byte, p Purpose, ref Ref, link []byte) string {
	body := append(append([]byte{header}, ref[:]...), link...)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte{byte(p)})
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(body, m.Sum(nil)[:16]...))
}

func TestForgedStructure(t *testing.T) {
	k := testKey(1)
	s := mustSigner(t, k)
	ref := mustRef(t)
	if _, l, err := s.Verify(Click, forge(k.Secret, 0x11, Click, ref, []byte{0x80, 0x01})); err != nil || l != 128 {
		t.Fatalf("canonical forge rejected: %d, %v", l, err)
	}
	for _, link := range [][]byte{
		{0x80, 0x00},       // 0 in two bytes
		{0x81, 0x80, 0x00}, // 1 in three bytes
		{0xff, 0xff, 0x04}, // 65536
		{0xff, 0xff, 0x7f}, // 2^21-1
		{0x80, 0x80, 0x80}, // truncated
		{},
	} {
		expectInvalid(t, s, Click, forge(k.Secret, 0x11, Click, ref, link), fmt.Sprintf("link bytes %x", link))
	}
	for _, h := range []byte{0x01, 0x21, 0xf1} {
		expectInvalid(t, s, Open, forge(k.Secret, h, Open, ref, nil), fmt.Sprintf("header %#x", h))
	}
	// The active key's secret under an unknown key id: unknown ids are checked against
	// the active key only to spend the same time, never to accept.
	for kid := byte(0); kid < 16; kid++ {
		if kid != k.ID {
			expectInvalid(t, s, Open, forge(k.Secret, 0x10|kid, Open, ref, nil), fmt.Sprintf("unknown kid %d", kid))
		}
	}
	// An open token with one byte too many (caught by the length bound before the MAC).
	expectInvalid(t, s, Open, forge(k.Secret, 0x11, Open, ref, []byte{5}), "open with a link byte")
}

func TestValidAlphabet(t *testing.T) {
	if !validAlphabet(alphabet) || !validAlphabet("") {
		t.Error("rejects base64url")
	}
	for _, c := range "+/=\n\r .~%\x00\x7f\xff" {
		if validAlphabet("AAAA" + string(c)) {
			t.Errorf("accepts %q", c)
		}
	}
}

func TestRetiredKey(t *testing.T) {
	old := mustSigner(t, testKey(1))
	s := mustSigner(t, testKey(2))
	for tok, p := range validTokens(t, old) {
		expectInvalid(t, s, p, tok, "retired key 1")
	}
	// Same id, different secret.
	other := mustSigner(t, KeyFromSecret(1, bytes.Repeat([]byte("x"), 32)))
	for tok, p := range validTokens(t, other) {
		expectInvalid(t, old, p, tok, "other secret, same id")
	}
}

func TestRotation(t *testing.T) {
	old := mustSigner(t, testKey(1))
	s := mustSigner(t, testKey(2), testKey(1))
	only2 := mustSigner(t, testKey(2))
	for _, p := range purposes {
		ref := mustRef(t)
		tok := old.Sign(p, ref, 128)
		if got, _, err := s.Verify(p, tok); err != nil || got != ref {
			t.Errorf("%v: key-1 token after rotation: %v, %v", p, got, err)
		}
		tok2 := s.Sign(p, ref, 128)
		if raw, _ := base64.RawURLEncoding.DecodeString(tok2); raw[0] != 0x12 {
			t.Errorf("%v: rotated signer signed %q, want version 1 key 2", p, tok2)
		}
		if tok2 != only2.Sign(p, ref, 128) {
			t.Errorf("%v: rotated signer differs from key-2 signer", p)
		}
		if _, _, err := old.Verify(p, tok2); err != ErrInvalid {
			t.Errorf("%v: key-2 token accepted by key-1-only signer", p)
		}
	}
}

func TestRandomRejected(t *testing.T) {
	s := mustSigner(t, testKey(1), testKey(0), testKey(15))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100_000 {
		var tok string
		switch i % 3 {
		case 0: // random base64url text of any plausible length
			b := make([]byte, rng.IntN(70))
			for j := range b {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
			tok = string(b)
		case 1: // random bytes
			b := make([]byte, rng.IntN(70))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			tok = string(b)
		default: // well-formed header and link, random ref and tag: only the MAC rejects
			b := make([]byte, 29+rng.IntN(4))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			b[0] = 0x10 | []byte{0, 1, 15}[rng.IntN(3)]
			tok = base64.RawURLEncoding.EncodeToString(b)
		}
		for _, p := range purposes {
			expectInvalid(t, s, p, tok, "random")
		}
	}
}

func TestURLSafeAndDistinct(t *testing.T) {
	s := mustSigner(t, testKey(7))
	safe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	seen := map[string]bool{}
	for range 1000 {
		ref := mustRef(t)
		for _, p := range purposes {
			for _, l := range testLinks {
				if p != Click && l != 0 {
					continue
				}
				tok := s.Sign(p, ref, l)
				if !safe.MatchString(tok) || url.PathEscape(tok) != tok {
					t.Fatalf("token %q is not URL-safe", tok)
				}
				if seen[tok] {
					t.Fatalf("token %q issued twice", tok)
				}
				seen[tok] = true
			}
		}
	}
}

func TestErrInvalid(t *testing.T) {
	s := mustSigner(t, testKey(1))
	_, _, err := s.Verify(Click, "nope")
	if !errors.Is(err, ErrInvalid) || mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Errorf("err = %v (code %q)", err, mailtrail.ErrorCode(err))
	}
	if Open.String() != "open" || Click.String() != "click" || Unsubscribe.String() != "unsubscribe" || Purpose(9).String() != "" {
		t.Error("Purpose.String")
	}
}

func TestSignPanicsOnBugs(t *testing.T) {
	s := mustSigner(t, testKey(1))
	for _, tc := range []struct {
		p    Purpose
		link int
	}{{0, 0}, {4, 0}, {Click, -1}, {Click, MaxLink + 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Sign(%d, _, %d) did not panic", tc.p, tc.link)
				}
			}()
			s.Sign(tc.p, Ref{}, tc.link)
		}()
	}
	// Link is ignored, not checked, for other purposes.
	if s.Sign(Open, Ref{}, -5) != s.Sign(Open, Ref{}, 0) {
		t.Error("link changed an open token")
	}
}

func TestConcurrent(t *testing.T) {
	s := mustSigner(t, testKey(2), testKey(1))
	old := mustSigner(t, testKey(1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ref := Ref{byte(g), byte(i)}
				signer := s
				if i%2 == 0 {
					signer = old
				}
				tok := signer.Sign(Click, ref, i)
				if r, l, err := s.Verify(Click, tok); err != nil || r != ref || l != i {
					t.Errorf("concurrent verify: %v %d %v", r, l, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzVerify(f *testing.F) {
	k1, k2 := testKey(1), testKey(2)
	only1 := mustSigner(f, k1)
	only2 := mustSigner(f, k2)
	rotated := mustSigner(f, k2, k1)
	for _, s := range []*Signer{only1, only2} {
		for tok, p := range validTokens(f, s) {
			f.Add(byte(p), tok)
		}
	}
	f.Add(byte(Open), "")
	f.Add(byte(Click), "EQ\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add(byte(Unsubscribe), "EQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")

	byKid := map[byte]*Signer{0x11: only1, 0x12: only2} // by header byte
	f.Fuzz(func(t *testing.T, pb byte, tok string) {
		p := Purpose(pb)
		for _, s := range []*Signer{only1, only2, rotated} {
			ref, link, err := s.Verify(p, tok)
			if err != nil {
				if err != ErrInvalid || ref != (Ref{}) || link != 0 {
					t.Fatalf("failure = %v, %d, %v", ref, link, err)
				}
				continue
			}
			if link < 0 || link > MaxLink || (p != Click && link != 0) {
				t.Fatalf("accepted %q with link %d", tok, link)
			}
			raw, derr := base64.RawURLEncoding.DecodeString(tok)
			if derr != nil {
				t.Fatalf("accepted %q, which does not decode: %v", tok, derr)
			}
			signer := byKid[raw[0]]
			if signer == nil {
				t.Fatalf("accepted %q with unexpected key", tok)
			}
			if again := signer.Sign(p, ref, link); again != tok {
				t.Fatalf("accepted %q, but Sign gives %q", tok, again)
			}
		}
	})
}

// The baseline is a fresh hmac.New per token, the simplest correct code; the Signer pools
// HMAC states per key and should beat it.
func BenchmarkSign(b *testing.B) {
	k := testKey(1)
	s := mustSigner(b, k)
	ref := mustRef(b)
	b.Run("signer", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Sign(Click, ref, i&0xffff)
		}
	})
	b.Run("baseline-hmac-new", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			baselineSign(k, ref, i&0xffff)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	k := testKey(1)
	s := mustSigner(b, k)
	tok := s.Sign(Click, mustRef(b), 300)
	b.Run("signer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Verify(Click, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-hmac-new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
			if err != nil {
				b.Fatal(err)
			}
			m := hmac.New(sha256.New, k.Secret)
			m.Write([]byte{byte(Click)})
			m.Write(raw[:len(raw)-16])
			if !hmac.Equal(m.Sum(nil)[:16], raw[len(raw)-16:]) {
				b.Fatal("bad tag")
			}
		}
	})
	b.Run("reject-garbage", func(b *testing.B) {
		b.ReportAllocs()
		bad := tok[:len(tok)-1] + "A"
		for b.Loop() {
			s.Verify(Click, bad)
		}
	})
}

func baselineSign(k Key, ref Ref, link int) string {
	body := append([]byte{0x10 | k.ID}, ref[:]...)
	body = binary.AppendUvarint(body, uint64(link))
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte{byte(Click)})
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(m.Sum(body)[:len(body)+16])
}
