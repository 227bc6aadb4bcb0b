package contactcore

import "strings"

// The contact's own time zone (Rule G3): the IANA name an identify's context.timezone
// told, as Segment's libraries send it. It is a register like every standard trait
// (Rule T4): the latest message by event time, then messageId, sets it, whatever order
// messages arrive in.

// TimeZone returns the IANA time zone, such as "America/New_York", the contact's
// identify calls told in context.timezone (Rule G3); empty when none did. The name is
// checked for its shape only: whether the zone database knows it is the reader's
// question.
func (c *Contact) TimeZone() string { return c.shown().fields[fieldTimeZone].val }

// maxZoneName bounds a time zone name; the longest IANA names are about 30 bytes.
const maxZoneName = 64

// ZoneName reports whether s has the shape of an IANA zone name (letters, digits, "_",
// "+", "-", and "/" between parts), as context.timezone must (Rule G3).
func ZoneName(s string) bool { return zoneName(s) }

// zoneName reports whether s has the shape of an IANA zone name.
func zoneName(s string) bool {
	if s == "" || len(s) > maxZoneName || s[0] == '/' || s[len(s)-1] == '/' || strings.Contains(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}
