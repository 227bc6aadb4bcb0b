package identity

import (
	"strings"

	"github.com/regalkit/regalkit/diag"
)

// MaskPhone returns s with every digit but the last four hidden, for error messages and
// logs: "+1 (954) 555-2399" becomes "+***2399". In a vanity number (three to nine
// digits, and letters: too few digits for a number without them) a letter stands for
// its keypad digit, so that the four shown are the number's: "+1 (954) 555-CALL"
// becomes "+***2255", where "954-555-2399 (cell)" stays "***2399". An input with four digits (and
// letters) or fewer shows none. The result is at most 9 bytes long whatever the input.
func MaskPhone(s string) string {
	var last [4]byte
	n, digits := 0, 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digits++
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case digits >= 3 && digits < 10 && 'a' <= c|0x20 && c|0x20 <= 'z':
			c = keypad[c|0x20-'a']
		default:
			continue
		}
		last[n%4] = c
		n++
	}
	var b strings.Builder
	b.Grow(9)
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		b.WriteByte('+')
	}
	b.WriteString("***")
	if n > 4 {
		for i := range 4 {
			b.WriteByte(last[(n+i)%4])
		}
	}
	return b.String()
}

// keypad is the digit of each letter, a to z, on a phone's keypad.
const keypad = "22233344455566677778889999"

// MaskEmail returns s with the local part hidden, for error messages and logs:
// "Rebecca@Example.com" becomes "***@Example.com". Without an '@' nothing is shown. The
// domain is cut to 64 bytes.
func MaskEmail(s string) string {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "***"
	}
	// What follows the '@' of a value that is no address may hold a number: masked
	// whole first, then cut, so that the cut cannot leave other digits than the last.
	domain := diag.Mask(s[i+1:])
	if len(domain) > 64 {
		domain = strings.ToValidUTF8(domain[:64], "")
	}
	return "***@" + domain
}
