package identity

import (
	"strings"

	"github.com/regalkit/regalkit/diag"
)

// MaskPhone returns s with every digit but the last four hidden, for error messages and
// logs: "+1 (954) 555-2399" becomes "+***2399". Letters are hidden too, since a vanity
// number's letters stand for digits. An input with four digits or fewer shows none. The
// result is at most 9 bytes long whatever the input.
func MaskPhone(s string) string {
	var last [4]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			last[n%4] = c
			n++
		}
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
