package diag

import (
	"strings"
	"unicode"
)

// Mask returns s fit to quote in a diagnostic, an error or a log line (RULES.md, X): every
// email address cut to its domain ("bob.secret@example.com" becomes
// "***@example.com"), and in every run of characters that are not letters (digits,
// spaces of any kind, "+", dashes, dots, commas, brackets...), every digit but the last
// four hidden as '*' ("+1 (954) 555-2399" becomes "+* (***) ***-2399"; so do
// "954–555–2399", "954 555 2399" with no-break spaces and full-width digits). Text
// that is neither is kept as it is, so known tokens (a type, a key, a channel) read
// normally. Invalid UTF-8 is replaced.
//
// Use it on every value from the input a message echoes that is not a known token.
func Mask(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !needsMask(s) {
		return s
	}
	// Emails: the local part before each '@', back to the previous character that
	// cannot be in one. Written into a new slice in one pass, so that the cost stays
	// linear in the input whatever the number of '@' (a sender controls the text): a
	// local part is walked back over once, then replaced by "***" and an '@', where
	// the next walk back stops.
	rs := make([]rune, 0, len(s)+8)
	for _, r := range s {
		if r == '@' {
			j := len(rs)
			for j > 0 && isLocal(rs[j-1]) {
				j--
			}
			if j < len(rs) {
				rs = append(rs[:j], '*', '*', '*')
			}
		}
		rs = append(rs, r)
	}
	// Digits: in each run of characters that are not letters (nor an email's '@'),
	// all but the last four.
	for i := 0; i < len(rs); {
		if !inNumberRun(rs[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for ; j < len(rs) && inNumberRun(rs[j]); j++ {
			if unicode.IsDigit(rs[j]) {
				digits++
			}
		}
		for k := i; k < j && digits > 4; k++ {
			if unicode.IsDigit(rs[k]) {
				rs[k] = '*'
				digits--
			}
		}
		i = j
	}
	return string(rs)
}

// MaskKey returns Mask(k) cut to at most 64 bytes of valid UTF-8: a key of the caller's
// (a trait's, a property's, an unknown envelope key) as a diagnostic's or an error's
// field names it. Masked whole before it is cut, so that a cut never leaves the local
// part of an address whose '@' it cut off.
func MaskKey(k string) string {
	k = Mask(k)
	if len(k) > 64 {
		k = strings.ToValidUTF8(k[:64], "")
	}
	return k
}

// needsMask reports whether s holds an '@' or five digits or more, of any script.
func needsMask(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r == '@':
			return true
		case unicode.IsDigit(r):
			if digits++; digits > 4 {
				return true
			}
		}
	}
	return false
}

// isLocal reports whether r can be part of an email's local part, as people write them.
func isLocal(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || r >= 0x80 ||
		strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// inNumberRun reports whether r can be part of a number as people write one: anything
// but a letter, and but the '@' an email's masked local part ends at.
func inNumberRun(r rune) bool { return !unicode.IsLetter(r) && r != '@' }
