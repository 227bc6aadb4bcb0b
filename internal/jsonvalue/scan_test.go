package jsonvalue

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompact_removesWhitespaceOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{}`, `{}`},
		{` { "a" : 1 , "b" : [ 1 , 2 ] } `, `{"a":1,"b":[1,2]}`},
		{"{\n\t\"a b\": \" x \\n \"\r\n}", `{"a b":" x \n "}`},
		{`[]`, `[]`},
		{` [ ] `, `[]`},
		{`"x"`, `"x"`},
		{`-0.5e+10`, `-0.5e+10`},
		{`123456789012345678`, `123456789012345678`},
		{`[true,false,null]`, `[true,false,null]`},
		{`{"k":"\u00e9\ud83d\ude00"}`, `{"k":"\u00e9\ud83d\ude00"}`},
		{`{"a":{"b":{"c":[{}]}}}`, `{"a":{"b":{"c":[{}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var s Scanner
			out, err := s.Compact([]byte("prefix:"), []byte(tt.in))
			require.NoError(t, err)
			require.NoError(t, s.Problem())
			assert.Equal(t, "prefix:"+tt.want, string(out))
			assert.NoError(t, s.Check([]byte(tt.in)))
		})
	}
}

func TestCompact_refusesInvalidJSON(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int
	}{
		{"empty", ``, 0},
		{"only space", `   `, 3},
		{"NaN", `{"a":NaN}`, 5},
		{"Infinity", `{"a":Infinity}`, 5},
		{"-Infinity", `[-Infinity]`, 2},
		{"leading zero", `[01]`, 2},
		{"plus sign", `[+1]`, 1},
		{"trailing dot", `1.`, 2},
		{"bare exponent", `1e`, 2},
		{"single quotes", `{'a':1}`, 1},
		{"unquoted key", `{a:1}`, 1},
		{"trailing comma array", `[1,]`, 3},
		{"trailing comma object", `{"a":1,}`, 7},
		{"missing colon", `{"a" 1}`, 5},
		{"mismatched close", `[1}`, 2},
		{"unterminated string", `"abc`, 4},
		{"control char", "\"a\x01b\"", 2},
		{"raw newline in string", "\"a\nb\"", 2},
		{"bad escape", `"\x"`, 2},
		{"short unicode escape", `"\u12"`, 5},
		{"invalid UTF-8", "\"a\xffb\"", 2},
		{"truncated UTF-8", "\"a\xe2\x82\"", 2},
		{"overlong UTF-8", "\"\xc0\xaf\"", 1},
		{"surrogate in UTF-8", "\"\xed\xa0\x80\"", 1},
		{"two values", `{} {}`, 3},
		{"garbage after", `1 x`, 2},
		{"tru", `tru`, 3},
		{"nul", `[nulL]`, 4},
		{"comment", `{"a":1 // no`, 7},
		{"unclosed object", `{"a":1`, 6},
		{"unclosed array", `[1,2`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Scanner
			_, err := s.Compact(nil, []byte(tt.in))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.ErrorIs(t, err, ErrSyntax)
			assert.Equal(t, tt.offset, e.Offset, e.Error())
			assert.False(t, json.Valid([]byte(tt.in)) && utf8.ValidString(tt.in), "encoding/json agrees it is invalid")
		})
	}
}

func TestScanner_depth(t *testing.T) {
	s := Scanner{MaxDepth: 3}
	_, err := s.Compact(nil, []byte(`[[[1]]]`))
	require.NoError(t, err)
	assert.Equal(t, 3, s.Depth())
	_, err = s.Compact(nil, []byte(`[[[[1]]]]`))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrDepth)
	assert.Equal(t, 3, e.Offset)
	_, err = s.Compact(nil, []byte(`{"a":{"b":{"c":{}}}}`))
	assert.ErrorIs(t, err, ErrDepth)
	_, err = s.Compact(nil, []byte(`"scalar"`))
	require.NoError(t, err)
	assert.Equal(t, 0, s.Depth())
}

// TestScanner_duplicateKeys: duplicates are found at any level, after unescaping, in
// small objects and in objects large enough to switch to a map; they don't stop Compact.
func TestScanner_duplicateKeys(t *testing.T) {
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 100 {
		many.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	manyOK := many.String() + `"end":2}`
	manyDup := many.String() + `"kxxxxx":2}`

	tests := []struct {
		name, in string
		offset   int // -1: no duplicate
	}{
		{"top", `{"a":1,"b":2,"a":3}`, 13},
		{"nested", `{"a":{"x":1,"x":2}}`, 12},
		{"in array", `[{"x":1},{"x":1,"y":2,"x":3}]`, 22},
		{"escaped", `{"name":1,"n\u0061me":2}`, 10},
		{"same key in sibling objects", `[{"x":1},{"x":2}]`, -1},
		{"same key at two levels", `{"x":{"x":{"x":1}}}`, -1},
		{"large ok", manyOK, -1},
		// Keys of one length and the same first and last bytes share a bit of
		// frame.seen: the ones that differ inside are still told apart, and a repeat
		// of one after a key with another bit is still found.
		{"same bit, different keys", `{"axb":1,"ayb":2,"azb":3}`, -1},
		{"same bit, repeated", `{"axb":1,"ayb":2,"q":0,"axb":3}`, 23},
		{"empty key repeated", `{"":1,"a":2,"":3}`, 12},
		{"large dup", manyDup, len(many.String())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Scanner
			out, err := s.Compact(nil, []byte(tt.in))
			require.NoError(t, err, "a duplicate key does not stop the scan")
			assert.Equal(t, tt.in, string(out))
			if tt.offset < 0 {
				assert.NoError(t, s.Problem())
				assert.NoError(t, s.Check([]byte(tt.in)))
				return
			}
			var e *Error
			require.ErrorAs(t, s.Problem(), &e)
			assert.ErrorIs(t, e, ErrDuplicateKey)
			assert.Equal(t, tt.offset, e.Offset)
			assert.ErrorIs(t, s.Check([]byte(tt.in)), ErrDuplicateKey)
		})
	}
	// Scratch state does not leak between scans.
	var s Scanner
	require.ErrorIs(t, s.Check([]byte(manyDup)), ErrDuplicateKey)
	require.NoError(t, s.Check([]byte(manyOK)))
	require.NoError(t, s.Check([]byte(`{"kxxxxx":1}`)))
}

func TestScanner_numberLength(t *testing.T) {
	s := Scanner{MaxNumberLength: 5}
	require.NoError(t, s.Check([]byte(`[12345,-1234,1.5e9]`)))
	err := s.Check([]byte(`[1,123456]`))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrNumberLength)
	assert.Equal(t, 3, e.Offset)

	var d Scanner
	long := strings.Repeat("9", 10_000)
	out, err := d.Compact(nil, []byte(`{"n":`+long+`}`))
	require.NoError(t, err)
	assert.Len(t, out, 10_006)
	assert.ErrorIs(t, d.Problem(), ErrNumberLength)
}

func TestScanner_inputOffset(t *testing.T) {
	in := "{\n  \"a\": 1,\n  \"b\": [ 2 ]\n}"
	var s Scanner
	out, err := s.Compact(nil, []byte(in))
	require.NoError(t, err)
	require.Equal(t, `{"a":1,"b":[2]}`, string(out))
	for o := range out {
		i := s.InputOffset(o)
		assert.Equal(t, out[o], in[i], "output byte %d maps to input byte %d", o, i)
	}
}

func TestError_message(t *testing.T) {
	var s Scanner
	err := s.Check([]byte("{\"phone\":\"+19545552399\x01\"}"))
	require.Error(t, err)
	assert.Equal(t, `jsonvalue: syntax error at offset 22: control character byte 0x01 in a string`, err.Error())
	assert.NotContains(t, err.Error(), "9545552399")
	assert.True(t, errors.Is(err, ErrSyntax))
}

// TestCompact_hostile: inputs built to cost time or memory fail fast.
func TestCompact_hostile(t *testing.T) {
	var s Scanner
	deep := []byte(strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000))
	err := s.Check(deep)
	assert.ErrorIs(t, err, ErrDepth)
	allocs := testing.AllocsPerRun(5, func() { _ = s.Check(deep) })
	assert.LessOrEqual(t, allocs, 3.0, "a warm scanner refuses deep input without growing")
}

// repeatsKey reports whether an object of the valid JSON in has a key twice, by
// encoding/json's tokens: the oracle of the scanner's duplicate-key check. ok is false
// for input it cannot judge: escaped surrogates, which encoding/json may turn into the
// same U+FFFD where the bytes differ.
func repeatsKey(in []byte) (dup, ok bool) {
	if bytes.Contains(bytes.ToLower(in), []byte(`\ud`)) {
		return false, false
	}
	type frame struct {
		keys      map[string]bool
		expectKey bool
	}
	var stack []frame // nil keys: an array
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	for {
		tok, err := d.Token()
		if err != nil {
			return dup, err == io.EOF
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].keys != nil && stack[top].expectKey {
			if k, isKey := tok.(string); isKey {
				if stack[top].keys[k] {
					dup = true
				}
				stack[top].keys[k] = true
				stack[top].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, expectKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: an object around it expects its next key.
		if n := len(stack) - 1; n >= 0 && stack[n].keys != nil {
			stack[n].expectKey = true
		}
	}
}

// FuzzCompact checks the scanner against encoding/json: whatever it accepts,
// encoding/json accepts and compacts the same way; whatever encoding/json accepts, it
// accepts unless a rule of its own (UTF-8, depth, duplicate keys, number length) says
// no.
func FuzzCompact(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}],"c":"\u00e9"}`, ` [ true , false ] `, `"\ud800"`, `{"a":1,"a":2}`, `-0.0e-0`, `[[[[]]]]`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var s Scanner
		out, err := s.Compact(nil, in)
		checkShared(t, in, out, err, &s)
		valid := json.Valid(in)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrDepth) {
				t.Fatalf("unexpected category: %v", err)
			}
			if valid && errors.Is(err, ErrSyntax) && utf8.Valid(in) {
				t.Fatalf("encoding/json accepts %q, scanner says %v", in, err)
			}
			return
		}
		if !valid {
			t.Fatalf("scanner accepts %q, encoding/json does not", in)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, want.Bytes()) {
			t.Fatalf("compact %q: got %q, encoding/json %q", in, out, want.Bytes())
		}
		for o := range out {
			if i := s.InputOffset(o); i < 0 || i >= len(in) || in[i] != out[o] {
				t.Fatalf("InputOffset(%d) = %d is wrong", o, i)
			}
		}
		checkRoot(t, &s, out)
		if dup, ok := repeatsKey(in); ok {
			switch p := s.Problem(); {
			case errors.Is(p, ErrNumberLength):
				// The first problem found is the one reported.
			case dup && !errors.Is(p, ErrDuplicateKey):
				t.Fatalf("%q repeats a key in an object, scanner says %v", in, p)
			case !dup && errors.Is(p, ErrDuplicateKey):
				t.Fatalf("%q repeats no key in an object, scanner says %v", in, p)
			}
		}
		if s.Problem() == nil {
			if err := s.Check(out); err != nil {
				t.Fatalf("compact output fails Check: %v", err)
			}
			walk(t, out, 0)
		}
	})
}

// walk visits every value with Iter and checks keys are unique and values valid.
func walk(t *testing.T, c []byte, i int) {
	if c[i] != '{' && c[i] != '[' {
		return
	}
	it := NewIter(c, i)
	seen := map[string]bool{}
	for it.Next() {
		if c[i] == '{' {
			start, end, _ := it.Key()
			k := string(AppendUnescaped(nil, c[start:end]))
			if seen[k] {
				t.Fatalf("duplicate key %q passed the scanner", k)
			}
			seen[k] = true
		}
		start, end := it.Value()
		if !json.Valid(c[start:end]) {
			t.Fatalf("Iter value %q is not valid JSON", c[start:end])
		}
		walk(t, c, start)
	}
	if it.Err() != nil {
		t.Fatalf("Iter over %q: %v", c[i:], it.Err())
	}
}

// checkRoot: Root gives what an Iter over the output finds at the top level.
func checkRoot(t *testing.T, s *Scanner, out []byte) {
	var want []Span
	if len(out) > 0 && (out[0] == '{' || out[0] == '[') {
		it := NewIter(out, 0)
		for it.Next() {
			var sp Span
			if out[0] == '{' {
				sp.KeyStart, sp.KeyEnd, sp.KeyEscaped = it.Key()
			}
			sp.Start, sp.End = it.Value()
			want = append(want, sp)
		}
		if it.Err() != nil {
			t.Fatalf("Iter over %q: %v", out, it.Err())
		}
	}
	if len(want) != len(s.Root()) {
		t.Fatalf("Root of %q: %+v, Iter finds %+v", out, s.Root(), want)
	}
	for i := range want {
		if want[i] != s.Root()[i] {
			t.Fatalf("Root of %q: %+v, Iter finds %+v", out, s.Root(), want)
		}
		// Nested: the members of an object value of a top-level object, as an Iter
		// over it finds them; nothing for the items of a top-level array.
		var members []Span
		if v := want[i].Start; out[0] == '{' && out[v] == '{' {
			it := NewIter(out, v)
			for it.Next() {
				var sp Span
				sp.KeyStart, sp.KeyEnd, sp.KeyEscaped = it.Key()
				sp.Start, sp.End = it.Value()
				members = append(members, sp)
			}
		}
		if got := s.Nested(i); len(got) != len(members) || (len(got) > 0 && !slices.Equal(got, members)) {
			t.Fatalf("Nested(%d) of %q: %+v, Iter finds %+v", i, out, got, members)
		}
	}
}

func TestScanner_root(t *testing.T) {
	var s Scanner
	out, err := s.Compact([]byte("xx"), []byte(` { "a" : [ 1 , {"b":2} ] , "c\u0064" : "s" , "e":{} } `))
	require.NoError(t, err)
	require.Equal(t, `xx{"a":[1,{"b":2}],"c\u0064":"s","e":{}}`, string(out))
	assert.Equal(t, []Span{
		{KeyStart: 2, KeyEnd: 3, Start: 5, End: 16},
		{KeyStart: 18, KeyEnd: 25, KeyEscaped: true, Start: 27, End: 30},
		{KeyStart: 32, KeyEnd: 33, Start: 35, End: 37},
	}, s.Root())
	checkRoot(t, &s, out[2:])
	assert.Empty(t, s.Nested(0), "an array has no members")
	assert.Empty(t, s.Nested(2), "an empty object")

	out, err = s.Compact(nil, []byte(` { "a" : { "b" : [ {"x":1} ] , "c\u0064" : { } , "e" : "s" } , "f" : 1 } `))
	require.NoError(t, err)
	require.Equal(t, `{"a":{"b":[{"x":1}],"c\u0064":{},"e":"s"},"f":1}`, string(out))
	assert.Equal(t, []Span{
		{KeyStart: 7, KeyEnd: 8, Start: 10, End: 19},
		{KeyStart: 21, KeyEnd: 28, KeyEscaped: true, Start: 30, End: 32},
		{KeyStart: 34, KeyEnd: 35, Start: 37, End: 40},
	}, s.Nested(0))
	assert.Empty(t, s.Nested(1))
	checkRoot(t, &s, out)

	out, err = s.Compact(nil, []byte(`[ 1, "x" ,[ ] ]`))
	require.NoError(t, err)
	assert.Equal(t, []Span{{Start: 1, End: 2}, {Start: 3, End: 6}, {Start: 7, End: 9}}, s.Root())
	checkRoot(t, &s, out)
	_, err = s.Compact(nil, []byte(`[{"a":1},{"b":{"c":2}}]`))
	require.NoError(t, err)
	assert.Empty(t, s.Nested(0), "the members of a top-level array's items are not kept")
	assert.Empty(t, s.Nested(1))
	_, err = s.Compact(nil, []byte(`"scalar"`))
	require.NoError(t, err)
	assert.Empty(t, s.Root())
}

// TestSpecial checks the 8-byte string test against the byte table for every byte in
// every lane.
func TestSpecial(t *testing.T) {
	for c := 0; c < 256; c++ {
		for lane := range 8 {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[lane] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			if (specialMask(x) != 0) != !strSafe[c] {
				t.Fatalf("specialMask(byte %#x in lane %d) = %#x", c, lane, specialMask(x))
			}
			if quoteOrBackslash(x) != (c == '"' || c == '\\') {
				t.Fatalf("quoteOrBackslash(byte %#x in lane %d) = %v", c, lane, quoteOrBackslash(x))
			}
		}
	}
}

// checkShared: CompactShared finds what Compact found (out, err and s from Compact over
// in), sharing in exactly when it is compact already.
func checkShared(t *testing.T, in, out []byte, err error, s *Scanner) {
	t.Helper()
	var s2 Scanner
	prefix := []byte("xy")
	got, shared, err2 := s2.CompactShared(prefix, in)
	if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
		t.Fatalf("CompactShared(%q): error %v, Compact's %v", in, err2, err)
	}
	if err != nil {
		if shared {
			t.Fatalf("CompactShared(%q) failed but says shared", in)
		}
		return
	}
	if shared != bytes.Equal(in, out) {
		t.Fatalf("CompactShared(%q): shared = %v, compact output %q", in, shared, out)
	}
	value := got
	if shared {
		if len(in) > 0 && &got[0] != &in[0] {
			t.Fatalf("CompactShared(%q): shared but not the input", in)
		}
	} else {
		if !bytes.Equal(got[:len(prefix)], []byte("xy")) {
			t.Fatalf("CompactShared(%q) lost the prefix of dst: %q", in, got)
		}
		value = got[len(prefix):]
	}
	if !bytes.Equal(value, out) {
		t.Fatalf("CompactShared(%q) = %q, Compact %q", in, value, out)
	}
	if !slices.Equal(s.Root(), s2.Root()) || fmt.Sprint(s.Problem()) != fmt.Sprint(s2.Problem()) || s.Depth() != s2.Depth() {
		t.Fatalf("CompactShared(%q): root %+v problem %v, Compact's %+v %v", in, s2.Root(), s2.Problem(), s.Root(), s.Problem())
	}
	for i := range s.Root() {
		if !slices.Equal(s.Nested(i), s2.Nested(i)) {
			t.Fatalf("CompactShared(%q): Nested(%d) %+v, Compact's %+v", in, i, s2.Nested(i), s.Nested(i))
		}
	}
	for o := range out {
		if s.InputOffset(o) != s2.InputOffset(o) {
			t.Fatalf("CompactShared(%q): InputOffset(%d) = %d, Compact's %d", in, o, s2.InputOffset(o), s.InputOffset(o))
		}
	}
}

func TestCompactShared(t *testing.T) {
	for _, in := range []string{
		`{"a":[1,2,{"b":null}],"c":"\u00e9","d":{"e":"f g"}}`, // compact: shared
		`{"a": 1}`, ` {"a":1}`, "{\"a\":1}\r", `[1, 2]`, // whitespace: copied
		`"x"`, `12`, `{"a":1,"a":2}`, `{"a":1`, `{"a":01}`, "\"\xff\"", // scalars, problems, errors
	} {
		var s Scanner
		out, err := s.Compact(nil, []byte(in))
		checkShared(t, []byte(in), out, err, &s)
	}
	var s Scanner
	in := []byte(`{"a":{"b":1}}`)
	out, shared, err := s.CompactShared(make([]byte, 0, 64), in)
	require.NoError(t, err)
	assert.True(t, shared)
	assert.Equal(t, len(in), cap(out), "the shared output's capacity is cut to its length")
	assert.Equal(t, []Span{{KeyStart: 2, KeyEnd: 3, Start: 5, End: 12}}, s.Root())
	_, shared, err = s.CompactShared(nil, []byte(`{"a": {"b":1}}`))
	require.NoError(t, err)
	assert.False(t, shared)
}

// TestSpecialMask: the lowest byte specialMask flags is the first byte of the word a
// string cannot hold as it is, which str jumps to; words with none have no flag.
func TestSpecialMask(t *testing.T) {
	picks := []byte{'a', ' ', '~', '"', '\\', 0, 0x1f, 0x7f, 0x80, 0xc3, 0xff, '!', 0x21, 0x5b, 0x5d}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = picks[r.IntN(len(picks))]
		}
		first := 8
		for i, c := range b {
			if !strSafe[c] {
				first = i
				break
			}
		}
		m := specialMask(binary.LittleEndian.Uint64(b[:]))
		if got := bits.TrailingZeros64(m) >> 3; got != first {
			t.Fatalf("specialMask(%q): first flagged byte %d, want %d", b, got, first)
		}
		if m&^msb != 0 {
			t.Fatalf("specialMask(%q) = %#x has bits outside the high ones", b, m)
		}
	}
}
