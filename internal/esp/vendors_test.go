package esp

import (
	"slices"
	"sort"
	"testing"
)

// Names, the setup steps and the credential table cover exactly the registered vendors.
func TestNamesAreTheRegistry(t *testing.T) {
	r := Registry{}
	RegisterA(r)
	RegisterB(r, nil)
	var registered []string
	for n := range r {
		registered = append(registered, n)
	}
	sort.Strings(registered)
	names := Names()
	sorted := slices.Sorted(slices.Values(names))
	if !slices.Equal(sorted, registered) {
		t.Fatalf("Names() %v, registry %v", names, registered)
	}
	for _, n := range names {
		if len(SetupSteps(n)) == 0 {
			t.Errorf("%s: no setup steps", n)
		}
		if _, _, ok := CredentialNeeds(n); !ok {
			t.Errorf("%s: no credential rules", n)
		}
	}
	if len(setupSteps) != len(names) {
		t.Errorf("setup steps for %d vendors, %d registered", len(setupSteps), len(names))
	}
	if NamesList() != "sendgrid, sparkpost, smtpcom, ocimail, mailgun, ses, postmark, resend, generic or smtp" {
		t.Errorf("NamesList() = %q", NamesList())
	}
	if !HasMailbox("smtp") || !HasMailbox("ocimail") || HasMailbox("sendgrid") || MailboxVendors() != "smtp and ocimail" {
		t.Error("mailbox vendors")
	}
	for _, n := range names {
		if OptionalBasicAuth(n) != (n == "ses") {
			t.Errorf("OptionalBasicAuth(%s) = %v", n, OptionalBasicAuth(n))
		}
		if tok := ReplayToken(n, []byte(`{"signature":{"token":"t1","timestamp":"1","signature":"x"}}`)); (tok != "") != (n == "mailgun") {
			t.Errorf("ReplayToken(%s) = %q", n, tok)
		}
	}
}
