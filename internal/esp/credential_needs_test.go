package esp

import (
	"reflect"
	"testing"
)

func TestCredentialNeedsExported(t *testing.T) {
	sets, _, ok := CredentialNeeds("generic")
	if !ok || !reflect.DeepEqual(sets, [][]CredentialField{{FieldSigningKey}}) {
		t.Errorf("generic: %v %v", sets, ok)
	}
	sets, hint, ok := CredentialNeeds("sparkpost")
	if !ok || len(sets) != 3 || !reflect.DeepEqual(sets[0], []CredentialField{FieldUsername, FieldPassword}) || hint == "" {
		t.Errorf("sparkpost: %v %q %v", sets, hint, ok)
	}
	sets[0][0] = "changed" // a copy: the table stays as it is
	if again, _, _ := CredentialNeeds("sparkpost"); again[0][0] != FieldUsername {
		t.Error("the caller changed the table")
	}
	if _, _, ok := CredentialNeeds("nope"); ok {
		t.Error("unknown vendor has needs")
	}
}
