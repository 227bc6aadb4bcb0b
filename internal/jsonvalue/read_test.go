package jsonvalue

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindOf(t *testing.T) {
	for raw, want := range map[string]Kind{
		`{}`: KindObject, `[]`: KindArray, `"x"`: KindString, `true`: KindBool, `false`: KindBool,
		`null`: KindNull, `-1`: KindNumber, `0`: KindNumber, ``: KindInvalid, `x`: KindInvalid,
	} {
		assert.Equal(t, want, KindOf([]byte(raw)), raw)
	}
	assert.Equal(t, "object", KindObject.String())
	assert.Equal(t, "invalid", Kind(99).String())
}

func TestString(t *testing.T) {
	ok := map[string]string{
		`""`:                    "",
		`"rebecca@example.com"`: "rebecca@example.com",
		`"a\"b\\c\/d"`:          `a"b\c/d`,
		`"\u00e9\ud83d\ude00"`:  "é😀",
		`"\ud800"`:              "\ufffd",
		`"tab\there"`:           "tab\there",
	}
	for raw, want := range ok {
		got, isString := String([]byte(raw))
		assert.True(t, isString, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{``, `"`, `"abc`, `abc`, `1`, `null`, ` "a"`, `"a" `, `"a"b"`, "\"\xff\"", `"\x"`} {
		_, isString := String([]byte(raw))
		assert.False(t, isString, raw)
	}
}

// TestText_RuleD3: identifiers as strings or numbers, digit for digit.
func TestText_RuleD3(t *testing.T) {
	for raw, want := range map[string]string{
		`"92980cfccc067"`:      "92980cfccc067",
		`123456789012345678`:   "123456789012345678",
		`12345678901234567890`: "12345678901234567890",
		`-7`:                   "-7",
		`1.50`:                 "1.50",
		`1e3`:                  "1e3",
	} {
		got, ok := Text([]byte(raw))
		assert.True(t, ok, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{`null`, `true`, `{}`, `[]`, `01`, `1.`, `-`, ``} {
		_, ok := Text([]byte(raw))
		assert.False(t, ok, raw)
	}
}

func TestEachMember(t *testing.T) {
	type kv struct{ k, v string }
	var got []kv
	err := EachMember([]byte(`{ "b" : [1, 2], "a\u0041": {"x" : null}, "c":"s" }`), func(k string, v []byte) error {
		got = append(got, kv{k, string(v)})
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []kv{{"b", `[1,2]`}, {"aA", `{"x":null}`}, {"c", `"s"`}}, got)

	stop := errors.New("stop")
	n := 0
	err = EachMember([]byte(`{"a":1,"b":2}`), func(string, []byte) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)

	assert.ErrorIs(t, EachMember([]byte(`[1]`), func(string, []byte) error { return nil }), ErrSyntax)
	assert.ErrorIs(t, EachMember([]byte(`{"a":1,"a":2}`), func(string, []byte) error { return nil }), ErrDuplicateKey)
	assert.ErrorIs(t, EachMember([]byte(`{"a":`), func(string, []byte) error { return nil }), ErrSyntax)
}

func TestIter_refusesNonCompactInput(t *testing.T) {
	for _, in := range []string{`{"a" :1}`, `{"a":1 }`, `[1 ,2]`, `{a:1}`, `{"a":1`, `[`, `x`, `{"a":"1}`, `{"a":}`} {
		it := NewIter([]byte(in), 0)
		for it.Next() {
		}
		assert.Error(t, it.Err(), in)
	}
	it := NewIter([]byte(`xx[1,[2,3],{"a":"]"}]yy`), 2)
	var vals []string
	for it.Next() {
		vals = append(vals, string(it.ValueBytes()))
	}
	require.NoError(t, it.Err())
	assert.Equal(t, []string{`1`, `[2,3]`, `{"a":"]"}`}, vals)
	assert.Equal(t, 21, it.End())
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          `"plain"`,
		`q"b\`:           `"q\"b\\"`,
		"\n\r\t\x01\x7f": `"\n\r\t\u0001` + "\x7f" + `"`,
		"é😀<>&":          `"é😀<>&"`,
		"bad\xffutf8":    `"bad` + "\ufffd" + `utf8"`,
	} {
		got := AppendString(nil, in)
		assert.Equal(t, want, string(got), strconv.Quote(in))
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
	}
}

func TestAppendCanonical(t *testing.T) {
	a, err := AppendCanonical(nil, []byte(`{ "b": {"y":1,"x":[ "\u0041", 2.50 ]}, "a": "\/" }`))
	require.NoError(t, err)
	b, err := AppendCanonical(nil, []byte(`{"a":"/","b":{"x":["A",2.50],"y":1}}`))
	require.NoError(t, err)
	assert.Equal(t, `{"a":"/","b":{"x":["A",2.50],"y":1}}`, string(a))
	assert.Equal(t, a, b)
	c, err := AppendCanonical(nil, []byte(`{"a":"/","b":{"x":["A",2.5],"y":1}}`))
	require.NoError(t, err)
	assert.NotEqual(t, a, c, "numbers are kept as written")
	_, err = AppendCanonical(nil, []byte(`{"a":1,"a":2}`))
	assert.ErrorIs(t, err, ErrDuplicateKey)
}

// FuzzReaders: the readers never panic and agree with encoding/json where both apply.
func FuzzReaders(f *testing.F) {
	for _, s := range []string{`"x"`, `"\u00e9"`, `12`, `"true"`, `"23.00"`, `-0`, `"\ud83d\ude00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if s, ok := String(raw); ok {
			var want string
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("String accepted %q, encoding/json: %v", raw, err)
			}
			if s != want {
				t.Fatalf("String(%q) = %q, encoding/json %q", raw, s, want)
			}
			back, ok := String(AppendString(nil, s))
			if !ok || back != s {
				t.Fatalf("AppendString does not round-trip %q", s)
			}
		}
		if s, ok := Text(raw); ok && KindOf(raw) == KindNumber && s != string(raw) {
			t.Fatalf("Text(%q) = %q", raw, s)
		}
		var sc Scanner
		if c, err := sc.Compact(nil, raw); err == nil && sc.Problem() == nil && KindOf(c) == KindObject {
			var want map[string]json.RawMessage
			if err := json.Unmarshal(c, &want); err != nil {
				t.Fatalf("encoding/json refuses %q: %v", c, err)
			}
			got := map[string]json.RawMessage{}
			if !Members(c, func(key, value []byte) {
				k, ok := String(key)
				if !ok {
					t.Fatalf("Members(%q) gave the key %q, not a JSON string", c, key)
				}
				got[k] = value
			}) {
				t.Fatalf("Members refuses the compact object %q", c)
			}
			if len(got) != len(want) {
				t.Fatalf("Members(%q) found %d members, encoding/json %d", c, len(got), len(want))
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Fatalf("Members(%q): %q is %q, encoding/json %q", c, k, got[k], v)
				}
			}
		}
		_, _ = AppendCanonical(nil, raw)
	})
}
