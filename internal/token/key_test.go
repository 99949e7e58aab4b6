package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func TestNewSigner(t *testing.T) {
	good := func(id uint8) Key { return Key{ID: id, Secret: bytes.Repeat([]byte{1}, 32)} }
	for _, tc := range []struct {
		name   string
		active Key
		verify []Key
		ok     bool
	}{
		{"one key", good(0), nil, true},
		{"id 15", good(15), []Key{good(0)}, true},
		{"id 16", good(16), nil, false},
		{"verify-only id 200", good(1), []Key{good(200)}, false},
		{"short secret", Key{ID: 1, Secret: make([]byte, 31)}, nil, false},
		{"nil secret", Key{ID: 1}, nil, false},
		{"short verify-only", good(1), []Key{{ID: 2, Secret: []byte("short")}}, false},
		{"duplicate id", good(1), []Key{good(2), good(1)}, false},
		{"short master", KeyFromSecret(1, []byte("too short")), nil, false},
	} {
		s, err := NewSigner(tc.active, tc.verify...)
		if (err == nil) != tc.ok || (s != nil) != tc.ok {
			t.Errorf("%s: NewSigner = %v, %v; want ok=%v", tc.name, s, err, tc.ok)
		}
	}

	// The signer keeps its own copy of the secret.
	k := good(1)
	s := mustSigner(t, k)
	tok := s.Sign(Open, Ref{}, 0)
	k.Secret[0] ^= 1
	if _, _, err := s.Verify(Open, tok); err != nil {
		t.Errorf("signer affected by caller changing the secret: %v", err)
	}
}

func TestKeyFromSecret(t *testing.T) {
	master := bytes.Repeat([]byte("m"), 32)
	k := KeyFromSecret(4, master)
	m := hmac.New(sha256.New, master)
	m.Write([]byte("mailtrail token key v1"))
	if k.ID != 4 || !bytes.Equal(k.Secret, m.Sum(nil)) || len(k.Secret) != 32 {
		t.Errorf("KeyFromSecret = %+v", k)
	}
	if !bytes.Equal(KeyFromSecret(4, master).Secret, k.Secret) {
		t.Error("KeyFromSecret not deterministic")
	}
	if k := KeyFromSecret(4, master[:31]); k.Secret != nil {
		t.Errorf("short master gave a secret: %x", k.Secret)
	}
}
