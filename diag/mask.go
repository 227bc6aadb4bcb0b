package diag

import "strings"

// Mask returns s fit to quote in a diagnostic, an error or a log line (RULES.md, X): every
// email address cut to its domain ("bob.secret@example.com" becomes
// "***@example.com"), and in every run of digits and the characters phone numbers are
// written with (space, "+", "-", ".", "(", ")", "/"), every digit but the last four
// hidden as '*' ("+1 (954) 555-2399" becomes "+* (***) ***-2399"). Text that is
// neither is kept as it is, so known tokens (a type, a key, a channel) read normally.
// Invalid UTF-8 is replaced.
//
// Use it on every value from the input a message echoes that is not a known token.
func Mask(s string) string {
	if !needsMask(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	b := []byte(s)
	// Emails: the local part before each '@', back to the previous character that
	// cannot be in one.
	for i := 0; i < len(b); i++ {
		if b[i] != '@' {
			continue
		}
		j := i
		for j > 0 && isLocal(b[j-1]) {
			j--
		}
		if j < i {
			b = append(b[:j], append([]byte("***"), b[i:]...)...)
			i = j + 3
		}
	}
	// Digits: in each run of phone characters, all but the last four digits.
	for i := 0; i < len(b); {
		if !isPhoneChar(b[i]) {
			i++
			continue
		}
		j := i
		digits := 0
		for j < len(b) && isPhoneChar(b[j]) {
			if isDigit(b[j]) {
				digits++
			}
			j++
		}
		for k := i; k < j && digits > 4; k++ {
			if isDigit(b[k]) {
				b[k] = '*'
				digits--
			}
		}
		i = j
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// needsMask reports whether s holds an '@' or five digits or more.
func needsMask(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			return true
		case isDigit(c):
			if digits++; digits > 4 {
				return true
			}
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLocal reports whether c can be part of an email's local part, as people write them.
func isLocal(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80 ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
}

func isPhoneChar(c byte) bool {
	return isDigit(c) || strings.IndexByte(" +-.()/", c) >= 0
}
