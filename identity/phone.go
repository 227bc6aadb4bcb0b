package identity

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/regalkit/regalkit/diag"
)

// DefaultRegion is the region a phone number without a country code is read in when the
// caller names none (Rule T8).
const DefaultRegion = "US"

// maxPhoneInput is the longest input handed to libphonenumber. Longer inputs are refused
// up front (libphonenumber itself stops at 250 characters), which also keeps them out of
// the cache.
const maxPhoneInput = 250

// PhoneNumber is a valid phone number.
type PhoneNumber struct {
	E164   string // the number in E.164, such as "+19545552399"
	Region string // the ISO 3166-1 region it belongs to, such as "US"; "001" for non-geographic numbers
}

// ErrInvalidPhone is the sentinel every phone failure matches with errors.Is.
var ErrInvalidPhone = errors.New("identity: invalid phone number")

// PhoneReason says why an input is not a valid phone number.
type PhoneReason uint8

// The reasons a phone number is refused.
const (
	ReasonEmpty              PhoneReason = iota + 1 // the input is empty or all white space
	ReasonNotANumber                                // not a phone number at all (letters only, unicode digits, a JSON value of the wrong kind)
	ReasonUnknownRegion                             // the default region is not a region libphonenumber knows
	ReasonInvalidCountryCode                        // the country calling code is not assigned
	ReasonTooShort                                  // too few digits for the region
	ReasonTooLong                                   // too many digits for the region, or an input over 250 characters
	ReasonInvalidLength                             // a length no number of the region has
	ReasonInvalidForRegion                          // the right length, but not an assigned number range (Rule T8: "valid", not just "possible")
)

var reasonText = [...]string{
	"invalid",
	"empty",
	"not a number",
	"unknown region",
	"invalid country code",
	"too short",
	"too long",
	"invalid length",
	"not a valid number for its region",
}

// String describes the reason in a few words, such as "too short".
func (r PhoneReason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return reasonText[0]
}

// PhoneError says why an input is not a valid phone number. It never holds the whole
// input: Masked shows at most its last four digits (see [MaskPhone]).
type PhoneError struct {
	Masked string      // the input with all but its last four digits hidden
	Region string      // the default region the input was read in
	Reason PhoneReason // why it was refused
	Err    error       // the underlying parser error, if any
}

func (e *PhoneError) Error() string {
	s := "identity: invalid phone number " + e.Masked
	if e.Region != "" {
		s += " (region " + diag.Mask(e.Region) + ")" // the caller's; masked as every quoted value
	}
	return s + ": " + e.Reason.String()
}

// Unwrap returns the underlying parser error, if there is one.
func (e *PhoneError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidPhone].
func (e *PhoneError) Is(target error) bool { return target == ErrInvalidPhone }

// ParsePhone reads a phone number (Rule T8) from a string in any common format
// ("+1 (954) 555-2399", "954.555.2399", "1-800-FLOWERS", "020 7946 0018") in the given
// default region (an ISO 3166-1 code such as "GB"; [DefaultRegion] when empty, case
// ignored). A number with a country code ("+33 1 42 68 53 00") keeps its own region.
//
// The number must be valid, not just well-formed: "+1 555 555 5555" has the right
// length but no such number is assigned, and is refused. Digits must be ASCII. The
// error is a [*PhoneError] matching [ErrInvalidPhone]. An unknown region is refused
// whatever the input: it is a configuration mistake that would otherwise show only on
// numbers without a country code.
//
// ParsePhone parses afresh on every call; a [PhoneParser] caches results.
func ParsePhone(input, region string) (PhoneNumber, error) {
	region = normalizeRegion(region)
	res := parsePhone(input, region)
	return res.number, res.err()
}

// phoneResult is a parse outcome as the cache keeps it: small, and without an error
// value, so a cache hit returns without allocating.
type phoneResult struct {
	number PhoneNumber
	reason PhoneReason
	masked string
	region string
	cause  error
}

func (r *phoneResult) err() error {
	if r.reason == 0 {
		return nil
	}
	return &PhoneError{Masked: r.masked, Region: r.region, Reason: r.reason, Err: r.cause}
}

func refuse(input, region string, reason PhoneReason, cause error) phoneResult {
	return phoneResult{reason: reason, masked: MaskPhone(input), region: region, cause: cause}
}

func normalizeRegion(region string) string {
	if region == "" {
		return DefaultRegion
	}
	for i := 0; i < len(region); i++ {
		if c := region[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(region)
		}
	}
	return region
}

func parsePhone(input, region string) phoneResult {
	res, _ := parsePhoneKeyed(input, region, false)
	return res
}

// parsePhoneKeyed is parsePhone that, with keyed, also returns a copy of input of its
// own, for a cache key: made in the same allocation as the E.164 string of a valid
// number.
func parsePhoneKeyed(input, region string, keyed bool) (res phoneResult, key string) {
	res, key = parsePhoneIn(input, region, keyed)
	if keyed && key == "" {
		key = strings.Clone(input)
	}
	return res, key
}

func parsePhoneIn(input, region string, keyed bool) (phoneResult, string) {
	if !phonenumbers.GetSupportedRegions()[region] {
		return refuse(input, region, ReasonUnknownRegion, nil), ""
	}
	if strings.TrimSpace(input) == "" {
		return refuse(input, region, ReasonEmpty, nil), ""
	}
	if len(input) > maxPhoneInput {
		return refuse(input, region, ReasonTooLong, phonenumbers.ErrNumTooLong), ""
	}
	if !isASCII(input) {
		ascii, ok := asciiPhone(input)
		if !ok {
			// libphonenumber would read Arabic-Indic digits, say; a CRM field holding
			// them is more likely garbage than a phone.
			return refuse(input, region, ReasonNotANumber, nil), ""
		}
		input = ascii
	}
	digits := 0
	for i := 0; i < len(input); i++ {
		c := input[i]
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits == 0 {
		return refuse(input, region, ReasonNotANumber, phonenumbers.ErrNotANumber), ""
	}
	var (
		num            *phonenumbers.PhoneNumber // nil for a number parseNANP read
		cc             int32
		key, e164, nsn string
		prefix         string
	)
	if keyed {
		prefix = input
	}
	if nn, ok := parseNANP(input, region); ok {
		cc = 1
		key, e164, nsn = appendE164(prefix, 1, 0, nn)
	} else {
		var err error
		num, err = phonenumbers.Parse(input, region)
		if err != nil {
			return refuse(input, region, reasonForParseError(err), err), ""
		}
		cc = num.GetCountryCode()
		key, e164, nsn = formatE164(prefix, num)
	}
	// phonenumbers.IsValidNumber is GetRegionCodeForNumber followed by
	// IsValidNumberForRegion; the region is what a valid number reports, so it is
	// computed once (for a +1 number it costs a full validation against each NANP
	// region in turn, the most expensive step of a parse). Both, and the E.164 format,
	// are computed by the exact equivalents in phonevalid.go, which allocate only the
	// E.164 string.
	var numRegion string
	if usFirst && cc == 1 && validForRegion(cc, nsn, "US") {
		// GetRegionCodeForNumber tries the regions of +1 in turn, US first, and
		// returns the first for which the number is valid (US's metadata has no
		// leading digits, so for US that is the very check just made): a number valid
		// for US is a US number, and the second full validation is saved.
		numRegion = "US"
	} else {
		var valid bool
		numRegion, valid = regionForNumber(cc, nsn)
		if !valid && !validForRegion(cc, nsn, numRegion) {
			if num == nil {
				num = nanpNumber(nsn)
			}
			return refuse(input, region, reasonForInvalid(num), nil), key
		}
	}
	return phoneResult{number: PhoneNumber{E164: e164, Region: numRegion}}, key
}

// usFirst is whether libphonenumber tries US first among the regions of +1, as its
// metadata has it; parsePhone's shortcut for US numbers depends on it.
var usFirst = func() bool {
	r := phonenumbers.GetRegionCodesForCountryCode(1)
	return len(r) > 0 && r[0] == "US"
}()

func reasonForParseError(err error) PhoneReason {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return ReasonInvalidCountryCode
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return ReasonTooShort
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return ReasonTooLong
	}
	return ReasonNotANumber
}

func reasonForInvalid(num *phonenumbers.PhoneNumber) PhoneReason {
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return ReasonInvalidCountryCode
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		// A local-only number ("555-5555" in the US) lacks its area code.
		return ReasonTooShort
	case phonenumbers.TOO_LONG:
		return ReasonTooLong
	case phonenumbers.INVALID_LENGTH:
		return ReasonInvalidLength
	}
	return ReasonInvalidForRegion
}

// PhoneInput returns the text of a phone number given as a JSON value (Rule T8): a JSON
// string is unquoted, and a JSON integer such as 19545552399 is taken digit for digit.
// Any other JSON value is a [*PhoneError] with [ReasonNotANumber].
func PhoneInput(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", &PhoneError{Masked: "***", Region: "", Reason: ReasonEmpty}
	}
	switch c := raw[0]; {
	case c == '"':
		if s, ok := unquoteSimple(raw); ok {
			return s, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", &PhoneError{Masked: "***", Reason: ReasonNotANumber}
		}
		return s, nil
	case c >= '0' && c <= '9':
		for _, d := range raw {
			if d < '0' || d > '9' {
				return "", &PhoneError{Masked: MaskPhone(string(raw)), Reason: ReasonNotANumber}
			}
		}
		return string(raw), nil
	}
	return "", &PhoneError{Masked: "***", Reason: ReasonNotANumber}
}

// unquoteSimple unquotes a JSON string without escapes.
func unquoteSimple(raw []byte) (string, bool) {
	body, ok := simpleBody(raw)
	if !ok {
		return "", false
	}
	return string(body), true
}

// simpleBody returns the content of raw when it is a JSON string without escapes.
func simpleBody(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return body, true
}

// parseNANP reads the commonest shapes of a North American number (Rule T8) without
// phonenumbers.Parse, whose regular expressions (viability, extensions, country code
// and national prefix) cost more than validating the number: ten digits whose first is
// 2-9, preceded by "+1" in any region, or by "1" or nothing in region US, with only
// spaces, '-', '.', '(' and ')' between or around the digits. For these Parse finds no
// extension (no letter, '#', ';', ',' or '~'), no IDD prefix (US's is 011, and the
// national part cannot start with 0 or 1), takes "1" before ten more digits for the
// country code (eleven digits are too long for a US national number), strips no national
// prefix (US's is 1) and sets no Italian leading zero: its result is country code 1 and
// the ten digits as the national number, which is what parseNANP returns (the national
// number; the country code is 1). Anything else
// reports false, and the caller asks Parse. TestParsePhone_matchesLibphonenumber checks
// the equivalence on generated inputs.
func parseNANP(input, region string) (nationalNumber uint64, ok bool) {
	var digits [11]byte
	n, plus := 0, false
	for i := 0; i < len(input); i++ {
		switch c := input[i]; {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return 0, false
			}
			digits[n] = c
			n++
		case c == '+':
			if i != 0 {
				return 0, false
			}
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return 0, false
		}
	}
	var national []byte
	switch {
	case n == 11 && digits[0] == '1' && (plus || region == "US"):
		national = digits[1:11]
	case n == 10 && !plus && region == "US":
		national = digits[:10]
	default:
		return 0, false
	}
	if national[0] < '2' {
		return 0, false
	}
	var nn uint64
	for _, c := range national {
		nn = nn*10 + uint64(c-'0')
	}
	return nn, true
}

// nanpNumber is the libphonenumber number parseNANP read, given its national
// significant number (ten digits, the first 2-9): only a number found invalid needs it,
// to say why.
func nanpNumber(nsn string) *phonenumbers.PhoneNumber {
	nn, _ := strconv.ParseUint(nsn, 10, 64)
	cc := int32(1)
	return &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiPhone returns s with the separators people paste into phone numbers from word
// processors and other keyboards written as ASCII: the ones libphonenumber reads as
// punctuation (no-break and ideographic spaces, zero-width spaces and joiners, soft
// hyphens, dashes and the minus sign, full-width brackets, slashes and tildes) and its
// full-width plus, so that the number reads as libphonenumber reads it. ok is false
// when s holds any other non-ASCII character, digits of other scripts included (see
// parsePhoneIn).
func asciiPhone(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r == '\uff0b':
			b.WriteByte('+')
		case r == '\u00a0', r == '\u3000':
			b.WriteByte(' ')
		case r == '\u00ad', r == '\u200b', r == '\u2060', r >= '\u2010' && r <= '\u2015', r == '\u2212', r == '\u30fc',
			r >= '\uff0d' && r <= '\uff0f', r == '\u2053', r == '\u223c', r == '\uff5e':
			b.WriteByte('-')
		case r == '\uff08', r == '\uff3b':
			b.WriteByte('(')
		case r == '\uff09', r == '\uff3d':
			b.WriteByte(')')
		default:
			return "", false
		}
	}
	return b.String(), true
}
