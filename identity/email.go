package identity

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalidEmail is the sentinel every email failure unwraps to.
var ErrInvalidEmail = errors.New("identity: invalid email address")

// EmailError says why an input is not an email address. It never holds the local part.
type EmailError struct {
	Masked string // the input with its local part hidden (see MaskEmail)
	Reason string // what is wrong
}

func (e *EmailError) Error() string {
	return "identity: invalid email address " + e.Masked + ": " + e.Reason
}

// Unwrap returns ErrInvalidEmail.
func (e *EmailError) Unwrap() error { return ErrInvalidEmail }

// Length limits of RFC 5321.
const (
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
)

// NormalizeEmail returns s as a contact email (Rule T7): white space trimmed, checked to
// be a syntactically valid address, its domain lowercased and its local part kept as it
// is ("Rebecca.Greene@Example.COM" becomes "Rebecca.Greene@example.com").
//
// The address must be a bare addr-spec: a dot-atom local part of 1 to 64 bytes (letters,
// digits, "!#$%&'*+-/=?^_`{|}~", non-ASCII letters, and dots that neither start, end
// nor repeat), one '@', and a domain of at least two dot-separated labels of letters,
// digits and hyphens (non-ASCII letters allowed), none starting or ending with a hyphen,
// the last not all digits. Display names ("Rebecca <r@example.com>"), quoted local parts
// and IP-literal domains are refused. The error is an [*EmailError].
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &EmailError{Masked: "***", Reason: "empty"}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", &EmailError{Masked: "***", Reason: "no '@'"}
	}
	local, domain := s[:at], s[at+1:]
	fail := func(reason string) (string, error) {
		return "", &EmailError{Masked: MaskEmail(s), Reason: reason}
	}
	if !utf8.ValidString(s) {
		return fail("not valid UTF-8")
	}
	if reason := checkLocal(local); reason != "" {
		return fail(reason)
	}
	if reason := checkDomain(domain); reason != "" {
		return fail(reason)
	}
	ld := lowerDomain(domain)
	if ld == domain {
		// Already normalized, the usual case: s is the result, with no copy.
		return s, nil
	}
	return local + "@" + ld, nil
}

func checkLocal(local string) string {
	if local == "" {
		return "empty local part"
	}
	if len(local) > maxLocalLen {
		return "local part over 64 bytes"
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "misplaced dot in the local part"
	}
	for _, r := range local {
		if r < utf8.RuneSelf && !isAtext(byte(r)) && r != '.' {
			return "character not allowed in the local part"
		}
		if r >= utf8.RuneSelf && !isWordRune(r) {
			return "character not allowed in the local part"
		}
	}
	return ""
}

func checkDomain(domain string) string {
	if domain == "" {
		return "empty domain"
	}
	if len(domain) > maxDomainLen {
		return "domain over 253 bytes"
	}
	if !strings.Contains(domain, ".") {
		return "domain needs a dot"
	}
	allDigits := false
	for rest := domain; ; {
		label, tail, more := strings.Cut(rest, ".")
		if label == "" {
			return "empty label in the domain"
		}
		if len(label) > maxLabelLen {
			return "domain label over 63 bytes"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "domain label starts or ends with '-'"
		}
		allDigits = true
		for _, r := range label {
			switch {
			case r >= '0' && r <= '9':
			case r == '-' || (r|0x20 >= 'a' && r|0x20 <= 'z'):
				allDigits = false
			case r >= utf8.RuneSelf && isWordRune(r):
				allDigits = false
			default:
				return "character not allowed in the domain"
			}
		}
		if !more {
			break
		}
		rest = tail
	}
	if allDigits {
		return "top-level domain is all digits"
	}
	return ""
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isWordRune accepts non-ASCII runes that can stand in an internationalized address
// (RFC 6531): anything printable that is not a space or a replacement character.
func isWordRune(r rune) bool {
	return r != utf8.RuneError && r > 0x9f && r != 0xa0 && !(r >= 0x2000 && r <= 0x206f) && r != 0x3000 && r != 0xfeff
}

func lowerDomain(d string) string {
	for i := 0; i < len(d); i++ {
		if c := d[i]; c >= utf8.RuneSelf || (c >= 'A' && c <= 'Z') {
			return strings.ToLower(d)
		}
	}
	return d
}
