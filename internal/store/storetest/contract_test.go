package storetest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Every method of the contract is called somewhere in the suite (a method added to a
// consumer's interface and to Store must get a test).
func TestEveryMethodExercised(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "contract.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	typ := reflect.TypeOf((*Store)(nil)).Elem()
	if typ.NumMethod() < 60 {
		t.Fatalf("Store has only %d methods", typ.NumMethod())
	}
	for i := range typ.NumMethod() {
		if n := typ.Method(i).Name; !strings.Contains(src.String(), "."+n+"(") {
			t.Errorf("the suite never calls %s", n)
		}
	}
}
