package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Kind is the type of a Segment message (Rule D2).
type Kind uint8

// The seven message kinds. The zero Kind is invalid.
const (
	Identify Kind = iota + 1
	Track
	Page
	Screen
	Group
	Alias
	Delete
)

var kindNames = [...]string{"", "identify", "track", "page", "screen", "group", "alias", "delete"}

// String returns the kind's Segment type name, such as "identify".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "invalid"
}

// ParseKind returns the kind named s, matching case-insensitively (Rule D2).
func ParseKind(s string) (Kind, bool) {
	for k := Identify; k <= Delete; k++ {
		if strings.EqualFold(s, kindNames[k]) {
			return k, true
		}
	}
	return 0, false
}

// MarshalText returns the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name, case-insensitively.
func (k *Kind) UnmarshalText(b []byte) error {
	v, ok := ParseKind(string(b))
	if !ok {
		return &json.UnsupportedValueError{Str: string(b)}
	}
	*k = v
	return nil
}

// Member is one key of a JSON object with its exact value.
type Member struct {
	Key string
	// Value is the member's value as compact JSON text, exactly as received: numbers
	// digit for digit, nested keys in their order.
	Value json.RawMessage
}

// Object is a JSON object kept exactly: its members in input order, each value as raw
// JSON text. Nothing in it ever passes through float64. A nil Object is an absent object.
type Object []Member

// Get returns the value of the first member named key.
func (o Object) Get(key string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Clone returns a deep copy of o.
func (o Object) Clone() Object {
	if o == nil {
		return nil
	}
	c := make(Object, len(o))
	for i, m := range o {
		c[i] = Member{Key: m.Key, Value: bytes.Clone(m.Value)}
	}
	return c
}

// Message is a source-neutral message: what a Segment call says, decoded and validated.
//
// Traits, properties and the other free-form objects keep their values exactly (see
// [Object]).
type Message struct {
	Kind      Kind
	MessageID string

	UserID      string
	AnonymousID string
	PreviousID  string // alias only
	GroupID     string // group only

	Event    string // track: the event name
	Name     string // page and screen: the page or screen name
	Category string // page and screen

	// Time is when the message happened (Rule D5), in UTC.
	Time time.Time

	Traits     Object // identify and group traits
	Properties Object // track, page and screen properties
	Context    Context
}

// Context is the message's context object.
type Context struct {
	IP        string
	UserAgent string
	Locale    string
	Traits    Object
}

// Record is an event as kept on a contact (Rule E1).
type Record struct {
	Kind       Kind
	Name       string
	Category   string
	GroupID    string
	Properties Object
	Time       time.Time
	MessageID  string
}
