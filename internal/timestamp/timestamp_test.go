package timestamp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParse_RuleD4 covers every variant Rule D4 lists, each with its expected UTC instant.
func TestParse_RuleD4(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC3339Nano, UTC
	}{
		{"2015-12-12T19:11:01.249Z", "2015-12-12T19:11:01.249Z"},
		{"2015-12-12T19:11:01Z", "2015-12-12T19:11:01Z"},
		{"2015-12-12T19:11:01.1Z", "2015-12-12T19:11:01.1Z"},
		{"2015-12-12T19:11:01.123456789Z", "2015-12-12T19:11:01.123456789Z"},
		{"2015-12-12T19:11:01.1234567891Z", "2015-12-12T19:11:01.123456789Z"},
		{"2015-12-12t19:11:01z", "2015-12-12T19:11:01Z"},
		{"2015-12-12T19:11:01,5Z", "2015-12-12T19:11:01.5Z"},
		{"2020-08-25T17:23:43+02:00", "2020-08-25T15:23:43Z"},
		{"2020-08-25T17:23:43+0200", "2020-08-25T15:23:43Z"},
		{"2020-08-25T17:23:43+02", "2020-08-25T15:23:43Z"},
		{"2020-08-25T17:23:43-05:30", "2020-08-25T22:53:43Z"},
		{"2020-08-25 17:23:43Z", "2020-08-25T17:23:43Z"},
		{"2015-2-02T00:30:08.276Z", "2015-02-02T00:30:08.276Z"},
		{"2015-2-2T0:30:8Z", "2015-02-02T00:30:08Z"},
		{"2000-08-20 09:12:28 -04:00", "2000-08-20T13:12:28Z"},
		{"2020-08-25T21:23:43", "2020-08-25T21:23:43Z"},
		{"2020-08-25T21:23", "2020-08-25T21:23:00Z"},
		{"2020-08-25", "2020-08-25T00:00:00Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z"},
		{"1598390623", "2020-08-25T21:23:43Z"},
		{"1598390623.5", "2020-08-25T21:23:43.5Z"},
		{"1598390623123", "2020-08-25T21:23:43.123Z"},
		{"0", "1970-01-01T00:00:00Z"},
		// Go's time.Time.String, as Segment's partner docs show it (issue 12).
		{"2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264", "2020-05-09T23:54:49.209808489Z"},
		{"2020-05-09 23:54:49.209808489 +0000 UTC", "2020-05-09T23:54:49.209808489Z"},
		{"2020-05-09 19:54:49 -0400 EDT m=-0.5", "2020-05-09T23:54:49Z"},
		{"2020-05-10 02:54:49 +0300 +03", "2020-05-09T23:54:49Z"},
		// A leap second is RFC 3339: read as the next second (a review found it refused).
		{"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"},
		{"2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.5Z"},
		{"2016-12-31T18:59:60-05:00", "2017-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Location() != time.UTC {
				t.Errorf("Parse(%q) location = %v, want UTC", tt.in, got.Location())
			}
			if s := Format(got); s != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

// TestParse_invalid_RuleD4: text that is no timestamp of Rule D4 is refused with an
// *Error that says why.
func TestParse_invalid_RuleD4(t *testing.T) {
	for _, in := range []string{
		"", "yesterday", "2015-", "2015-13-01", "2015-02-30", "2023-02-29", "15-02-02",
		"2015-02-02X10:00:00Z", "2015-02-02T25:00:00Z", "2015-02-02T10:60:00Z", "2015-02-02T10:00:61Z",
		"2015-02-02T10:00:00.Z", "2015-02-02T10:00:00+5", "2015-02-02T10:00:00+05:00 extra",
		"2015-02-02T10:00:00Zjunk", "2015-02-02 10:00:00 +0000 UTC m=", "2015-02-02 10:00:00 +0000 UTC m=1",
		"2015-02-02 10:00:00 +0000 UTC junk", "2015-02-02 10:00:00 +0000 utc", "2015-02-02 10:00:00 +0000 + m=+1", "2015-02-02T10", "1.", ".5", "-1", "1e9",
		"99999999999999999999",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := Parse(in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error = %v, want ErrInvalid", in, err)
			}
			var te *Error
			if !errors.As(err, &te) || te.Reason == "" {
				t.Fatalf("Parse(%q) error %v is not an *Error with a reason", in, err)
			}
		})
	}
}

// TestParseJSON_RuleD4: a timestamp field is a JSON string, or Unix seconds or
// milliseconds as a number (Rule D4).
func TestParseJSON_RuleD4(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{`"2015-12-12T19:11:01.249Z"`, "2015-12-12T19:11:01.249Z"},
		{`"2015-2-02T00:30:08.276Z"`, "2015-02-02T00:30:08.276Z"},
		{`"1598390623"`, "2020-08-25T21:23:43Z"},
		{`1598390623`, "2020-08-25T21:23:43Z"},
		{`1598390623123`, "2020-08-25T21:23:43.123Z"},
		{`"2015-12-12T19:11:01.249\u005a"`, "2015-12-12T19:11:01.249Z"},
	}
	for _, tt := range tests {
		got, err := ParseJSON([]byte(tt.raw))
		if err != nil {
			t.Errorf("ParseJSON(%s): %v", tt.raw, err)
			continue
		}
		if s := Format(got); s != tt.want {
			t.Errorf("ParseJSON(%s) = %s, want %s", tt.raw, s, tt.want)
		}
	}
	for _, raw := range []string{``, `null`, `true`, `{}`, `[]`, `"x`, `-5`, `1e10`, `"nope"`} {
		if _, err := ParseJSON([]byte(raw)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseJSON(%s) error = %v, want ErrInvalid", raw, err)
		}
	}
}

func TestErrorQuotesAtMost40Bytes(t *testing.T) {
	long := "2015-02-02T10:00:00Z" + string(make([]byte, 1000))
	_, err := Parse(long)
	var te *Error
	if !errors.As(err, &te) || len(te.Input) != 40 {
		t.Fatalf("error = %#v, want an *Error quoting 40 bytes", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2015-2-02T00:30:08.276Z", "2000-08-20 09:12:28 -04:00", "1598390623123", "2020-08-25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fast, ok := parseCanonical(s); ok {
			p := parser{s: s}
			if slow, err := p.parse(); err != nil || slow != fast {
				t.Fatalf("%q: fast path %#v, general parser %#v, %v", s, fast, slow, err)
			}
		}
		got, err := Parse(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("Parse(%q) not in UTC", s)
		}
		// A formatted result parses back to the same instant.
		again, err := Parse(Format(got))
		if err != nil && got.Year() >= 0 && got.Year() <= 9999 {
			t.Fatalf("Parse(Format(%v)): %v", got, err)
		}
		if err == nil && !again.Equal(got) {
			t.Fatalf("round trip of %q: %v != %v", s, again, got)
		}
	})
}

// TestParseCanonical_sameAsParser: the fast path for the canonical form gives exactly
// what the general parser gives (the same time.Time, location included), over every
// month and day boundary of years around the epoch, leap years, the first and last
// years, out-of-range fields and every fraction length; and it is taken for every
// canonical input the general parser accepts.
func TestParseCanonical_sameAsParser(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	years := []int{0, 1, 4, 99, 100, 400, 1600, 1899, 1900, 1969, 1970, 1971, 1999, 2000, 2004, 2023, 2024, 2100, 2400, 9999}
	fracs := []string{"", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".1234567", ".12345678", ".123456789", ".", ".1234567890", ".x"}
	check := func(in string) {
		t.Helper()
		fast, ok := parseCanonical(in)
		p := parser{s: in}
		slow, err := p.parse()
		switch {
		case ok && err != nil:
			t.Fatalf("%q: fast path %v, general parser refuses: %v", in, fast, err)
		case ok && fast != slow:
			t.Fatalf("%q: fast path %#v, general parser %#v", in, fast, slow)
		}
	}
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for _, d := range []int{0, 1, 28, 29, 30, 31, 32} {
				for _, f := range fracs {
					in := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, rng.IntN(25), rng.IntN(61), rng.IntN(61), f)
					check(in)
					p := parser{s: in}
					if _, err := p.parse(); err == nil {
						if _, ok := parseCanonical(in); !ok && len(in) <= 30 {
							t.Fatalf("%q: the general parser accepts it, the fast path does not", in)
						}
					}
				}
			}
		}
	}
	for range 20000 {
		sec := rng.Int64N(253402300800) // 0000-01-01 .. 9999-12-31, shifted below
		tm := time.Unix(sec-62167219200, rng.Int64N(1e9)).UTC()
		check(tm.Format("2006-01-02T15:04:05.000Z07:00"))
		check(tm.Format(time.RFC3339Nano))
		check(tm.Format("2006-01-02T15:04:05Z07:00"))
	}
	// Near misses fall back to the general parser, which decides.
	for _, in := range []string{"2024-01-01T00:00:00z", "2024-01-01t00:00:00Z", "2024-1-01T00:00:00.0Z", "2024-01-01T00:00:00+00:00", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00,5Z", "+024-01-01T00:00:00Z", "2024-01-01T00:00:0aZ"} {
		if _, ok := parseCanonical(in); ok {
			t.Fatalf("%q took the fast path", in)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("2015-12-12T19:11:01.249Z"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for _, in := range []string{"2015-2-02T00:30:08.276Z", "2000-08-20 09:12:28 -04:00", "2024-03-01", "", "not a time at all"} {
		b := []byte(in)
		want, wantErr := Parse(in)
		got, err := ParseBytes(b)
		assert.Equal(t, want, got, in)
		assert.Equal(t, wantErr, err, in)
		if err != nil {
			var te *Error
			require.ErrorAs(t, err, &te)
			copy(b, strings.Repeat("x", len(b)))
			assert.Equal(t, in[:min(len(in), 40)], te.Input, "the error keeps a copy, not the caller's bytes")
		}
	}
}

// TestParseJSON_jsonEscapes_RuleD4: a JSON string's escapes are JSON's (Rule D4 reads JSON),
// not Go's: a \u escape is read, a Go-only escape such as "\x5a" is not JSON.
func TestParseJSON_jsonEscapes_RuleD4(t *testing.T) {
	want := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{`"2024-03-01T12:00:00Z"`, `"2024\u002d03-01T12:00:00Z"`, `"2024-03-01T12:00:00\u005a"`} {
		got, err := ParseJSON([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseJSON([]byte(`"2024-03-01T12:00:00\x5a"`))
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "not a JSON string")
}

// TestParse_range_RuleD4: a time outside the years of 64-bit nanoseconds since 1970 is
// refused, in every form: a contact could neither order it nor be written with it.
func TestParse_range_RuleD4(t *testing.T) {
	for _, in := range []string{"9999-12-31T23:30:00-01:00", "2263-01-01T00:00:00Z", "1600-01-01T00:00:00Z", "1000000000000000", "0001-01-01T00:00:00Z"} {
		_, err := Parse(in)
		assert.ErrorIs(t, err, ErrInvalid, in)
	}
	_, err := ParseJSON([]byte("1000000000000000"))
	assert.ErrorIs(t, err, ErrInvalid, "epoch milliseconds in the year 33658")
	for _, in := range []string{"2262-04-11T23:47:16Z", "1677-09-21T00:12:44Z", Format(Min), Format(Max)} {
		got, err := Parse(in)
		require.NoError(t, err, in)
		assert.True(t, InRange(got), in)
	}
}
