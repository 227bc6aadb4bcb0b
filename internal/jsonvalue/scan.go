package jsonvalue

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Default limits of a zero [Scanner].
const (
	// DefaultMaxDepth is the deepest nesting of objects and arrays accepted: the
	// outermost container is level 1.
	DefaultMaxDepth = 64
	// DefaultMaxNumberLength is the longest number literal accepted, in bytes. Real
	// numbers are at most a few dozen characters; longer ones only cost whoever parses
	// them later.
	DefaultMaxNumberLength = 128
)

// The error categories. Every [*Error] unwraps to one of them.
var (
	// ErrSyntax: the input is not one valid JSON value (including invalid UTF-8, NaN or
	// Infinity, and content after the value).
	ErrSyntax = errors.New("jsonvalue: syntax error")
	// ErrDepth: objects and arrays nested deeper than the limit.
	ErrDepth = errors.New("jsonvalue: nested too deep")
	// ErrDuplicateKey: an object with the same key twice, compared after unescaping.
	ErrDuplicateKey = errors.New("jsonvalue: duplicate key")
	// ErrNumberLength: a number literal longer than the limit.
	ErrNumberLength = errors.New("jsonvalue: number too long")
)

// Error is a problem found at a byte offset of the input. It never quotes more than the
// single offending character, so it is safe to log whatever the input held.
type Error struct {
	Offset int    // byte offset in the scanned input
	Err    error  // ErrSyntax, ErrDepth, ErrDuplicateKey or ErrNumberLength
	Reason string // what is wrong, for people
}

// Error describes the problem without quoting the input.
func (e *Error) Error() string {
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns the error's category.
func (e *Error) Unwrap() error { return e.Err }

// Scanner validates and compacts JSON values. The zero Scanner applies the default
// limits. A Scanner keeps scratch space between calls, so reusing one avoids
// allocations; it is not safe for concurrent use.
type Scanner struct {
	// MaxDepth is the deepest nesting accepted; 0 or less means DefaultMaxDepth.
	MaxDepth int
	// MaxNumberLength is the longest number literal accepted, in bytes; 0 or less means
	// DefaultMaxNumberLength.
	MaxNumberLength int

	stack   []frame  // open containers
	keys    []keyRef // keys of the open objects, for duplicate detection
	arena   []byte   // unescaped keys
	sets    []map[string]struct{}
	runs    []run       // where Compact dropped whitespace
	root    []Span      // members or elements of the top-level value, from Compact
	nested  []Span      // members of the objects among them, from Compact (see Nested)
	inRoot  []nestRange // for each root span, its members in nested
	depth   int
	problem error
	st      state // the scan in progress, kept here so it needs no allocation
}

type frame struct {
	obj     bool
	keyBase int // index in keys of this object's first key
	set     int // index in sets + 1 once the object has many keys; 0 before
	// seen has bit keyBit(k) set for every key k of the object so far: a key whose
	// bit is clear cannot repeat one, and is not compared with them (most keys of an
	// object differ in length or ends, and a Segment message's objects are
	// read key by key: the comparisons were 3% of a message's instructions).
	seen uint64
}

// keyBit is a bit of frame.seen for the key k: from its length and its first and last
// bytes, which tell most keys of one object apart.
func keyBit(k []byte) uint64 {
	h := uint(len(k))
	if len(k) > 0 {
		h = h*31 + uint(k[0])*7 + uint(k[len(k)-1])
	}
	return 1 << (h & 63)
}

type keyRef struct {
	start, end int
	inArena    bool
}

// Span locates one member of the top-level object, or one element of the top-level
// array, in the output of [Scanner.Compact]: positions count from the start of what
// that call appended.
type Span struct {
	KeyStart, KeyEnd int  // the key's content, between its quotes; zero for an element
	KeyEscaped       bool // whether the key holds escapes
	Start, End       int  // the value
}

// nestRange is a range of Scanner.nested.
type nestRange struct{ start, end int }

// run records that output position out corresponds to input position in.
type run struct{ out, in int }

// An object switches from comparing each new key with all earlier ones to a map once it
// has this many keys.
const linearKeys = 32

// Compact appends to dst the value in src with insignificant whitespace removed, after
// checking that src holds exactly one JSON value (surrounding whitespace allowed).
//
// A syntax error or a nesting deeper than MaxDepth stops the scan: Compact returns an
// [*Error] and dst holds a partial copy. A duplicate key or an over-long number does not
// stop it: the value is compacted whole and the first such problem is kept for
// [Scanner.Problem].
func (s *Scanner) Compact(dst, src []byte) ([]byte, error) {
	st := s.begin(src, dst, true)
	err := st.run()
	dst = st.dst
	s.finish()
	return dst, err
}

// CompactShared is [Scanner.Compact] without the copy when there is nothing to remove:
// when src holds one JSON value with no insignificant whitespace at all, it returns src
// itself (capacity cut to its length) and shared=true, leaving dst alone; otherwise it
// returns dst with the compacted value appended, as Compact does, and shared=false.
// Either way the positions of [Scanner.Root], [Scanner.Nested] and
// [Scanner.InputOffset] count from the start of the value. NDJSON lines as Segment
// exports them are compact already: their one pass validates and indexes them in place.
//
// On an error, out is as Compact's would be and shared is false. A caller that keeps out
// must not write to it when shared is true.
func (s *Scanner) CompactShared(dst, src []byte) (out []byte, shared bool, err error) {
	st := s.begin(src, dst, true)
	st.share = true
	err = st.run()
	out, shared = st.dst, st.shared
	if shared {
		out = src[:len(src):len(src)]
	}
	s.finish()
	return out, shared, err
}

// Root returns the members of the top-level object, or the elements of the top-level
// array, that the last Compact wrote, so a caller can reach them without walking the
// output again. It is empty for a scalar or after Check. The slice is reused by the
// next scan.
func (s *Scanner) Root() []Span { return s.root }

// Nested returns the members of the value of Root()[i] when the top-level value is an
// object and that value is an object too, so that a caller can read a message's traits
// or properties without walking them again; positions count as Root's do. It is empty
// for any other value (an item of a top-level array included) and for an empty
// object. The slice is reused by the next scan.
func (s *Scanner) Nested(i int) []Span {
	r := s.inRoot[i]
	return s.nested[r.start:r.end:r.end]
}

// Check reports the first problem of any kind in src: a syntax error, a nesting deeper
// than MaxDepth, a duplicate key or an over-long number.
func (s *Scanner) Check(src []byte) error {
	st := s.begin(src, nil, false)
	err := st.run()
	s.finish()
	if err != nil {
		return err
	}
	return s.problem
}

// Problem returns the first duplicate key or over-long number met by the last call to
// Compact or Check, or nil.
func (s *Scanner) Problem() error { return s.problem }

// Depth returns the deepest nesting the last scan reached: 0 for a scalar, 1 for an
// object or array holding only scalars.
func (s *Scanner) Depth() int { return s.depth }

// InputOffset maps a byte offset in the output of the last Compact (counted from the
// start of what that call appended) to the offset of the same byte in its input.
func (s *Scanner) InputOffset(out int) int {
	lo, hi := 0, len(s.runs)
	for lo < hi { // first run with r.out > out
		m := int(uint(lo+hi) >> 1)
		if s.runs[m].out <= out {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return out
	}
	r := s.runs[lo-1]
	return out - r.out + r.in
}

func (s *Scanner) begin(src, dst []byte, emit bool) *state {
	// Keep scratch space bounded: a hostile input may have grown it.
	if cap(s.arena) > 64<<10 {
		s.arena = nil
	}
	if cap(s.keys) > 4096 {
		s.keys = nil
	}
	if cap(s.runs) > 4096 {
		s.runs = nil
	}
	if cap(s.root) > 4096 {
		s.root = nil
	}
	if cap(s.nested) > 4096 {
		s.nested = nil
	}
	if cap(s.inRoot) > 4096 {
		s.inRoot = nil
	}
	s.root = s.root[:0]
	s.nested = s.nested[:0]
	s.inRoot = s.inRoot[:0]
	s.stack = s.stack[:0]
	s.keys = s.keys[:0]
	s.arena = s.arena[:0]
	s.runs = s.runs[:0]
	s.depth = 0
	s.problem = nil
	maxDepth, maxNum := s.MaxDepth, s.MaxNumberLength
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if maxNum <= 0 {
		maxNum = DefaultMaxNumberLength
	}
	s.st = state{s: s, src: src, dst: dst, base: len(dst), emit: emit, maxDepth: maxDepth, maxNum: maxNum}
	return &s.st
}

func (s *Scanner) finish() {
	s.st = state{}             // keep no reference to the input
	for i, m := range s.sets { // left open by an error
		s.sets[i] = dropLarge(m)
	}
	s.sets = s.sets[:0]
}

// dropLarge empties a key set for reuse, or drops it when a hostile input made it large.
func dropLarge(m map[string]struct{}) map[string]struct{} {
	if len(m) > 256 {
		return nil
	}
	clear(m)
	return m
}

// state is one scan in progress.
type state struct {
	s        *Scanner
	src, dst []byte
	base     int  // len(dst) when the scan began
	flush    int  // first input byte not yet copied to dst
	emit     bool // copy to dst
	share    bool // CompactShared: src may be the output
	shared   bool // the scan ended with src as the output
	maxDepth int
	maxNum   int
	rootOpen bool // a member or element of the top-level value is being read
	cur      Span
	nestOpen bool // a member of an object among those is being read
	cur2     Span
	nestFrom int // len(nested) when the current root value began
}

// out returns the output position of input position i (not before flush).
func (st *state) out(i int) int { return len(st.dst) - st.base + i - st.flush }

func (st *state) fail(i int, reason string) error {
	return &Error{Offset: i, Err: ErrSyntax, Reason: reason}
}

func (st *state) note(err error) {
	if st.s.problem == nil {
		st.s.problem = err
	}
}

// ws skips whitespace at i, copying what precedes it to dst when compacting. It is
// small enough to be inlined: compact input, the common case, never calls wsRun.
func (st *state) ws(i int) int {
	if i >= len(st.src) || st.src[i] > ' ' {
		return i
	}
	return st.wsRun(i)
}

// wsRun is ws where src[i] may be whitespace.
func (st *state) wsRun(i int) int {
	j := i
	for j < len(st.src) {
		c := st.src[j]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		j++
	}
	if j > i && st.emit {
		st.dst = append(st.dst, st.src[st.flush:i]...)
		st.flush = j
		st.s.runs = append(st.s.runs, run{out: len(st.dst) - st.base, in: j})
	}
	return j
}

func (st *state) run() error {
	src := st.src
	n := len(src)
	s := st.s
	i := st.ws(0)
	for {
		// A value starts at i.
		if st.emit {
			switch {
			case len(s.stack) == 1:
				st.cur.Start, st.rootOpen = st.out(i), true
				st.nestFrom = len(s.nested)
			case len(s.stack) == 2 && s.stack[0].obj && s.stack[1].obj:
				// Members of an object member of the top-level object: a message's
				// traits or properties. Those of an array's items are not kept (a
				// batch's, thousands of them, cost more to keep than to walk).
				st.cur2.Start, st.nestOpen = st.out(i), true
			}
		}
		if i >= n {
			return st.fail(i, "unexpected end of input, looking for a value")
		}
		switch c := src[i]; {
		case c == '{' || c == '[':
			if len(s.stack) >= st.maxDepth {
				return &Error{Offset: i, Err: ErrDepth, Reason: "more than " + strconv.Itoa(st.maxDepth) + " levels"}
			}
			s.stack = append(s.stack, frame{obj: c == '{', keyBase: len(s.keys)})
			if len(s.stack) > s.depth {
				s.depth = len(s.stack)
			}
			i = st.ws(i + 1)
			if i < n && src[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				st.pop()
				i++
				break
			}
			if c == '{' {
				var err error
				if i, err = st.key(i); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			end, _, err := st.str(i)
			if err != nil {
				return err
			}
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end, err := st.num(i)
			if err != nil {
				return err
			}
			i = end
		case c == 't':
			if !bytes.HasPrefix(src[i:], litTrue) {
				return st.literalError(i, litTrue)
			}
			i += 4
		case c == 'f':
			if !bytes.HasPrefix(src[i:], litFalse) {
				return st.literalError(i, litFalse)
			}
			i += 5
		case c == 'n':
			if !bytes.HasPrefix(src[i:], litNull) {
				return st.literalError(i, litNull)
			}
			i += 4
		default:
			return st.fail(i, "invalid character "+quoteByte(c)+" looking for a value")
		}
		// A value ended at i: close containers until one wants another value.
		for {
			if st.nestOpen && len(s.stack) == 2 {
				st.cur2.End, st.nestOpen = st.out(i), false
				s.nested = append(s.nested, st.cur2)
				st.cur2 = Span{}
			}
			if st.rootOpen && len(s.stack) == 1 {
				st.cur.End, st.rootOpen = st.out(i), false
				s.root = append(s.root, st.cur)
				s.inRoot = append(s.inRoot, nestRange{st.nestFrom, len(s.nested)})
				st.cur = Span{}
			}
			i = st.ws(i)
			if len(s.stack) == 0 {
				if i != n {
					return st.fail(i, "invalid character "+quoteByte(src[i])+" after the top-level value")
				}
				if st.emit {
					if st.share && st.flush == 0 && len(s.runs) == 0 {
						st.shared = true // nothing was removed: src is the output
						return nil
					}
					st.dst = append(st.dst, src[st.flush:n]...)
				}
				return nil
			}
			if i >= n {
				return st.fail(i, "unexpected end of input")
			}
			top := &s.stack[len(s.stack)-1]
			c := src[i]
			if c == ',' {
				i = st.ws(i + 1)
				if top.obj {
					var err error
					if i, err = st.key(i); err != nil {
						return err
					}
				}
				break
			}
			if (top.obj && c == '}') || (!top.obj && c == ']') {
				st.pop()
				i++
				continue
			}
			if top.obj {
				return st.fail(i, "invalid character "+quoteByte(c)+" after object key:value pair")
			}
			return st.fail(i, "invalid character "+quoteByte(c)+" after array element")
		}
	}
}

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
	litNull  = []byte("null")
)

func (st *state) literalError(i int, lit []byte) error {
	j := 0
	for j < len(lit) && i+j < len(st.src) && st.src[i+j] == lit[j] {
		j++
	}
	if i+j >= len(st.src) {
		return st.fail(i+j, "unexpected end of input in literal "+string(lit))
	}
	return st.fail(i+j, "invalid character "+quoteByte(st.src[i+j])+" in literal "+string(lit))
}

func (st *state) pop() {
	s := st.s
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if f.obj && len(s.keys) > f.keyBase {
		s.keys = s.keys[:f.keyBase]
	}
	if f.set > 0 {
		s.sets[f.set-1] = dropLarge(s.sets[f.set-1])
		s.sets = s.sets[:f.set-1]
	}
}

// key reads an object key at i, then the colon, and returns the position of the value.
func (st *state) key(i int) (int, error) {
	src := st.src
	if i >= len(src) {
		return i, st.fail(i, "unexpected end of input, looking for an object key")
	}
	if src[i] != '"' {
		return i, st.fail(i, "invalid character "+quoteByte(src[i])+" looking for the beginning of an object key")
	}
	end, escaped, err := st.str(i)
	if err != nil {
		return end, err
	}
	if st.s.problem == nil {
		st.checkKey(i, end, escaped)
	}
	if st.emit {
		switch len(st.s.stack) {
		case 1:
			st.cur.KeyStart, st.cur.KeyEnd, st.cur.KeyEscaped = st.out(i+1), st.out(end-1), escaped
		case 2:
			st.cur2.KeyStart, st.cur2.KeyEnd, st.cur2.KeyEscaped = st.out(i+1), st.out(end-1), escaped
		}
	}
	i = st.ws(end)
	if i >= len(src) {
		return i, st.fail(i, "unexpected end of input after an object key")
	}
	if src[i] != ':' {
		return i, st.fail(i, "invalid character "+quoteByte(src[i])+" after an object key")
	}
	return st.ws(i + 1), nil
}

// checkKey notes a duplicate when the key src[start:end] (quotes included) is already in
// the innermost object.
func (st *state) checkKey(start, end int, escaped bool) {
	s := st.s
	ref := keyRef{start: start + 1, end: end - 1}
	if escaped {
		a := len(s.arena)
		s.arena = AppendUnescaped(s.arena, st.src[start+1:end-1])
		ref = keyRef{start: a, end: len(s.arena), inArena: true}
	}
	k := st.keyBytes(ref)
	f := &s.stack[len(s.stack)-1]
	if f.set > 0 {
		set := s.sets[f.set-1]
		if _, dup := set[string(k)]; dup {
			st.note(&Error{Offset: start, Err: ErrDuplicateKey, Reason: "key repeated in the same object"})
			return
		}
		set[string(k)] = struct{}{}
		return
	}
	if bit := keyBit(k); f.seen&bit == 0 {
		f.seen |= bit
	} else {
		for _, r := range s.keys[f.keyBase:] {
			if r.end-r.start == len(k) && bytes.Equal(st.keyBytes(r), k) {
				st.note(&Error{Offset: start, Err: ErrDuplicateKey, Reason: "key repeated in the same object"})
				return
			}
		}
	}
	s.keys = append(s.keys, ref)
	if len(s.keys)-f.keyBase >= linearKeys {
		if len(s.sets) < cap(s.sets) {
			s.sets = s.sets[:len(s.sets)+1]
		} else {
			s.sets = append(s.sets, nil)
		}
		set := s.sets[len(s.sets)-1]
		if set == nil {
			set = make(map[string]struct{}, 2*linearKeys)
			s.sets[len(s.sets)-1] = set
		}
		for _, r := range s.keys[f.keyBase:] {
			set[string(st.keyBytes(r))] = struct{}{}
		}
		s.keys = s.keys[:f.keyBase]
		f.set = len(s.sets)
	}
}

func (st *state) keyBytes(r keyRef) []byte {
	if r.inArena {
		return st.s.arena[r.start:r.end]
	}
	return st.src[r.start:r.end]
}

// str reads the string starting at src[i] == '"' and returns the position after its
// closing quote and whether it holds escapes.
func (st *state) str(i int) (int, bool, error) {
	src := st.src
	n := len(src)
	escaped := false
	j := i + 1
	for {
		for j+8 <= n {
			if m := specialMask(binary.LittleEndian.Uint64(src[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3 // the lowest flagged byte is a true hit
				break
			}
			j += 8
		}
		for j < n && strSafe[src[j]] {
			j++
		}
		if j >= n {
			return j, escaped, st.fail(j, "unexpected end of input in a string")
		}
		switch c := src[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= n {
				return j + 1, escaped, st.fail(j+1, "unexpected end of input in a string escape")
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := j + 2; k < j+6; k++ {
					if k >= n {
						return k, escaped, st.fail(k, "unexpected end of input in a \\u escape")
					}
					if !isHex(src[k]) {
						return k, escaped, st.fail(k, "invalid character "+quoteByte(src[k])+" in a \\u escape")
					}
				}
				j += 6
			default:
				return j + 1, escaped, st.fail(j+1, "invalid escape character "+quoteByte(src[j+1]))
			}
		case c < 0x20:
			return j, escaped, st.fail(j, "control character "+quoteByte(c)+" in a string")
		default:
			r, size := utf8.DecodeRune(src[j:])
			if r == utf8.RuneError && size == 1 {
				return j, escaped, st.fail(j, "invalid UTF-8 in a string")
			}
			j += size
		}
	}
}

// num reads the number starting at src[i] and returns the position after it.
func (st *state) num(i int) (int, error) {
	src := st.src
	n := len(src)
	j := i
	if src[j] == '-' {
		j++
	}
	switch {
	case j >= n:
		return j, st.fail(j, "unexpected end of input in a number")
	case src[j] == '0':
		j++
	case src[j] >= '1' && src[j] <= '9':
		for j < n && isDigit(src[j]) {
			j++
		}
	default:
		return j, st.fail(j, "invalid character "+quoteByte(src[j])+" in a number")
	}
	if j < n && src[j] == '.' {
		j++
		if j >= n || !isDigit(src[j]) {
			return j, st.fail(j, "want a digit after the decimal point")
		}
		for j < n && isDigit(src[j]) {
			j++
		}
	}
	if j < n && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < n && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j >= n || !isDigit(src[j]) {
			return j, st.fail(j, "want a digit in the exponent")
		}
		for j < n && isDigit(src[j]) {
			j++
		}
	}
	if j-i > st.maxNum {
		st.note(&Error{Offset: i, Err: ErrNumberLength, Reason: "number longer than " + strconv.Itoa(st.maxNum) + " bytes"})
	}
	return j, nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask flags the bytes of x that need a look inside a string (a control
// character, a quote, a backslash or a non-ASCII byte) with their high bit, and sets no
// other bit. It may flag a byte above a true hit, never miss a hit: the lowest bit set
// is always a true hit (a false one only comes from a borrow out of a true hit below
// it).
func specialMask(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x | (q-lsb)&^q | (b-lsb)&^b | x) & msb
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// strSafe marks the bytes a string can hold as they are: printable ASCII but the quote
// and the backslash.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// quoteByte shows one byte of input in an error: printable ASCII quoted, anything else
// in hex.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&15]})
}
