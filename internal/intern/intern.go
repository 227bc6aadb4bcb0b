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
	"strings"
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
	table [TableSize]atomic.Pointer[string]
)

// String returns a string equal to s whose memory is shared with the other results of
// String for the same text, when s is at most MaxLen bytes long; s itself otherwise.
// It is safe for concurrent use.
func String(s string) string {
	if s == "" || len(s) > MaxLen {
		return s
	}
	first, second, p, ok := lookup(maphash.String(seed, s), s)
	if ok {
		return *p
	}
	// s may be a slice of a larger buffer: the table keeps a copy of its own.
	return store(first, second, p, strings.Clone(s))
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
	first, second, p, ok := lookup(maphash.Bytes(seed, b), unsafe.String(unsafe.SliceData(b), len(b)))
	if ok {
		return *p
	}
	return store(first, second, p, string(b))
}

// lookup finds text s, whose hash is h, in its pair of slots. It returns the pair, the
// first slot's string and whether that string, or the second one then returned
// instead, is s.
func lookup(h uint64, s string) (first, second *atomic.Pointer[string], p *string, ok bool) {
	i := h & (TableSize - 1)
	first, second = &table[i], &table[i^1]
	p = first.Load()
	if p != nil && *p == s {
		return first, second, p, true
	}
	if q := second.Load(); q != nil && *q == s {
		return first, second, q, true
	}
	return first, second, p, false
}

// store puts c, a string of its own, in the first slot of its pair, moving the first
// slot's string (old) to the second: a pair keeps the two most recent texts, so two
// common values sharing a pair do not evict each other on every call.
func store(first, second *atomic.Pointer[string], old *string, c string) string {
	if old != nil {
		second.Store(old)
	}
	first.Store(&c)
	return c
}
