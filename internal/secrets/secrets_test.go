package secrets

import (
	"bytes"
	"errors"
	"testing"
)

const (
	masterA = "a master secret of at least 32 characters"
	masterB = "another master secret of 32+ characters"
	masterC = "a third master secret, never configured"
)

func TestSealOpenRoundTrip(t *testing.T) {
	k := NewKeyring([]byte(masterA))
	if len(k.Current) != 32 {
		t.Fatalf("key length %d", len(k.Current))
	}
	sealed, err := k.Seal([]byte("signing-key"), []byte("conn_1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("signing-key")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := k.Open(sealed, []byte("conn_1"))
	if err != nil || string(got) != "signing-key" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, []byte("conn_2")); err != ErrOpen {
		t.Errorf("other context: %v, want ErrOpen", err)
	}
	if _, err := NewKeyring([]byte(masterB)).Open(sealed, []byte("conn_1")); err != ErrOpen {
		t.Errorf("other key: %v, want ErrOpen", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, []byte("conn_1")); err != ErrOpen {
		t.Errorf("tampered: %v, want ErrOpen", err)
	}
	if _, err := k.Open([]byte{1, 2}, nil); err != ErrOpen {
		t.Errorf("short: %v, want ErrOpen", err)
	}
}

// After a rotation (B current, A old): values sealed under A open, new values are sealed
// under B only, and a value of a secret the keyring does not know fails with ErrOpen.
func TestKeyringRotation(t *testing.T) {
	ctx := []byte("conn_1")
	underA, err := NewKeyring([]byte(masterA)).Seal([]byte("k-A"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	underC, _ := NewKeyring([]byte(masterC)).Seal([]byte("k-C"), ctx)
	rotated := NewKeyring([]byte(masterB), []byte(masterA))

	if pt, err := rotated.Open(underA, ctx); err != nil || string(pt) != "k-A" {
		t.Fatalf("old-key value: %q, %v", pt, err)
	}
	if _, err := rotated.Open(underA, []byte("conn_2")); err != ErrOpen {
		t.Errorf("old-key value, other context: %v, want ErrOpen", err)
	}
	if _, err := rotated.Open(underC, ctx); !errors.Is(err, ErrOpen) {
		t.Errorf("unknown key: %v, want ErrOpen", err)
	}

	fresh, err := rotated.Seal([]byte("k-B"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := NewKeyring([]byte(masterB)).Open(fresh, ctx); err != nil || string(pt) != "k-B" {
		t.Fatalf("new value with the current key alone: %q, %v", pt, err)
	}
	if _, err := NewKeyring([]byte(masterA)).Open(fresh, ctx); err != ErrOpen {
		t.Errorf("new value opened by the old key: %v, want ErrOpen (sealed under the current key)", err)
	}
}

func TestKeyringReseal(t *testing.T) {
	ctx := []byte("sub_1")
	underA, _ := NewKeyring([]byte(masterA)).Seal([]byte("whsec_x"), ctx)
	rotated := NewKeyring([]byte(masterB), []byte(masterA))

	out, changed, err := rotated.Reseal(underA, ctx)
	if err != nil || !changed {
		t.Fatalf("Reseal of an old-key value: changed %v, %v", changed, err)
	}
	if pt, err := NewKeyring([]byte(masterB)).Open(out, ctx); err != nil || string(pt) != "whsec_x" {
		t.Fatalf("re-sealed value with the current key alone: %q, %v", pt, err)
	}
	again, changed, err := rotated.Reseal(out, ctx)
	if err != nil || changed || !bytes.Equal(again, out) {
		t.Fatalf("Reseal of a current-key value: changed %v, same %v, %v", changed, bytes.Equal(again, out), err)
	}
	underC, _ := NewKeyring([]byte(masterC)).Seal([]byte("x"), ctx)
	if out, changed, err := rotated.Reseal(underC, ctx); err != ErrOpen || changed || out != nil {
		t.Fatalf("Reseal of an unknown-key value: %v %v %v, want ErrOpen", out, changed, err)
	}
}

func TestKeyringBadKeySize(t *testing.T) {
	if _, err := (Keyring{}).Seal([]byte("x"), nil); err == nil {
		t.Error("Seal with no current key succeeded")
	}
	sealed, _ := NewKeyring([]byte(masterA)).Seal([]byte("x"), nil)
	if _, err := (Keyring{Current: []byte("short")}).Open(sealed, nil); err == nil || errors.Is(err, ErrOpen) {
		t.Errorf("Open with a short key: %v, want a key-size error", err)
	}
}
