package jsonvalue

import (
	"bytes"
	"slices"
)

// AppendCanonical appends raw in a canonical form, for hashing: no whitespace, object
// members sorted by their unescaped keys (bytewise), strings re-escaped minimally (see
// [AppendString]), numbers and literals as written. Two values that differ only in
// formatting, key order or string escaping give the same bytes. It checks raw first and
// returns its error (see [Check]).
func AppendCanonical(dst, raw []byte) ([]byte, error) {
	c, err := compactChecked(raw)
	if err != nil {
		return dst, err
	}
	return appendCanonical(dst, c, 0), nil
}

type member struct {
	key   []byte
	value []byte
}

// appendCanonical writes the compact, checked value at c[i:] and returns dst. Recursion
// is bounded by the depth limit Check enforced.
func appendCanonical(dst, c []byte, i int) []byte {
	switch c[i] {
	case '{':
		var members []member
		it := NewIter(c, i)
		for it.Next() {
			start, end, escaped := it.Key()
			k := c[start:end]
			if escaped {
				k = AppendUnescaped(nil, k)
			}
			members = append(members, member{key: k, value: it.ValueBytes()})
		}
		slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		dst = append(dst, '{')
		for n, m := range members {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, string(m.key))
			dst = append(dst, ':')
			dst = appendCanonical(dst, m.value, 0)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		it := NewIter(c, i)
		for n := 0; it.Next(); n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			start, end := it.Value()
			dst = appendCanonical(dst, c[:end], start)
		}
		return append(dst, ']')
	case '"':
		end := skipString(c, i)
		return AppendString(dst, string(AppendUnescaped(nil, c[i+1:end-1])))
	default:
		end := skipValue(c, i)
		return append(dst, c[i:end]...)
	}
}
