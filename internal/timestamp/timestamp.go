// Package timestamp parses the timestamps found in real Segment traffic (Rule D4).
//
// One parser serves every package that reads times: the Segment decoder (message
// timestamps) and the consent package (opt-in record timestamps). It accepts RFC 3339 and
// the variants that real payloads carry, and always returns a time in UTC.
package timestamp

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// ErrInvalid is the sentinel every parse failure unwraps to.
var ErrInvalid = errors.New("timestamp: invalid")

// Error describes a value that is not a timestamp. Its message quotes at most the first
// 40 bytes of the input.
type Error struct {
	Input  string // the input, cut to 40 bytes
	Reason string // what is wrong with it
}

func (e *Error) Error() string {
	return "timestamp: invalid " + strconv.Quote(e.Input) + ": " + e.Reason
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

func fail(input, reason string) error {
	if len(input) > 40 {
		input = input[:40]
	}
	// A copy: ParseBytes hands Parse a string that shares the caller's bytes.
	return &Error{Input: strings.Clone(input), Reason: reason}
}

// ParseBytes is Parse of the text in b, without copying it to a string first. It
// keeps no reference to b.
func ParseBytes(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return Parse("")
	}
	// Parse keeps nothing of s: the time it returns is in UTC, and an error holds a
	// copy (fail).
	return Parse(unsafe.String(&b[0], len(b)))
}

// Epoch values at or above this are milliseconds, below it seconds. 1e11 seconds is the
// year 5138; 1e11 milliseconds is March 1973, earlier than any Segment traffic.
const millisThreshold = 1e11

// Parse reads a timestamp written as text (Rule D4):
//
//   - RFC 3339 with 0 to 9 fraction digits (a comma also separates the fraction);
//   - 'T', 't' or a space between date and time;
//   - a zone as 'Z', '+hh:mm', '+hhmm' or '+hh', optionally after a space; none means UTC;
//   - unpadded date and time fields, as in "2015-2-02T00:30:08.276Z";
//   - a bare date ("2020-08-25"), midnight UTC;
//   - Go's time.Time.String form, "2020-05-09 23:54:49.209808489 +0000 UTC", with or
//     without its monotonic suffix " m=+70366.298768264";
//   - Unix epoch seconds or milliseconds as a numeric string, with an optional fraction.
//
// The result is always in UTC, and within [Min, Max]: a time outside is refused.
func Parse(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fail(s, "empty")
	}
	var t time.Time
	var err error
	switch {
	case isNumeric(s):
		t, err = parseEpoch(s)
	default:
		var ok bool
		if t, ok = parseCanonical(s); !ok {
			p := parser{s: s}
			t, err = p.parse()
		}
	}
	if err == nil && !InRange(t) {
		return time.Time{}, fail(s, "outside the years 1677 to 2262")
	}
	return t, err
}

// Min and Max bound the times regalkit keeps: those of 64-bit nanoseconds since 1970
// (1677-09-21 to 2262-04-11). A contact orders writes by such numbers (Rule T4), the
// stores keep them, and the export writes them in RFC 3339, whose years end at 9999:
// an event time, a consent time or a message's clock outside them would order wrongly
// or make a contact that cannot be written.
var (
	Min = time.Unix(0, math.MinInt64).UTC()
	Max = time.Unix(0, math.MaxInt64).UTC()
)

// InRange reports whether t is within [Min, Max].
func InRange(t time.Time) bool { return !t.Before(Min) && !t.After(Max) }

// parseCanonical reads the form nearly every Segment library writes,
// "2006-01-02T15:04:05Z" with 0 to 9 fraction digits before the Z, without the general
// parser's field-by-field scan and time.Date's normalization: a message carries three
// or four timestamps, and this form costs about a third of the general path
// (BenchmarkParse). It reports false for anything else, valid or not, and for dates
// the general parser refuses, so that Parse's result is the same either way
// (TestParseCanonical_sameAsParser).
func parseCanonical(s string) (time.Time, bool) {
	n := len(s)
	if n < 20 || n > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	second, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 60 {
		return time.Time{}, false
	}
	nanos := 0
	if n > 20 {
		frac := s[19 : n-1]
		if frac[0] != '.' || len(frac) < 2 {
			return time.Time{}, false
		}
		f, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for k := len(frac) - 1; k < 9; k++ {
			f *= 10
		}
		nanos = f
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+second)
	return time.Unix(secs, int64(nanos)).UTC(), true
}

// digits reads s, 1 to 9 decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// daysSinceEpoch returns the days from 1970-01-01 to the proleptic Gregorian date
// year-month-day (0 <= year <= 9999), counting eras of 400 years.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // [0, 399]
	mp := int64((month + 9) % 12)          // March = 0
	doy := (153*mp+2)/5 + int64(day) - 1   // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// ParseJSON reads a timestamp from a JSON value: a string as [Parse] reads it, or a
// number of Unix epoch seconds or milliseconds. JSON null and other kinds are errors.
func ParseJSON(raw []byte) (time.Time, error) {
	if len(raw) == 0 {
		return time.Time{}, fail("", "empty")
	}
	switch c := raw[0]; {
	case c == '"':
		content, escaped, ok := jsonvalue.Content(raw)
		switch {
		case !ok:
			return time.Time{}, fail(string(raw), "not a JSON string")
		case !escaped:
			return ParseBytes(content) // the common case, read in place
		}
		s, _ := jsonvalue.String(raw)
		return Parse(s)
	case c == '-' || (c >= '0' && c <= '9'):
		if !isNumeric(string(raw)) {
			return time.Time{}, fail(string(raw), "not an epoch number")
		}
		return Parse(string(raw))
	default:
		return time.Time{}, fail(string(raw), "not a string or number")
	}
}

// Format writes t as Go's RFC3339Nano in UTC: the fraction kept, trailing zeros dropped
// (RULES.md, X).
func Format(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// isNumeric reports whether s is an unsigned decimal number with an optional fraction.
func isNumeric(s string) bool {
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

func parseEpoch(s string) (time.Time, error) {
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n > 1e15 {
		return time.Time{}, fail(s, "epoch out of range")
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var nanos int64
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		nanos = f
	}
	if n >= millisThreshold {
		return time.UnixMilli(n).Add(time.Duration(nanos / 1000)).UTC(), nil
	}
	return time.Unix(n, nanos).UTC(), nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) more() bool { return p.pos < len(p.s) }

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// number reads between min and max decimal digits.
func (p *parser) number(min, max int) (int, bool) {
	n, start := 0, p.pos
	for p.pos < len(p.s) && p.pos-start < max {
		c := p.s[p.pos]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		p.pos++
	}
	return n, p.pos-start >= min
}

func (p *parser) expect(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) parse() (time.Time, error) {
	year, ok := p.number(4, 4)
	if !ok || !p.expect('-') {
		return time.Time{}, fail(p.s, "want a date as YYYY-MM-DD")
	}
	month, ok := p.number(1, 2)
	if !ok || !p.expect('-') {
		return time.Time{}, fail(p.s, "want a date as YYYY-MM-DD")
	}
	day, ok := p.number(1, 2)
	if !ok {
		return time.Time{}, fail(p.s, "want a date as YYYY-MM-DD")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, fail(p.s, "date out of range")
	}
	if !p.more() {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
	}
	if c := p.peek(); c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, fail(p.s, "want 'T' or a space after the date")
	}
	p.pos++
	hour, ok1 := p.number(1, 2)
	colon := p.expect(':')
	minute, ok2 := p.number(1, 2)
	if !ok1 || !colon || !ok2 {
		return time.Time{}, fail(p.s, "want a time as hh:mm[:ss]")
	}
	second := 0
	if p.expect(':') {
		if second, ok = p.number(1, 2); !ok {
			return time.Time{}, fail(p.s, "want seconds after ':'")
		}
	}
	// A leap second (RFC 3339 allows second 60) is read as the next minute's second 0,
	// the instant after it that Go's time and Unix time can write; 24:00:00 is not
	// accepted.
	if hour > 23 || minute > 59 || second > 60 {
		return time.Time{}, fail(p.s, "time out of range")
	}
	nanos := 0
	if c := p.peek(); c == '.' || c == ',' {
		p.pos++
		start := p.pos
		for p.more() && p.peek() >= '0' && p.peek() <= '9' {
			if p.pos-start < 9 {
				nanos = nanos*10 + int(p.peek()-'0')
			}
			p.pos++
		}
		n := p.pos - start
		if n == 0 {
			return time.Time{}, fail(p.s, "want digits after the decimal point")
		}
		for ; n < 9; n++ {
			nanos *= 10
		}
	}
	offset, err := p.zone()
	if err != nil {
		return time.Time{}, err
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// zone reads the rest of the input as a zone and returns its offset east of UTC in
// seconds.
func (p *parser) zone() (int, error) {
	if p.peek() == ' ' {
		p.pos++
	}
	if !p.more() {
		return 0, nil
	}
	sign := 1
	switch p.peek() {
	case 'Z', 'z':
		p.pos++
		if p.more() {
			return 0, fail(p.s, "unexpected text after the zone")
		}
		return 0, nil
	case '+':
	case '-':
		sign = -1
	default:
		return 0, fail(p.s, "want a zone as Z or ±hh:mm")
	}
	p.pos++
	hh, ok := p.number(2, 2)
	if !ok {
		return 0, fail(p.s, "want a zone as Z or ±hh:mm")
	}
	mm := 0
	if p.more() {
		p.expect(':')
		if mm, ok = p.number(2, 2); !ok {
			return 0, fail(p.s, "want a zone as Z or ±hh:mm")
		}
	}
	if p.more() && !p.goSuffix() {
		return 0, fail(p.s, "unexpected text after the zone")
	}
	if hh > 23 || mm > 59 {
		return 0, fail(p.s, "zone out of range")
	}
	return sign * (hh*3600 + mm*60), nil
}

// goSuffix reports whether the rest of the input is what Go's time.Time.String writes
// after a numeric zone: a space and the zone's abbreviation ("UTC", "EST", or "+03" for
// a zone without one), then optionally the monotonic clock reading, " m=+70366.298768264"
// (Segment's partner docs show such a value). The numeric zone decides the offset.
func (p *parser) goSuffix() bool {
	rest := p.s[p.pos:]
	if len(rest) < 2 || rest[0] != ' ' {
		return false
	}
	rest = rest[1:]
	n := 0 // the abbreviation: capitals ("UTC", "CEST"), or a sign and digits ("+03")
	if rest[0] == '+' || rest[0] == '-' {
		for n = 1; n < len(rest) && n < 6 && isDigit(rest[n]); n++ {
		}
		if n == 1 {
			return false
		}
	} else {
		for n < len(rest) && n < 6 && 'A' <= rest[n] && rest[n] <= 'Z' {
			n++
		}
	}
	if n == 0 || (n < len(rest) && rest[n] != ' ') {
		return false
	}
	rest = rest[n:]
	if rest == "" {
		return true
	}
	// " m=±seconds[.fraction]"
	if len(rest) < 5 || rest[:3] != " m=" || (rest[3] != '+' && rest[3] != '-') {
		return false
	}
	return isNumeric(rest[4:])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
