package jsonvalue

import (
	"sync"
)

// Kind is the kind of a JSON value.
type Kind uint8

// The JSON kinds. KindInvalid is the kind of an empty or malformed value.
const (
	KindInvalid Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindObject
	KindArray
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "object", "array"}

// String returns the kind's name, such as "object".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// KindOf returns the kind of the JSON value raw from its first byte. It does not
// validate the rest: use it on values a [Scanner] has checked.
func KindOf(raw []byte) Kind {
	if len(raw) == 0 {
		return KindInvalid
	}
	switch c := raw[0]; {
	case c == '{':
		return KindObject
	case c == '[':
		return KindArray
	case c == '"':
		return KindString
	case c == 't' || c == 'f':
		return KindBool
	case c == 'n':
		return KindNull
	case c == '-' || (c >= '0' && c <= '9'):
		return KindNumber
	}
	return KindInvalid
}

// IsNull reports whether raw is the JSON literal null.
func IsNull(raw []byte) bool { return string(raw) == "null" }

// IsEmptyArray reports whether raw is an empty JSON array, "[]", with or without
// whitespace inside. PHP's json_encode writes an empty object so, and Segment's own
// partner payloads carry it where an object belongs (issue 12).
func IsEmptyArray(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// String returns the value of raw when it is exactly one JSON string (no surrounding
// whitespace), with its escapes resolved.
func String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	st := state{src: raw}
	end, escaped, err := st.str(0)
	if err != nil || end != len(raw) {
		return "", false
	}
	content := raw[1 : len(raw)-1]
	if !escaped {
		return string(content), true
	}
	return string(AppendUnescaped(make([]byte, 0, len(content)), content)), true
}

// Content returns the content of raw, when it is exactly one JSON string, between its
// quotes and with its escapes unresolved, and whether it holds escapes. It is String
// without the allocation: a caller can compare or intern the content of a string
// without escapes as it is.
func Content(raw []byte) (content []byte, escaped, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false, false
	}
	st := state{src: raw}
	end, escaped, err := st.str(0)
	if err != nil || end != len(raw) {
		return nil, false, false
	}
	return raw[1 : len(raw)-1], escaped, true
}

// AppendUnquoted appends the value of raw, when it is exactly one JSON string, with its
// escapes resolved, and reports whether it was one. It lets a caller gather several
// strings in one buffer.
func AppendUnquoted(dst, raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return dst, false
	}
	st := state{src: raw}
	end, escaped, err := st.str(0)
	if err != nil || end != len(raw) {
		return dst, false
	}
	if !escaped {
		return append(dst, raw[1:len(raw)-1]...), true
	}
	return AppendUnescaped(dst, raw[1:len(raw)-1]), true
}

// Text returns the text of an identifier (Rule D3): a JSON string's value, or a JSON
// number's literal text digit for digit (123456789012345678 stays
// "123456789012345678", never 1.2345678901234568e+17). Other values are not text.
func Text(raw []byte) (string, bool) {
	if k := KindOf(raw); k == KindNumber {
		st := state{src: raw, maxNum: len(raw)}
		if end, err := st.num(0); err != nil || end != len(raw) {
			return "", false
		}
		return string(raw), true
	}
	return String(raw)
}

var scanners = sync.Pool{New: func() any { return new(Scanner) }}

// Check reports the first problem in raw with the default limits: a syntax error, a
// nesting deeper than DefaultMaxDepth, a duplicate key or a number longer than
// DefaultMaxNumberLength. It is safe for concurrent use.
func Check(raw []byte) error {
	s := scanners.Get().(*Scanner)
	err := s.Check(raw)
	scanners.Put(s)
	return err
}

// EachMember calls fn for each member of the object raw, in order, with the key's
// unescaped text and the member's value as compact JSON. It checks raw first (see
// [Check]) and returns its error, or an error when raw is not an object, or the first
// error fn returns.
func EachMember(raw []byte, fn func(key string, value []byte) error) error {
	c, err := compactChecked(raw)
	if err != nil {
		return err
	}
	if KindOf(c) != KindObject {
		return &Error{Offset: 0, Err: ErrSyntax, Reason: "not an object"}
	}
	it := NewIter(c, 0)
	for it.Next() {
		start, end, escaped := it.Key()
		key := string(c[start:end])
		if escaped {
			key = string(AppendUnescaped(nil, c[start:end]))
		}
		if err := fn(key, it.ValueBytes()); err != nil {
			return err
		}
	}
	return it.Err()
}

// Members calls fn for each member of the compact JSON object raw (such as a value a
// [Scanner] compacted), in order, with the key's JSON text, quotes included and escapes
// unresolved (read it with [String]), and the value's. It reports false, after the
// members before the fault, when raw is not a compact JSON object. Unlike [EachMember]
// it neither checks raw nor allocates: a caller can match keys without making strings.
func Members(raw []byte, fn func(key, value []byte)) bool {
	if KindOf(raw) != KindObject {
		return false
	}
	it := NewIter(raw, 0)
	for it.Next() {
		ks, ke, _ := it.Key()
		fn(raw[ks-1:ke+1], it.ValueBytes())
	}
	return it.Err() == nil
}

// compactChecked checks raw and returns it compact: raw itself when it has no
// whitespace to drop.
func compactChecked(raw []byte) ([]byte, error) {
	s := scanners.Get().(*Scanner)
	defer scanners.Put(s)
	out, err := s.Compact(make([]byte, 0, len(raw)), raw)
	if err == nil {
		err = s.Problem()
	}
	if err != nil {
		return nil, err
	}
	if len(out) == len(raw) {
		return raw, nil
	}
	return out, nil
}
