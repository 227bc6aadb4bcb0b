package optin

import (
	"errors"
	"strconv"
	"strings"

	"github.com/regalkit/regalkit/diag"
)

// Channel is a way of reaching a contact that needs consent (Rule C1). Records keep the
// channel they were given, so a refused record can hold a channel that is not one of the
// three; [Channel.Valid] tells them apart.
type Channel string

// The channels regalkit knows (Rule C1). SMS and Voice apply to a phone; Email applies to
// an email address.
const (
	SMS   Channel = "sms"
	Voice Channel = "voice"
	Email Channel = "email"
)

// ParseChannel returns the channel named s, matching case-insensitively and ignoring
// surrounding spaces ("SMS" is [SMS]). ok is false for any other name (Rule C1).
func ParseChannel(s string) (c Channel, ok bool) {
	switch c := Channel(strings.ToLower(strings.TrimSpace(s))); c {
	case SMS, Voice, Email:
		return c, true
	}
	return "", false
}

// Valid reports whether c is SMS, Voice or Email.
func (c Channel) Valid() bool { return c == SMS || c == Voice || c == Email }

// String returns the channel's name.
func (c Channel) String() string { return string(c) }

// addressKey is the JSON key that names the address a channel applies to.
func (c Channel) addressKey() string {
	if c == Email {
		return "email"
	}
	return "phone"
}

// State is the consent state of one address on one channel (Rule C9). The zero State is
// [StateNone].
type State uint8

// The three states of Rule C9, named as Regal shows them: Subscribed, Unsubscribed and No
// Status.
const (
	// StateNone: no valid record applies yet.
	StateNone State = iota
	// StateSubscribed: the deciding record opts in.
	StateSubscribed
	// StateUnsubscribed: the deciding record opts out.
	StateUnsubscribed
)

var stateNames = [...]string{"none", "subscribed", "unsubscribed"}

// String returns "none", "subscribed" or "unsubscribed"; an out-of-range State is
// "invalid".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

// MarshalText returns the state's name, as the contact export writes it (RULES.md, X).
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, errors.New("optin: invalid state")
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, name := range stateNames {
		if string(b) == name {
			*s = State(i)
			return nil
		}
	}
	return errors.New("optin: unknown state " + quoteShort(string(b)))
}

// Outcome is what became of a record in the history (Rule C7). It is derived from the
// whole set of records, never from the order they arrived in.
type Outcome string

// The outcomes of Rule C7.
const (
	// Applied: the record decides its address and channel's state (Rule C6).
	Applied Outcome = "applied"
	// Superseded: the record is valid, but another record for the same address and
	// channel decides (it is newer, or as new and wins the tie, Rule C6).
	Superseded Outcome = "superseded"
	// Refused: the record breaks Rule C1, C2, C3 or C4; Record.Refused says which.
	Refused Outcome = "refused"
	// Pending: the record is valid but has no address yet (Rule C5).
	Pending Outcome = "pending"
)

// quoteShort quotes s for an error message, cut to 20 bytes and with its digits hidden:
// the text may be anything a payload held, including a phone number.
func quoteShort(s string) string {
	if strings.ContainsRune(s, '@') {
		s = diag.Mask(s) // an address's local part goes first: the cut below could keep it
	}
	if len(s) > 20 {
		s = s[:20]
	}
	b := []byte(s)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '#'
		}
	}
	return strconv.Quote(strings.ToValidUTF8(string(b), ""))
}
