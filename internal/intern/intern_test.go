package intern

import (
	"strings"
	"testing"
	"unsafe"
)

func TestString_sharesMemory(t *testing.T) {
	a := String(strings.Clone("New York"))
	b := String(strings.Clone("New York"))
	if a != "New York" || b != "New York" {
		t.Fatalf("String changed the text: %q, %q", a, b)
	}
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("two interned copies of one text do not share memory")
	}
	long := strings.Repeat("x", MaxLen+1)
	if got := String(long); unsafe.StringData(got) != unsafe.StringData(long) {
		t.Fatal("a string over MaxLen was copied")
	}
	if String("") != "" {
		t.Fatal("the empty string changed")
	}
}
