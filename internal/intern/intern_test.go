package intern

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unique"
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

func TestString_concurrentAndColliding(t *testing.T) {
	// More distinct texts than slots, from several goroutines: every result must equal
	// its input whatever the slots hold (run with -race).
	const n = 3 * TableSize
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range n {
				s := strconv.Itoa((i*7 + g) % n)
				if got := String(s); got != s {
					ok = false
				}
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Fatal("String returned a different text under concurrent use")
		}
	}
}

func TestString_copiesSlices(t *testing.T) {
	buf := []byte("plan=enterprise")
	s := unsafe.String(&buf[5], 10) // "enterprise", aliasing buf
	got := String(s)
	buf[5] = 'E'
	if got != "enterprise" {
		t.Fatalf("interned string changed with the caller's buffer: %q", got)
	}
}

// BenchmarkString interns the values of a corpus-like workload: 2,000 distinct short
// values, each seen many times, as fresh copies (callers convert from message bytes).
// "unique" is unique.Make on the same input, what String used before.
func BenchmarkString(b *testing.B) {
	vals := make([]string, 2000)
	for i := range vals {
		vals[i] = "value-" + strconv.Itoa(i*7919)
	}
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = String(vals[i%len(vals)])
			i++
		}
	})
	b.Run("unique", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = unique.Make(vals[i%len(vals)]).Value()
			i++
			if i%100_000 == 0 {
				runtime.GC() // the pipeline collects every few thousand messages
			}
		}
	})
}

func TestBytes_sharesWithString(t *testing.T) {
	a := String(strings.Clone("Gold plan"))
	buf := []byte("Gold plan")
	b := Bytes(buf)
	if b != "Gold plan" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("Bytes(%q) = %q, not String's copy", buf, b)
	}
	buf[0] = 'X'
	if b != "Gold plan" {
		t.Fatalf("Bytes' result changed with the caller's buffer: %q", b)
	}
	_ = Bytes(buf[1:]) // "old plan": now in the table
	if n := testing.AllocsPerRun(100, func() { _ = Bytes(buf[1:]) }); n != 0 {
		t.Fatalf("a Bytes hit allocates %v times, want 0", n)
	}
	long := []byte(strings.Repeat("y", MaxLen+1))
	if got := Bytes(long); got != string(long) || unsafe.StringData(got) == unsafe.SliceData(long) {
		t.Fatal("a text over MaxLen is not copied")
	}
	if Bytes(nil) != "" {
		t.Fatal("Bytes(nil) is not empty")
	}
}

func TestConcat_isStringOfTheJoin(t *testing.T) {
	a := String(strings.Clone("traits.plan"))
	b := Concat("traits.", strings.Clone("plan"))
	if b != "traits.plan" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("Concat = %q, not String's copy", b)
	}
	prefix, key := "traits.", "planName"
	_ = Concat(prefix, key)
	if n := testing.AllocsPerRun(100, func() { _ = Concat(prefix, key) }); n != 0 {
		t.Fatalf("a Concat hit allocates %v times, want 0", n)
	}
	for _, n := range []int{MaxLen - len(prefix), MaxLen - len(prefix) + 1} {
		k := strings.Repeat("k", n)
		if got := Concat(prefix, k); got != prefix+k {
			t.Fatalf("Concat of %d bytes = %q", len(prefix)+n, got)
		}
	}
	if Concat("", "") != "" || Concat("a", "") != "a" || Concat("", "b") != "b" {
		t.Fatal("Concat with an empty part")
	}
}
