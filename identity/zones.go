package identity

import (
	"slices"

	"github.com/nyaruka/phonenumbers"
)

// PhoneTimeZones returns the IANA time zones libphonenumber knows for a phone in
// E.164, sorted, such as ["America/New_York"] for a 917 number or every zone of the North American Numbering Plan for a
// toll-free one (Rule G3); nil when the number cannot be read or its zone is unknown.
// No phonenumbers type leaves this package.
func PhoneTimeZones(e164 string) []string {
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return nil
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(zones))
	for _, z := range zones {
		if z != "" && z != phonenumbers.UNKNOWN_TIMEZONE {
			out = append(out, z)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}
