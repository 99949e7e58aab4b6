package secrets

import (
	"bytes"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	key := DeriveKey([]byte("a master secret of at least 32 characters"))
	if len(key) != 32 {
		t.Fatalf("key length %d", len(key))
	}
	sealed, err := Seal(key, []byte("signing-key"), []byte("conn_1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("signing-key")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := Open(key, sealed, []byte("conn_1"))
	if err != nil || string(got) != "signing-key" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := Open(key, sealed, []byte("conn_2")); err != ErrOpen {
		t.Errorf("other context: %v, want ErrOpen", err)
	}
	other := DeriveKey([]byte("another master secret of 32+ characters"))
	if _, err := Open(other, sealed, []byte("conn_1")); err != ErrOpen {
		t.Errorf("other key: %v, want ErrOpen", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := Open(key, sealed, []byte("conn_1")); err != ErrOpen {
		t.Errorf("tampered: %v, want ErrOpen", err)
	}
	if _, err := Open(key, []byte{1, 2}, nil); err != ErrOpen {
		t.Errorf("short: %v, want ErrOpen", err)
	}
}
