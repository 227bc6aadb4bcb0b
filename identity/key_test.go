package identity

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regalkit/regalkit/diag"
)

func TestKey_comparableMapKey(t *testing.T) {
	m := map[Key]int{UserKey("u1"): 1, AnonymousKey("u1"): 2, PhoneKey("+19545552399"): 3}
	assert.Equal(t, 1, m[Key{UserID, "u1"}])
	assert.Equal(t, 2, m[AnonymousKey("u1")], "the same value under another kind is another key")
	assert.Equal(t, 3, m[PhoneKey("+19545552399")])
	assert.True(t, Key{}.IsZero())
	assert.False(t, EmailKey("a@b.co").IsZero())
}

func TestKey_StringMasks(t *testing.T) {
	assert.Equal(t, "userId:92980cfccc067", UserKey("92980cfccc067").String())
	assert.Equal(t, "anonymousId:507f", AnonymousKey("507f").String())
	assert.Equal(t, "phone:+***2399", PhoneKey("+19545552399").String())
	assert.Equal(t, "email:***@example.com", EmailKey("rebecca@example.com").String())
	assert.Equal(t, "invalid:x", Key{Kind(9), "x"}.String())
}

func TestKey_LogValueMasks(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("found", "key", PhoneKey("+19545552399"), "email", EmailKey("rebecca@example.com"))
	assert.NotContains(t, buf.String(), "9545552399")
	assert.NotContains(t, buf.String(), "rebecca")
	assert.Contains(t, buf.String(), "phone:+***2399")
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+19545552399", "+***2399"},
		{"(954) 555-2399", "***2399"},
		{" +1 954 555 2399", "+***2399"},
		{"2399", "***"},
		{"", "***"},
		{"1-800-FLOWERS", "***9377"},
		{"+1 (954) 555-CALL", "+***2255"}, // the number's last four, not 4555 (a review)
		{"+1 954 jkl adww", "+***2399"},
		{"hello", "***"},
		{"12 ab", "***"},
		{"954-555-2399 (cell)", "***2399"},   // ten digits: the letters are words (a review)
		{"+1 954 555 @[`{ 2399", "+***2399"}, // the bytes next to the letters' are no letters
		{string(bytes.Repeat([]byte("9"), 10<<10)) + "1234", "***1234"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, MaskPhone(tt.in), tt.in)
	}
}

func TestMaskEmail(t *testing.T) {
	assert.Equal(t, "***@example.com", MaskEmail("rebecca@example.com"))
	assert.Equal(t, "***", MaskEmail("rebecca"))
	assert.Len(t, MaskEmail("a@"+string(bytes.Repeat([]byte("d"), 500))), 4+64)
	// A value that is no address may carry a number after its '@': masked too.
	assert.Equal(t, "***@example.com +*******2399", MaskEmail("ann@example.com +19545552399"))
	for n := 50; n < 70; n++ { // masked before the cut: no other digits than the last four
		m := MaskEmail("ann@" + strings.Repeat("d", n) + " +19545552399")
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		assert.True(t, strings.HasPrefix("2399", digits), "%d: %s", n, m)
	}
}

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+19545552399": true, "+2902123": true, "+999999999999999": true, // 15 digits
		"+9999999999999999": false, "": false, "+": false, "19545552399": false, "+0123": false,
		"+1 954": false, "+1954-555": false,
	} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestMask_vanityNumbersTheParserReads: a number ParsePhone reads, written with letters
// for digits, shows at most four of its digits and letters through diag.Mask, in the
// forms reviews found shown whole (RULES.md, X).
func TestMask_vanityNumbersTheParserReads(t *testing.T) {
	for _, tt := range []struct{ in, region string }{
		{"+1 954 JKL ADWW", "US"}, {"+1 954 jkl adww", "US"}, {"+1 954 Jkl Adww", "US"},
		{"+1 954 JKL adww", "US"}, {"1-800-FLOWERS", "US"}, {"1-800-flowers", "US"},
		{"+1/954/JKL/ADWW", "US"}, {"+1 954 [JKL] ADWW", "US"}, {"+1 954 JKL/ADWW", "US"},
		{"+1 954 JKL*ADWW", "US"}, {"+1 954 JKL\u2060ADWW", "US"}, {"+1 95W JKL ADWW", "US"},
		{"(954) 555-CALL", "US"}, {"954 JKL ADWW", "US"}, {"x1954JKLADWW", "US"},
		{"0800 FLOWERS", "GB"}, {"0161 JKL ADWW", "GB"}, {"020 7946 ADWW", "GB"},
		{"030 FLOWERS", "DE"}, {"+46 8 JKL ADW", "SE"}, {"+61 2 JKLA DWWZ", "AU"},
	} {
		if _, err := ParsePhone(tt.in, tt.region); err != nil {
			t.Errorf("ParsePhone(%q, %s): %v; the case no longer tests a number", tt.in, tt.region, err)
			continue
		}
		shown := 0
		for _, r := range diag.Mask(tt.in) {
			if ('0' <= r && r <= '9') || ('a' <= r|0x20 && r|0x20 <= 'z') {
				shown++
			}
		}
		if tt.in[0] == 'x' {
			shown-- // the x before the number is not of it
		}
		assert.LessOrEqual(t, shown, 4, "%q shows %q", tt.in, diag.Mask(tt.in))
	}
}
