package httpd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func TestCheckArrays(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"events":[{},{},{}]}`, true},
		{`{"events":[{},{},{},{}]}`, false},
		{`{"a":[1,2,3],"b":[[1,2,3],[4,5,6]]}`, true},
		{`{"a":[1,[2,3,4,5]]}`, false},
		{`{"s":"[,,,,,,]","t":"\"[,,,,]"}`, true},       // separators inside strings do not count
		{`{"o":{"a":1,"b":2,"c":3,"d":4,"e":5}}`, true}, // object members are not items
		{`[]`, true},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), false}, // too deep
	} {
		err := checkArrays([]byte(tc.body), 3)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.body, err, tc.ok)
		}
		if err != nil && mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%s: code %s", tc.body, mailtrail.ErrorCode(err))
		}
	}
}

// checkArraysByteByByte is checkArrays as it was: a state machine over every byte. It is
// the oracle of FuzzCheckArrays.
func checkArraysByteByByte(b []byte, max int) error {
	var stack []int
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if len(stack) == maxDepth {
				return mailtrail.Errorf(mailtrail.EINVALID, "the body nests arrays and objects more than %d deep", maxDepth)
			}
			if c == '[' {
				stack = append(stack, 0)
			} else {
				stack = append(stack, -1)
			}
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1] >= 0 {
				stack[n-1]++
				if stack[n-1]+1 > max {
					return mailtrail.Errorf(mailtrail.EINVALID, "an array of the body holds more than %d items", max)
				}
			}
		}
	}
	return nil
}

// checkArrays skips strings with bytes.IndexByte; it must answer as the byte-by-byte
// state machine does on any text: escaped quotes, runs of backslashes, unterminated
// strings, separators inside and outside strings.
func FuzzCheckArrays(f *testing.F) {
	for _, s := range []string{
		`{"events":[{},{},{}]}`, `{"events":[{},{},{},{}]}`, `{"s":"[,,,,,,]","t":"\"[,,,,]"}`,
		`["a\\",1,2,3]`, `["a\\\",1,2,3]`, `["\\\\\"",",",","]`, `["unterminated,1,2,3,4`, `"\`, `[1,2,"\"",3,4]`,
		strings.Repeat("[", 65) + strings.Repeat("]", 65), `[[1,2,3],[4,5,6,7]]`, `{"a":"\u0022,",",":[1,2,3,4]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := checkArrays(b, 3), checkArraysByteByByte(b, 3)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Fatalf("%q: %v, byte by byte %v", b, got, want)
		}
	})
}

// The gate admits requests up to its capacity (one larger than the whole gate alone), makes
// the others wait for a release, and refuses after its wait.
func TestBodyGate(t *testing.T) {
	g := newBodyGate(100, 20*time.Millisecond)
	ctx := context.Background()
	r1, err := g.acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.acquire(ctx, 60); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("over capacity: %v, want unavailable", err)
	}
	got := make(chan error, 1)
	g.wait = time.Minute
	go func() { _, err := g.acquire(ctx, 60); got <- err }()
	r1()
	r1() // a second release changes nothing
	if err := <-got; err != nil {
		t.Fatalf("after release: %v", err)
	}
	if g.used != 60 {
		t.Fatalf("used %d, want 60", g.used)
	}
	// The number of holders is bounded too, whatever their size.
	g2 := newBodyGate(1<<30, 10*time.Millisecond)
	for range g2.holders {
		if _, err := g2.acquire(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g2.acquire(ctx, 1); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("one holder too many: %v, want unavailable", err)
	}
}
