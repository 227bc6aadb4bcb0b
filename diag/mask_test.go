package diag

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		"a@b@c":                         "***@***@c",
		"a@@b":                          "***@@b",
		"x.y@z@@w@":                     "***@***@@***@",
		// Separators and digits of other kinds still make a number (the type of a
		// message a handler refuses is echoed masked).
		"954\u2013555\u20132399": "***\u2013***\u20132399", // en dashes
		"954\u00a0555\u00a02399": "***\u00a0***\u00a02399", // no-break spaces
		"954,555,2399":           "***,***,2399",
		"\uff19\uff15\uff14\uff15\uff15\uff15\uff12\uff13\uff19\uff19": "******\uff12\uff13\uff19\uff19", // full-width digits
		// Vanity numbers, which the phone parser reads (reviews found them whole in a
		// refused type, an opt-in key and a logged path; in small or mixed letters,
		// with other separators, in national forms, after a letter or another number).
		"+1 954 JKL ADWW": "+* *** *** ADWW",
		`unsupported message type "+1 954 JKL ADWW"`: `unsupported message type "+* *** *** ADWW"`,
		"/hooks/+1-954-JKL-ADWW/v1/batch":            "/hooks/+*-***-***-****/**/*atch",
		"traits.optIn[0].+1 954 JKL ADWW":            "traits.optIn[0].+* *** *** ADWW",
		"+1 (954) 555-CALL":                          "+* (***) ***-CALL",
		"1-800-FLOWERS":                              "*-***-***WERS",
		"1-800-flowers":                              "*-***-***wers",
		"+1 954 jkl adww":                            "+* *** *** adww",
		"+1 954 Jkl Adww":                            "+* *** *** Adww",
		"+1/954/JKL/ADWW":                            "+*/***/***/ADWW",
		"+1 954 [JKL] ADWW":                          "+* *** [***] ADWW",
		"+1 954 JKL*ADWW":                            "+* *** ***\u002aADWW",
		"+1 954 JKL\u2060ADWW":                       "+* *** ***\u2060ADWW",
		"+1\uff0f954\uff0fJKL\uff0fADWW":             "+*\uff0f***\uff0f***\uff0fADWW",
		"+1 95W JKL ADWW":                            "+* *** *** ADWW",
		"+46 8 JKL ADW":                              "+** * **L ADW",
		"0800 FLOWERS":                               "**** ***WERS",
		"0161 JKL ADWW":                              "**** *** ADWW",
		"x1954JKLADWW":                               "x*******ADWW",
		"call 954-555-CALL now":                      "call ***-***-***L now",
		"+1954JKLADWW.isPrimary":                     "+*******ADWW.isPrimary",
		"ID 5555555555 954 JKL ADWW":                 "ID ********** *** *** ADWW",
		"954 JKL ADWW":                               "*** *** ADWW",
		// Text of that shape is masked too (a little more hidden rather than a number
		// shown); shorter or longer words are not.
		"911 call now":                   "*** ***l now",
		"USD 100 ABC":                    "USD 100 ABC",
		"Loan Application 2024 Approved": "Loan Application 2024 Approved",
		"ABC 123 DEF":                    "ABC 123 DEF",
		"404 NOT FOUND":                  "*** *** *OUND",
		"2023 annual report ready":       "**** ****** ****** *eady",
		"10.15.7 BETA":                   "**.**.* BETA",
	} {
		assert.Equal(t, want, Mask(in), in)
	}
}

// TestMask_linear: a sender controls the text Mask is given (a message's type, a
// trait's key, a request's path), so its cost must not grow with the number of '@'
// times the length: a few allocations (the rune slice grows by doubling), not one
// per '@' (20,000 here).
func TestMask_linear(t *testing.T) {
	in := strings.Repeat("a@", 20000)
	want := strings.Repeat("***@", 20000)
	var got string
	allocs := testing.AllocsPerRun(3, func() { got = Mask(in) })
	assert.Equal(t, want, got)
	assert.LessOrEqual(t, allocs, 12.0)
}

// TestMask_vanityScanLinear: a run of digits with a start before each one ("1 1 1 ...",
// 32 KB, a message's type or a trait's key) was scanned to its end from every start
// looking for a vanity number: 0.86 s for one value. The scan now stops once the run is
// too long to be one. Quadratic work takes 64 times as long for 8 times the text; the
// test allows 20 (best of three runs each).
func TestMask_vanityScanLinear(t *testing.T) {
	elapsed := func(n int) time.Duration {
		in := strings.Repeat("1 ", n)
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			out := Mask(in)
			best = min(best, time.Since(start))
			require.True(t, strings.HasSuffix(out, "1 1 1 1 "), "the last four digits stay")
		}
		return best
	}
	small, large := elapsed(2000), elapsed(16000)
	assert.Less(t, float64(large)/float64(small), 20.0, "%v for 4 KB, %v for 32 KB", small, large)
}

// TestMaskKey: a key is masked whole, then cut to 64 bytes of valid UTF-8, so that no cut
// leaves an address's local part without its '@'.
func TestMaskKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plan", "plan"},
		{"+19545552399", "+*******2399"},
		{"bob.secret@example.com", "***@example.com"},
		{strings.Repeat("k", 42) + "-jane.doe.private.alias@example.com", "***@example.com"},
		{strings.Repeat("é", 40), strings.Repeat("é", 32)},
	} {
		got := MaskKey(tt.in)
		if got != tt.want {
			t.Errorf("MaskKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > 64 || !utf8.ValidString(got) {
			t.Errorf("MaskKey(%q) = %q: over 64 bytes or not UTF-8", tt.in, got)
		}
	}
}

// FuzzMask: Mask never panics, returns valid UTF-8 and leaves no five digits in a row.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"+1 954 JKL ADWW", "1-800-FLOWERS", "bob@example.com", "+19545552399", "a@b@c", "1 2 3 4 5 6 7 8 9 A B C D E F G H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Mask(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Mask(%q) = %q: not UTF-8", s, got)
		}
		run := 0
		for _, r := range got {
			if r >= '0' && r <= '9' {
				if run++; run > 4 {
					t.Fatalf("Mask(%q) = %q: five digits in a row", s, got)
				}
			} else {
				run = 0
			}
		}
	})
}
