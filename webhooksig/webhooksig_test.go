package webhooksig

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"events":[]}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, now, body)
	if h != "t=1800000000,v1="+""+h[len("t=1800000000,v1="):] {
		t.Fatalf("header %q", h)
	}
	for _, tc := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", secret, h, body, now, nil},
		{"valid with a second signature", secret, h + ",v1=00", body, now.Add(4 * time.Minute), nil},
		{"body changed", secret, h, []byte(`{"events":[1]}`), now, ErrMismatch},
		{"other secret", []byte("whsec_other"), h, body, now, ErrMismatch},
		{"too old", secret, h, body, now.Add(6 * time.Minute), ErrExpired},
		{"from the future", secret, h, body, now.Add(-6 * time.Minute), ErrExpired},
		{"no v1", secret, "t=1800000000", body, now, ErrMalformed},
		{"no t", secret, h[len("t=1800000000,"):], body, now, ErrMalformed},
		{"garbage", secret, "abc", body, now, ErrMalformed},
		{"bad hex", secret, "t=1800000000,v1=zz", body, now, ErrMalformed},
	} {
		if err := VerifyAt(tc.secret, tc.header, tc.body, DefaultTolerance, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
