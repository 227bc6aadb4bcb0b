package diag

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"identify":                      "identify",
		"order_completed_2024":          "order_completed_2024",
		"bob.secret@example.com":        "***@example.com",
		"mail bob@example.com now":      "mail ***@example.com now",
		"a@b.co and c.d@e.org":          "***@b.co and ***@e.org",
		"@example.com":                  "@example.com",
		"+19545552399":                  "+*******2399",
		"+1 (954) 555-2399":             "+* (***) ***-2399",
		"call 954.555.2399 or 1234":     "call ***.***.2399 or 1234",
		"traits.+12125550123.isPrimary": "traits.+*******0123.isPrimary",
		"12345@example.com":             "***@example.com",
		"x@1234567890.com":              "***@******7890.com",
		"\xff19545552399":               "\uFFFD*******2399",
		// Separators and digits of other kinds still make a number (the type of a
		// message a handler refuses is echoed masked).
		"954\u2013555\u20132399": "***\u2013***\u20132399", // en dashes
		"954\u00a0555\u00a02399": "***\u00a0***\u00a02399", // no-break spaces
		"954,555,2399":           "***,***,2399",
		"\uff19\uff15\uff14\uff15\uff15\uff15\uff12\uff13\uff19\uff19": "******\uff12\uff13\uff19\uff19", // full-width digits
	} {
		assert.Equal(t, want, Mask(in), in)
	}
}
