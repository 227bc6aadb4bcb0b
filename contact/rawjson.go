package contact

import (
	"encoding/json"
	"unicode/utf8"
)

// The helpers in this file read values of an event.Object, which the decoder hands over
// as compact, valid JSON. They still check bounds on every step, so a hand-built message
// with broken JSON gives a diagnostic, never a panic.

// rawKind is the kind of a JSON value by its first byte.
type rawKind uint8

const (
	kindInvalid rawKind = iota
	kindNull
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func kindOf(raw []byte) rawKind {
	if len(raw) == 0 {
		return kindInvalid
	}
	switch c := raw[0]; {
	case c == 'n':
		return kindNull
	case c == 't' || c == 'f':
		return kindBool
	case c == '"':
		return kindString
	case c == '[':
		return kindArray
	case c == '{':
		return kindObject
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	}
	return kindInvalid
}

// unquote returns the text of a JSON string. Strings without escapes are returned
// without a copy of the JSON text beyond the one conversion.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// skipValue returns the length of the JSON value at the start of b, or -1.
func skipValue(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	switch b[0] {
	case '"':
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				n := skipValue(b[i:])
				if n < 0 {
					return -1
				}
				i += n - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	i := 0
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
		i++
	}
	if i == 0 {
		return -1
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// eachMember calls fn for each member of the JSON object raw, in order, with the key's
// raw JSON text (quoted) and the value's. It reports false if raw is not an object.
func eachMember(raw []byte, fn func(key, value []byte)) bool {
	if kindOf(raw) != kindObject {
		return false
	}
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == '}' {
		return true
	}
	for i < len(raw) {
		n := skipValue(raw[i:])
		if n < 0 || raw[i] != '"' {
			return false
		}
		key := raw[i : i+n]
		i = skipSpace(raw, i+n)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipSpace(raw, i+1)
		n = skipValue(raw[i:])
		if n < 0 {
			return false
		}
		fn(key, raw[i:i+n])
		i = skipSpace(raw, i+n)
		if i >= len(raw) {
			return false
		}
		if raw[i] == '}' {
			return true
		}
		if raw[i] != ',' {
			return false
		}
		i = skipSpace(raw, i+1)
	}
	return false
}
