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
// three digits and three letters (a vanity number may, see maskVanity).
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
// parser takes one, erring on the side of masking: from '+' or a digit (not right after
// '@', '+', '*' or another digit), three digits before its first letter, then digits,
// letters in any case (in words of up to seven, three or more in all) and the
// separators the parser skips, nine or more digits and letters in all. Ordinary text of
// that shape ("911 call now") is masked too: a diagnostic that hides a little more text
// is the price of never showing a number.
func maskVanity(rs []rune) {
	for i := 0; i < len(rs); i++ {
		if r := rs[i]; (r != '+' && !unicode.IsDigit(r)) || (i > 0 && (strings.ContainsRune("@+*", rs[i-1]) || unicode.IsDigit(rs[i-1]))) {
			continue
		}
		// The run: digits, words of letters and separators from i on, as far as they
		// go. It is a vanity number when its first seventeen digits and letters have
		// three digits before the first letter, three letters, and nine or more in all;
		// then all of it but its last four is hidden, so that a number later in the run
		// is not shown because an earlier one took the masking's last four.
		digits, letters, last := 0, 0, -1
		vanity := false
		for j := i; j < len(rs); {
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
				if digits < 3 || k-j > 7 || (k < len(rs) && unicode.IsLetter(rs[k])) {
					j = len(rs) // the run ends before this word
					continue
				}
				letters += k - j
				last = k - 1
				j = k
			case (r == '+' && j == i) || isPhoneSeparator(r):
				j++
			default:
				j = len(rs)
				continue
			}
			if n := digits + letters; !vanity && letters >= 3 && n >= 9 && n <= 17 {
				vanity = true
			} else if !vanity && n > 17 {
				// Too long to become one: the scan stops, so that a long run with many
				// starts ("1 1 1 ...") costs linear time, not quadratic.
				break
			}
		}
		if !vanity {
			continue
		}
		n := 0
		for k := i; k <= last; k++ {
			if unicode.IsDigit(rs[k]) || isASCIILetter(rs[k]) {
				n++
			}
		}
		for k := i; k <= last && n > 4; k++ {
			if r := rs[k]; unicode.IsDigit(r) || isASCIILetter(r) {
				rs[k] = '*'
				n--
			}
		}
		i = last
	}
}

// isPhoneSeparator reports whether the phone parser skips r between the digits of a
// number: spaces and dashes of any kind, dots, slashes, brackets, '~' and '*', the soft
// hyphen and the invisible joiners, and their full-width forms.
func isPhoneSeparator(r rune) bool {
	switch r {
	case '.', '/', '(', ')', '[', ']', '~', '*', '\u00ad', '\u200b', '\u2060', '\ufeff',
		'\uff0e', '\uff0f', '\uff08', '\uff09', '\uff3b', '\uff3d', '\uff5e':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}

func isASCIILetter(r rune) bool { return ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') }

// isLocal reports whether r can be part of an email's local part, as people write them.
func isLocal(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || r >= 0x80 ||
		strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// inNumberRun reports whether r can be part of a number as people write one: anything
// but a letter, and but the '@' an email's masked local part ends at.
func inNumberRun(r rune) bool { return !unicode.IsLetter(r) && r != '@' }
