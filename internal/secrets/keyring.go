package secrets

import "errors"

// Keyring holds the sealing keys of the service: Current seals, and opening tries Current
// then each of Old in order. Old are the keys of retired master secrets (the service's
// --old-secret-keys), kept so that values sealed before a rotation still open.
type Keyring struct {
	Current []byte   // 32 bytes (DeriveKey of the current master secret)
	Old     [][]byte // 32 bytes each (DeriveKey of a retired master secret)
}

// NewKeyring returns the keyring of a current master secret and retired ones, each key
// derived with DeriveKey.
func NewKeyring(current []byte, old ...[]byte) Keyring {
	k := Keyring{Current: DeriveKey(current)}
	for _, o := range old {
		k.Old = append(k.Old, DeriveKey(o))
	}
	return k
}

// Seal encrypts plaintext under the current key, bound to context. It fails only on a
// current key of the wrong size.
func (k Keyring) Seal(plaintext, context []byte) ([]byte, error) {
	return seal(k.Current, plaintext, context)
}

// Open decrypts a value sealed under any key of the keyring with the same context. It
// returns ErrOpen when no key opens it, and an error on a key of the wrong size.
func (k Keyring) Open(sealed, context []byte) ([]byte, error) {
	pt, _, err := k.open(sealed, context)
	return pt, err
}

// Reseal returns sealed re-sealed under the current key when only an old key opens it
// (changed true); sealed itself, unchanged, when the current key opens it. ErrOpen when no
// key opens it.
func (k Keyring) Reseal(sealed, context []byte) (out []byte, changed bool, err error) {
	pt, current, err := k.open(sealed, context)
	if err != nil {
		return nil, false, err
	}
	if current {
		return sealed, false, nil
	}
	out, err = k.Seal(pt, context)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// open tries the current key, then the old ones; current tells which opened the value.
func (k Keyring) open(sealed, context []byte) (pt []byte, current bool, err error) {
	for i, key := range append([][]byte{k.Current}, k.Old...) {
		pt, err := open(key, sealed, context)
		if err == nil {
			return pt, i == 0, nil
		}
		if !errors.Is(err, ErrOpen) {
			return nil, false, err
		}
	}
	return nil, false, ErrOpen
}
