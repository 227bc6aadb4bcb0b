package optin

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseChannel(t *testing.T) {
	tests := []struct {
		in   string
		want Channel
		ok   bool
	}{
		{"sms", SMS, true},
		{"SMS", SMS, true},
		{" voice\t", Voice, true},
		{"Email", Email, true},
		{"e-mail", "", false},
		{"text", "", false},
		{"", "", false},
		{"smsvoice", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseChannel(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.ok, got.Valid(), tt.in)
	}
	assert.False(t, Channel("SMS").Valid(), "a Channel value is exact; ParseChannel folds case")
	assert.Equal(t, "voice", Voice.String())
}

func TestOutcome_values(t *testing.T) {
	assert.Equal(t, []string{"applied", "superseded", "refused", "pending"},
		[]string{string(Applied), string(Superseded), string(Refused), string(Pending)})
}

// TestQuoteShort: text from a payload is quoted cut short and with its digits hidden.
func TestQuoteShort(t *testing.T) {
	assert.Equal(t, `"Opt In"`, quoteShort("Opt In"))
	assert.Equal(t, `"+###########"`, quoteShort("+19545552399"))
	assert.Equal(t, `"abcdefghijklmnopqrst"`, quoteShort("abcdefghijklmnopqrstuvwxyz"))
	assert.Equal(t, `"***@example.com"`, quoteShort("bob.secret@example.com")) // not "bob.secret@example.c"
	assert.Equal(t, `"a\"b\n"`, quoteShort("a\"b\n"))
	assert.Equal(t, `"é"`, quoteShort("é\xff"))
}
