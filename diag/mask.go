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
// vanity number, whose letters stand for digits, every digit and letter but the last
// four is hidden ("+1 954 JKL ADWW" becomes "+* *** *** ADWW"). Text that is
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
// three digits and three letters (a vanity number, see maskVanity).
func needsMask(s string) bool {
	digits, letters := 0, 0
	for _, r := range s {
		switch {
		case r == '@':
			return true
		case unicode.IsDigit(r):
			if digits++; digits > 4 {
				return true
			}
		case isASCIILetter(r):
			letters++
		}
	}
	return digits >= 3 && letters >= 3
}

// maskVanity hides, in every vanity number of rs, each digit and letter but the last
// four, as '*': "+1 954 JKL ADWW" and "(954) 555-CALL" are numbers the phone parser
// reads (identity.ParsePhone, as libphonenumber: letters on a keypad stand for digits),
// whose letters the digit rule would leave whole. A vanity number is taken as the
// parser takes one, narrowed to keep ordinary text readable ("404 NOT FOUND", "221 B
// BAKER ST", "100 RELEASE"): from '+' or a digit at the start of a word (not of a
// domain), three digits or more before its first letter, words of up to seven letters
// all of one case, digits, spaces, dashes, dots, slashes and brackets; in all three to
// seven letters and ten to fifteen digits and letters that could be dialled (see
// plausible), as the numbers people spell are.
func maskVanity(rs []rune) {
	for i := 0; i < len(rs); i++ {
		if r := rs[i]; (r != '+' && !unicode.IsDigit(r)) || (i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1]) || rs[i-1] == '@')) {
			continue
		}
		digits, letters, last, end := 0, 0, -1, -1
		upper := -1 // the case of the number's letters: 1 capitals, 0 small letters
		for j := i; j < len(rs) && digits+letters <= 15; {
			r := rs[j]
			switch {
			case unicode.IsDigit(r):
				digits++
				last = j
				j++
			case isASCIILetter(r):
				k := j
				for k < len(rs) && isASCIILetter(rs[k]) {
					k++
				}
				c := letterCase(rs[j:k])
				if digits < 3 || k-j > 7 || (k < len(rs) && unicode.IsLetter(rs[k])) || c < 0 || (upper >= 0 && c != upper) || letters+k-j > 7 {
					j = len(rs) // the number, if any, ended before this word
					continue
				}
				upper = c
				letters += k - j
				last = k - 1
				j = k
			case (r == '+' && j == i) || strings.ContainsRune("-./()[]", r) || unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
				j++
			default:
				j = len(rs)
				continue
			}
			if n := digits + letters; letters >= 3 && n >= 10 && n <= 15 && plausible(rs[i], n) {
				end = last // the longest number so far
			}
		}
		if end < 0 {
			continue
		}
		n := 0
		for k := i; k <= end; k++ {
			if unicode.IsDigit(rs[k]) || isASCIILetter(rs[k]) {
				n++
			}
		}
		for k := i; k <= end && n > 4; k++ {
			if r := rs[k]; unicode.IsDigit(r) || isASCIILetter(r) {
				rs[k] = '*'
				n--
			}
		}
		i = end
	}
}

// plausible reports whether a number of n digits and letters that starts with first may
// be dialled: with '+' any; else, as North American numbers (where spelled ones come
// from) are, ten that start with 2 to 9 (an area code) or eleven that start with 1, or
// more, an international number without its '+'. "100 RELEASE" is not one.
func plausible(first rune, n int) bool {
	switch {
	case first == '+' || n > 11:
		return true
	case n == 10:
		return '2' <= first && first <= '9'
	}
	return first == '1'
}

func isASCIILetter(r rune) bool { return ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') }

// letterCase returns 1 when the ASCII letters of w are all capitals, 0 when they are all
// small letters, and -1 when they mix both.
func letterCase(w []rune) int {
	upper, lower := false, false
	for _, r := range w {
		upper = upper || ('A' <= r && r <= 'Z')
		lower = lower || ('a' <= r && r <= 'z')
	}
	switch {
	case upper && lower:
		return -1
	case upper:
		return 1
	}
	return 0
}

// isLocal reports whether r can be part of an email's local part, as people write them.
func isLocal(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || r >= 0x80 ||
		strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// inNumberRun reports whether r can be part of a number as people write one: anything
// but a letter, and but the '@' an email's masked local part ends at.
func inNumberRun(r rune) bool { return !unicode.IsLetter(r) && r != '@' }
