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
// "954–555–2399", "954 555 2399" with no-break spaces and full-width digits). In a
// vanity number, whose capital letters stand for digits, every digit and letter but
// the last four is hidden ("+1 954 JKL ADWW" becomes "+* *** *** ADWW"). Text that is
// none of these is kept as it is, so known tokens (a type, a key, a channel) read
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
	maskVanity(rs)
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

// needsMask reports whether s holds an '@', five digits or more, of any script, or
// three digits and three capital letters (a vanity number, see maskVanity).
func needsMask(s string) bool {
	digits, capitals := 0, 0
	for _, r := range s {
		switch {
		case r == '@':
			return true
		case unicode.IsDigit(r):
			if digits++; digits > 4 {
				return true
			}
		case 'A' <= r && r <= 'Z':
			capitals++
		}
	}
	return digits >= 3 && capitals >= 3
}

// maskVanity hides, in every vanity number of rs, each digit and letter but the last
// four, as '*': "+1 954 JKL ADWW" and "(954) 555-CALL" are numbers the phone parser
// reads (identity.ParsePhone, as libphonenumber: letters on a keypad stand for digits),
// whose letters part the digit rule would leave whole. A vanity number is what
// libphonenumber takes for one, narrowed to keep ordinary text readable: it starts
// with '+' or a digit at the start of a word, has three digits before its first letter,
// words of capital letters of up to seven (FLOWERS), digits, spaces, dashes, dots and
// brackets, at least three letters and seven to seventeen digits and letters.
func maskVanity(rs []rune) {
	for i := 0; i < len(rs); i++ {
		if r := rs[i]; (r != '+' && !unicode.IsDigit(r)) || (i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1]))) {
			continue
		}
		digits, letters, last := 0, 0, -1
		j := i
	scan:
		for j < len(rs) {
			switch r := rs[j]; {
			case unicode.IsDigit(r):
				digits++
				last = j
				j++
			case 'A' <= r && r <= 'Z':
				k := j
				for k < len(rs) && 'A' <= rs[k] && rs[k] <= 'Z' {
					k++
				}
				if digits < 3 || k-j > 7 || (k < len(rs) && unicode.IsLetter(rs[k])) {
					break scan
				}
				letters += k - j
				last = k - 1
				j = k
			case (r == '+' && j == i) || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
				j++
			default:
				break scan
			}
			if digits+letters > 17 {
				break
			}
		}
		if n := digits + letters; letters >= 3 && n >= 7 && n <= 17 {
			for k := i; k <= last && n > 4; k++ {
				if r := rs[k]; unicode.IsDigit(r) || ('A' <= r && r <= 'Z') {
					rs[k] = '*'
					n--
				}
			}
		}
		i = max(i, last)
	}
}

// isLocal reports whether r can be part of an email's local part, as people write them.
func isLocal(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || r >= 0x80 ||
		strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// inNumberRun reports whether r can be part of a number as people write one: anything
// but a letter, and but the '@' an email's masked local part ends at.
func inNumberRun(r rune) bool { return !unicode.IsLetter(r) && r != '@' }
