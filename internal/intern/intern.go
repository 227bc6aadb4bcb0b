// Package intern shares the memory of short strings that many contacts hold alike:
// first names, cities, countries, genders, consent texts and sources, custom values such
// as plan names. A million contacts that all say "US" then hold one "US".
//
// It uses the standard library's unique package. Interning is best effort: once no
// handle to a value is left, the runtime may drop its canonical copy, and the next
// String of it starts a new one; strings already returned stay valid either way.
package intern

import "unique"

// MaxLen is the longest string String interns. Longer strings are rarely shared, and
// rarely small enough for sharing to pay for the lookup.
const MaxLen = 64

// String returns a string equal to s whose memory is shared with the other results of
// String for the same text, when s is at most MaxLen bytes long; s itself otherwise.
func String(s string) string {
	if s == "" || len(s) > MaxLen {
		return s
	}
	return unique.Make(s).Value()
}
