package jsonvalue

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// errStructure is what an Iter reports for input that is not compact JSON.
var errStructure = errors.New("jsonvalue: not compact JSON")

// Iter walks the members of one object, or the elements of one array, in compact JSON
// (no whitespace outside strings), such as the output of [Scanner.Compact]. It reports
// byte positions in the data it was given, so a caller can slice keys and values out of
// a buffer it already holds.
//
// Iter checks the structure it walks (brackets, quotes, colons and commas) and never
// panics, but it does not validate what it skips: check untrusted input with a
// [Scanner] first.
type Iter struct {
	data     []byte
	pos      int // next byte to read
	obj      bool
	started  bool
	done     bool
	err      error
	ks, ke   int
	kEscaped bool
	vs, ve   int
}

// NewIter returns an Iter over the object or array that starts at data[pos].
func NewIter(data []byte, pos int) Iter {
	it := Iter{data: data, pos: pos}
	if pos < 0 || pos >= len(data) || (data[pos] != '{' && data[pos] != '[') {
		it.err = errStructure
		return it
	}
	it.obj = data[pos] == '{'
	it.pos = pos + 1
	return it
}

// Next advances to the next member or element and reports whether there is one. After
// it returns false, Err tells whether the walk ended cleanly and End where.
func (it *Iter) Next() bool {
	if it.done || it.err != nil {
		return false
	}
	d, i := it.data, it.pos
	closer := byte(']')
	if it.obj {
		closer = '}'
	}
	if i >= len(d) {
		it.err = errStructure
		return false
	}
	if d[i] == closer {
		it.done = true
		it.pos = i + 1
		return false
	}
	if it.started {
		if d[i] != ',' {
			it.err = errStructure
			return false
		}
		i++
	}
	it.started = true
	if it.obj {
		if i >= len(d) || d[i] != '"' {
			it.err = errStructure
			return false
		}
		end := skipString(d, i)
		if end < 0 || end >= len(d) || d[end] != ':' {
			it.err = errStructure
			return false
		}
		it.ks, it.ke = i+1, end-1
		it.kEscaped = bytes.IndexByte(d[i+1:end-1], '\\') >= 0
		i = end + 1
	}
	end := skipValue(d, i)
	if end < 0 {
		it.err = errStructure
		return false
	}
	it.vs, it.ve = i, end
	it.pos = end
	return true
}

// Key returns the position of the current member's key content (between its quotes)
// and whether it holds escapes (resolve them with [AppendUnescaped]).
func (it *Iter) Key() (start, end int, escaped bool) { return it.ks, it.ke, it.kEscaped }

// KeyBytes returns the current member's key content, escapes unresolved.
func (it *Iter) KeyBytes() []byte { return it.data[it.ks:it.ke] }

// Value returns the position of the current member's value or the current element.
func (it *Iter) Value() (start, end int) { return it.vs, it.ve }

// ValueBytes returns the current value, its capacity cut to its length so appending to
// it cannot overwrite what follows.
func (it *Iter) ValueBytes() []byte { return it.data[it.vs:it.ve:it.ve] }

// Err returns nil when the walk ended at the closing bracket, or an error when the data
// was not compact JSON.
func (it *Iter) Err() error { return it.err }

// End returns the position just after the closing bracket, once Next has returned false
// without error.
func (it *Iter) End() int { return it.pos }

// skipString returns the position after the string starting at d[i] == '"', or -1.
func skipString(d []byte, i int) int {
	j := i + 1
	for {
		for j+8 <= len(d) && !quoteOrBackslash(binary.LittleEndian.Uint64(d[j:])) {
			j += 8
		}
		for j < len(d) && d[j] != '"' && d[j] != '\\' {
			j++
		}
		switch {
		case j >= len(d):
			return -1
		case d[j] == '"':
			return j + 1
		}
		j += 2 // an escape: the next byte cannot end the string
	}
}

// quoteOrBackslash reports whether any of the 8 bytes in x may be a quote or a
// backslash (never false for one).
func quoteOrBackslash(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(b-lsb)&^b)&msb != 0
}

// skipValue returns the position after the compact value starting at d[i], or -1.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); {
			switch d[j] {
			case '"':
				j = skipString(d, j)
				if j < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return -1
	case ',', ':', '}', ']':
		return -1
	default:
		j := i
		for j < len(d) {
			if c := d[j]; c <= ' ' || c == ',' || c == '}' || c == ']' || c == ':' || c == '"' || c == '{' || c == '[' {
				break
			}
			j++
		}
		return j
	}
}
