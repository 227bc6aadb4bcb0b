package optin

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// This file reads the JSON of consent records. encoding/json checks the input
// (json.Valid) and unescapes the rare string with escapes; the members of a record are
// found by a small scanner over the checked text instead of json.Unmarshal, which
// costs about 30 allocations a record. All values are substrings of one string made
// from the input, so a record's strings cost nothing more. TestWire_matchesEncodingJSON
// and FuzzWire_matchesEncodingJSON hold the scanner to encoding/json's reading.

// wireRecord holds the JSON text of each member of a consent record object; "" when
// the member is absent. Keys match case-insensitively, the last of equal keys winning,
// as encoding/json matches struct fields.
type wireRecord struct {
	Channel, Subscribed, Timestamp, IP, Source, Text string
}

// readRecord reads the members of the object s, which must be valid JSON starting with
// '{'.
func readRecord(s string) wireRecord {
	var w wireRecord
	i := skipSpace(s, 1)
	for i < len(s) && s[i] == '"' {
		end := skipValue(s, i)
		key := unquote(s[i:end])
		i = skipSpace(s, end)
		i = skipSpace(s, i+1) // the ':'
		end = skipValue(s, i)
		value := s[i:end]
		switch {
		case strings.EqualFold(key, "channel"):
			w.Channel = value
		case strings.EqualFold(key, "subscribed"):
			w.Subscribed = value
		case strings.EqualFold(key, "timestamp"):
			w.Timestamp = value
		case strings.EqualFold(key, "ip"):
			w.IP = value
		case strings.EqualFold(key, "source"):
			w.Source = value
		case strings.EqualFold(key, "text"):
			w.Text = value
		}
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
	return w
}

// elements calls f with the JSON text of each element of the array s, which must be
// valid JSON starting with '['.
func elements(s string, f func(i int, elem string)) {
	n := 0
	for i := skipSpace(s, 1); i < len(s) && s[i] != ']'; n++ {
		end := skipValue(s, i)
		f(n, s[i:end])
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at s[i], s being
// valid JSON.
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	// A number, true, false or null: up to the next delimiter.
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the JSON string that starts at s[i].
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// isPresentText reports whether v is a JSON value other than null.
func isPresentText(v string) bool { return v != "" && v != "null" }

// unquote returns the contents of the JSON string v: a substring of v when it has no
// escapes, else what encoding/json makes of it.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	inner := v[1 : len(v)-1]
	if strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
		return inner
	}
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return ""
	}
	return s
}

// stringOf reads a JSON value as text: a string's contents, nothing for null or an
// absent value, and any other value's compact JSON text (so that evidence such as a
// numeric source is kept, not lost). isString reports whether it was a JSON string.
func stringOf(v string) (s string, isString bool) {
	switch {
	case !isPresentText(v):
		return "", false
	case v[0] == '"':
		return unquote(v), true
	case strings.ContainsAny(v, " \t\r\n"):
		var b bytes.Buffer
		if json.Compact(&b, []byte(v)) == nil {
			return b.String(), false
		}
	}
	return v, false
}
