package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParsePhone_RuleT8_accepts covers the real-world formats Rule T8 names.
func TestParsePhone_RuleT8_accepts(t *testing.T) {
	tests := []struct {
		input, region string
		e164, country string
	}{
		{"+19545552399", "", "+19545552399", "US"},
		{"19545552399", "", "+19545552399", "US"},
		{"(917) 555-4444", "", "+19175554444", "US"},
		{"212-555-0123", "", "+12125550123", "US"},
		{"+1 (212) 555-0123", "", "+12125550123", "US"},
		{"954.555.2399", "us", "+19545552399", "US"},
		{"1-800-FLOWERS", "", "+18003569377", "US"},
		{"020 7946 0018", "GB", "+442079460018", "GB"},
		{"030 1234567", "DE", "+49301234567", "DE"},
		{"+33 1 42 68 53 00", "", "+33142685300", "FR"},
		{"+33 1 42 68 53 00", "GB", "+33142685300", "FR"},
		{"  +1 954 555 2399  ", "", "+19545552399", "US"},
		// Separators pasted from word processors and other keyboards.
		{"+1 954\u2013555\u20132399", "", "+19545552399", "US"},             // en dashes
		{"954\u00a0555\u00a02399", "", "+19545552399", "US"},                // no-break spaces
		{"\uff08954\uff09555-2399", "", "+19545552399", "US"},               // full-width brackets
		{"\uff0b44\u300020\u30007946\u30000018", "", "+442079460018", "GB"}, // full-width plus, ideographic spaces
	}
	for _, tt := range tests {
		t.Run(tt.input+"/"+tt.region, func(t *testing.T) {
			got, err := ParsePhone(tt.input, tt.region)
			require.NoError(t, err)
			assert.Equal(t, PhoneNumber{E164: tt.e164, Region: tt.country}, got)
		})
	}
}

// TestPhoneInput_RuleT8_jsonNumber: 19545552399 as a JSON number is +19545552399.
func TestPhoneInput_RuleT8_jsonNumber(t *testing.T) {
	p := NewPhoneParser(nil)
	for _, raw := range []string{`19545552399`, `"19545552399"`, `"+1 (954) 555-2399"`, `"+1 954 555\u00202399"`} {
		got, err := p.ParseJSON(json.RawMessage(raw), "")
		require.NoError(t, err, raw)
		assert.Equal(t, "+19545552399", got.E164, raw)
	}
	for _, raw := range []string{``, `null`, `true`, `1.9545552399e10`, `-19545552399`, `{}`, `[19545552399]`, `"unterminated`} {
		_, err := p.ParseJSON(json.RawMessage(raw), "")
		assert.ErrorIs(t, err, ErrInvalidPhone, raw)
		assert.NotContains(t, errString(err), "9545552399", raw)
	}
}

type refusal struct {
	name, input, region string
	reason              PhoneReason
}

func refusals() []refusal {
	return []refusal{
		{"unassigned area code 111", "+11115555555", "", ReasonInvalidForRegion},
		{"too long", "+144455555555", "", ReasonTooLong},
		{"555 area code", "+1 555 555 5555", "", ReasonInvalidForRegion},
		{"seven digits", "5555555", "", ReasonTooShort},
		{"empty", "", "", ReasonEmpty},
		{"blank", "   ", "", ReasonEmpty},
		{"letters only", "call me maybe", "", ReasonNotANumber},
		{"10 KB of digits", strings.Repeat("9545552399", 1024), "", ReasonTooLong},
		{"arabic-indic digits", "+١٩٥٤٥٥٥٢٣٩٩", "", ReasonNotANumber},
		{"full-width digits", "９５４５５５２３９９", "", ReasonNotANumber},
		{"unknown region", "9545552399", "XX", ReasonUnknownRegion},
		{"unknown region with country code", "+19545552399", "ZZ", ReasonUnknownRegion},
		{"invalid country code", "+999 9545552399", "", ReasonInvalidCountryCode},
		{"two digits", "12", "", ReasonTooShort},
	}
}

// TestParsePhone_RuleT8_refuses checks each refusal's reason, its error types, and that
// the error never holds the whole input number.
func TestParsePhone_RuleT8_refuses(t *testing.T) {
	cached := NewPhoneParser(nil)
	for _, tt := range refusals() {
		t.Run(tt.name, func(t *testing.T) {
			for _, parse := range []func(string, string) (PhoneNumber, error){ParsePhone, cached.Parse, cached.Parse} {
				got, err := parse(tt.input, tt.region)
				require.Error(t, err)
				assert.Zero(t, got)
				assert.ErrorIs(t, err, ErrInvalidPhone)
				var pe *PhoneError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.reason, pe.Reason, "reason %v", pe.Reason)
				assertNoNumber(t, tt.input, err)
			}
		})
	}
}

// assertNoNumber fails when the error text holds the input's digits beyond the last four.
func assertNoNumber(t *testing.T, input string, err error) {
	t.Helper()
	msg := err.Error()
	var digits strings.Builder
	for _, c := range input {
		if c >= '0' && c <= '9' {
			digits.WriteRune(c)
		}
	}
	d := digits.String()
	if strings.TrimSpace(input) != "" {
		assert.NotContains(t, msg, strings.TrimSpace(input))
	}
	// No run of five of the input's digits may appear: at most the last four show.
	for i := 0; i+5 <= len(d); i++ {
		if !assert.NotContains(t, msg, d[i:i+5], "error shows more than four digits") {
			break
		}
	}
	assert.LessOrEqual(t, len(msg), 120, "error text grows with the input")
}

func TestPhoneError_unwrapsLibraryError(t *testing.T) {
	_, err := ParsePhone("+999 9545552399", "")
	assert.ErrorIs(t, err, phonenumbers.ErrInvalidCountryCode)
	_, err = ParsePhone(strings.Repeat("1", 300), "")
	assert.ErrorIs(t, err, phonenumbers.ErrNumTooLong)
	assert.True(t, errors.Is(err, ErrInvalidPhone))
}

func TestPhoneReason_String(t *testing.T) {
	assert.Equal(t, "too short", ReasonTooShort.String())
	assert.Equal(t, "invalid", PhoneReason(200).String())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzParsePhone: parsing never panics, and an accepted number re-parses to itself from
// its E.164 form in any region.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"+19545552399", "(917) 555-4444", "1-800-FLOWERS", "020 7946 0018", "+1 555 555 5555", "5555555", "+١٩٥٤"} {
		f.Add(s, "US")
	}
	f.Add("030 1234567", "DE")
	f.Add("020 7946 0018", "gb")
	f.Fuzz(func(t *testing.T, input, region string) {
		got, err := ParsePhone(input, region)
		if err != nil {
			var pe *PhoneError
			if !errors.As(err, &pe) || pe.Reason == 0 {
				t.Fatalf("error %v is not a *PhoneError with a reason", err)
			}
			return
		}
		if !strings.HasPrefix(got.E164, "+") {
			t.Fatalf("E164 %q lacks '+'", got.E164)
		}
		for _, r := range []string{"US", region} {
			again, err := ParsePhone(got.E164, r)
			if errors.Is(err, ErrInvalidPhone) {
				var pe *PhoneError
				if errors.As(err, &pe) && pe.Reason == ReasonUnknownRegion {
					continue
				}
			}
			if err != nil || again != got {
				t.Fatalf("re-parse of %q in %q = %+v, %v; want %+v", got.E164, r, again, err, got)
			}
		}
	})
}

// TestParsePhone_regionOfSharedCallingCodes_RuleT8: a calling code several regions
// share gives the region whose numbering plan the number fits (libphonenumber's leading
// digits and patterns), and a non-geographic number the region "001".
func TestParsePhone_regionOfSharedCallingCodes_RuleT8(t *testing.T) {
	for _, tt := range []struct{ in, e164, region string }{
		{"+44 1624 612345", "+441624612345", "IM"}, // Isle of Man, under +44
		{"+44 7624 123456", "+447624123456", "IM"},
		{"+1 441 295 1234", "+14412951234", "BM"}, // Bermuda, under +1
		{"+7 701 123 4567", "+77011234567", "KZ"}, // Kazakhstan, under +7
		{"+800 1234 5678", "+80012345678", "001"}, // international freephone
	} {
		n, err := ParsePhone(tt.in, "US")
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if n.E164 != tt.e164 || n.Region != tt.region {
			t.Errorf("%s: got %s in %s, want %s in %s", tt.in, n.E164, n.Region, tt.e164, tt.region)
		}
	}
}
