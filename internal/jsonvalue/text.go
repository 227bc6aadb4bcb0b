package jsonvalue

import (
	"unicode/utf16"
	"unicode/utf8"
)

// AppendUnescaped appends the text of a JSON string's content (the bytes between its
// quotes) with its escapes resolved. A \u escape naming half of a surrogate pair without
// its other half becomes U+FFFD, as in encoding/json. The content is expected to be
// valid (as the [Scanner] checks); a malformed escape is copied as it is.
func AppendUnescaped(dst, content []byte) []byte {
	for i := 0; i < len(content); {
		c := content[i]
		if c != '\\' {
			j := i + 1
			for j < len(content) && content[j] != '\\' {
				j++
			}
			dst = append(dst, content[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(content) {
			return append(dst, c)
		}
		switch e := content[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(content, i+2)
			if !ok {
				dst = append(dst, content[i:i+2]...)
				i += 2
				continue
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(content, i+2); ok && i+1 < len(content) && content[i] == '\\' && content[i+1] == 'u' {
					if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
						dst = utf8.AppendRune(dst, p)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			dst = append(dst, c, e)
		}
		i += 2
	}
	return dst
}

// HasLoneSurrogate reports whether a JSON string's content (the bytes between its
// quotes) holds a \u escape naming half of a surrogate pair without its other half:
// text [AppendUnescaped] turns into U+FFFD, so that two such strings that differ there
// read the same.
func HasLoneSurrogate(content []byte) bool {
	for i := 0; i+1 < len(content); i++ {
		if content[i] != '\\' {
			continue
		}
		if content[i+1] != 'u' {
			i++ // an escaped character, a backslash included
			continue
		}
		r, ok := hex4(content, i+2)
		if !ok || !utf16.IsSurrogate(r) {
			i += 5
			continue
		}
		if r2, ok := hex4(content, i+8); ok && r < 0xdc00 && i+7 < len(content) && content[i+6] == '\\' && content[i+7] == 'u' &&
			utf16.DecodeRune(r, r2) != utf8.RuneError {
			i += 11
			continue
		}
		return true
	}
	return false
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// AppendString appends s as a JSON string: quotes, backslashes and control characters
// escaped, everything else as UTF-8. Invalid UTF-8 in s becomes U+FFFD, so the result is
// always valid JSON.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if strSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
