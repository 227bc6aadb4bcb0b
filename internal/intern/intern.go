// Package intern shares the memory of short strings that many contacts hold alike:
// first names, cities, countries, genders, consent texts and sources, custom values such
// as plan names. A million contacts that all say "US" then hold one "US".
//
// It keeps a fixed table of canonical strings, indexed by a hash of the text in pairs of
// slots: a string whose pair holds the same text gets that copy; any other takes the
// pair's older slot over.
// Interning is best effort: a value whose slot another value took is copied again, and
// strings already returned stay valid either way. The table holds at most TableSize
// strings of at most MaxLen bytes, about 1.5 MB in all, for the life of the process.
//
// The table replaces the standard library's unique package, which this package used
// before: unique drops a value's canonical copy once no unique.Handle to it is left,
// and callers keep only the string, so every garbage collection emptied the table and
// each value was inserted again, with a weak pointer and a cleanup, at several times
// the cost of a lookup.
package intern

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// MaxLen is the longest string String interns. Longer strings are rarely shared, and
// rarely small enough for sharing to pay for the lookup.
const MaxLen = 64

// TableSize is the number of canonical strings the table holds.
const TableSize = 1 << tableBits

const tableBits = 14

var (
	seed  = maphash.MakeSeed()
	table [TableSize]atomic.Pointer[byte]
)

// A slot points at an entry: one allocation holding the text's length in its first
// byte (MaxLen fits) and the text after it, so a lookup reads the slot, then one
// block, rather than a string header and then its bytes.

// entryText returns the text of the entry at e.
func entryText(e *byte) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(e), 1)), int(*e))
}

// newEntry returns an entry holding s, at most MaxLen bytes long.
func newEntry(s string) *byte {
	b := make([]byte, 1+len(s))
	b[0] = byte(len(s))
	copy(b[1:], s)
	return &b[0]
}

// String returns a string equal to s whose memory is shared with the other results of
// String for the same text, when s is at most MaxLen bytes long; s itself otherwise.
// It is safe for concurrent use.
func String(s string) string {
	if s == "" || len(s) > MaxLen {
		return s
	}
	first, second, e, ok := lookup(maphash.String(seed, s), s)
	if ok {
		return entryText(e)
	}
	// s may be a slice of a larger buffer: the table keeps a copy of its own.
	return store(first, second, e, newEntry(s))
}

// Bytes returns String(string(b)) without converting b first: when the text is in the
// table, Bytes allocates nothing, where the caller's conversion alone would allocate. A
// text over MaxLen bytes is copied as string(b) would.
func Bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > MaxLen {
		return string(b)
	}
	s := unsafe.String(unsafe.SliceData(b), len(b))
	first, second, e, ok := lookup(maphash.Bytes(seed, b), s)
	if ok {
		return entryText(e)
	}
	return store(first, second, e, newEntry(s))
}

// Concat returns String(a + b) without building a + b first when it is at most MaxLen
// bytes long: then, when the text is in the table, Concat allocates nothing. Callers
// print names such as a field's path ("traits." + key) for every message that has it.
func Concat(a, b string) string {
	if len(a)+len(b) > MaxLen {
		return a + b
	}
	var buf [MaxLen]byte
	return Bytes(append(append(buf[:0], a...), b...))
}

// lookup finds text s, whose hash is h, in its pair of slots. It returns the pair, the
// first slot's entry and whether that entry, or the second one then returned instead,
// holds s.
func lookup(h uint64, s string) (first, second *atomic.Pointer[byte], e *byte, ok bool) {
	i := h & (TableSize - 1)
	first, second = &table[i], &table[i^1]
	e = first.Load()
	if e != nil && entryText(e) == s {
		return first, second, e, true
	}
	if f := second.Load(); f != nil && entryText(f) == s {
		return first, second, f, true
	}
	return first, second, e, false
}

// store puts entry e in the first slot of its pair, moving the first slot's entry (old)
// to the second: a pair keeps the two most recent texts, so two common values sharing a
// pair do not evict each other on every call. It returns e's text.
func store(first, second *atomic.Pointer[byte], old, e *byte) string {
	if old != nil {
		second.Store(old)
	}
	first.Store(e)
	return entryText(e)
}
