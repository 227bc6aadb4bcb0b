package event

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
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

// kinds is the one table of message kinds: each kind's Segment type name (Rule D2) and
// what Rule D6 requires of a message of that kind. Validate, String, ParseKind and Valid
// read it; a new kind is one entry here and a constant above.
var kinds = [...]struct {
	name string
	// identity: the message needs a userId or an anonymousId (message.no_identity).
	identity bool
	// needs lists the fields that must not be empty, checked in this order after the
	// identity.
	needs []requiredField
}{
	Identify: {name: "identify", identity: true},
	Track:    {name: "track", identity: true, needs: []requiredField{{fieldEvent, diag.MessageNoEvent}}},
	Page:     {name: "page", identity: true},
	Screen:   {name: "screen", identity: true},
	Group:    {name: "group", identity: true, needs: []requiredField{{fieldGroupID, diag.MessageNoGroup}}},
	Alias:    {name: "alias", needs: []requiredField{{fieldUserID, diag.MessageNoUserID}, {fieldPreviousID, diag.MessageNoPreviousID}}},
	Delete:   {name: "delete", needs: []requiredField{{fieldUserID, diag.MessageNoUserID}}},
}

// requiredField is a field Rule D6 requires of a kind, and the code of its absence.
type requiredField struct {
	field messageField
	code  diag.Code
}

// messageField names a string field of a Message that a kind may require. It is an
// enumeration, not a function, so that reading a field does not make the message
// escape to the heap.
type messageField uint8

const (
	fieldUserID messageField = iota
	fieldPreviousID
	fieldEvent
	fieldGroupID
)

// name returns the field's Segment key, as a diagnostic's Field names it.
func (f messageField) name() string {
	return [...]string{"userId", "previousId", "event", "groupId"}[f]
}

// of returns the field's value in m.
func (f messageField) of(m *Message) string {
	switch f {
	case fieldUserID:
		return m.UserID
	case fieldPreviousID:
		return m.PreviousID
	case fieldEvent:
		return m.Event
	}
	return m.GroupID
}

// Valid reports whether k is one of the seven kinds.
func (k Kind) Valid() bool { return k >= Identify && int(k) < len(kinds) }

// String returns the kind's Segment type name, such as "identify".
func (k Kind) String() string {
	if k.Valid() {
		return kinds[k].name
	}
	return "invalid"
}

// ParseKind returns the kind named s, matching case-insensitively (Rule D2).
func ParseKind(s string) (Kind, bool) {
	for k := Identify; k.Valid(); k++ {
		if strings.EqualFold(s, kinds[k].name) {
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

// Clone returns a deep copy of o that shares no memory with it. nil stays nil.
func (o Object) Clone() Object {
	if o == nil {
		return nil
	}
	var nk, nv int
	for _, m := range o {
		nk += len(m.Key)
		nv += len(m.Value)
	}
	var keys strings.Builder
	keys.Grow(nk)
	for _, m := range o {
		keys.WriteString(m.Key)
	}
	all := keys.String()
	values := make([]byte, 0, nv)
	c := make(Object, len(o))
	for i, m := range o {
		c[i].Key, all = all[:len(m.Key)], all[len(m.Key):]
		if m.Value != nil {
			start := len(values)
			values = append(values, m.Value...)
			c[i].Value = values[start:len(values):len(values)]
		}
	}
	return c
}

// Message is a source-neutral message: what a Segment call says, decoded and validated.
//
// Traits, properties and the other free-form objects keep their values exactly (see
// [Object]). A decoder may share one buffer between a message's strings and values;
// [Message.Clone] gives a copy that shares nothing.
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

	// Time is when the message happened (Rule D5), in UTC. The zero Time means none of
	// the message's timestamps could be used: the processor's clock applies.
	Time time.Time
	// Timestamps are the raw time fields Time was computed from.
	Timestamps Timestamps

	// Channel is the top-level "channel" ("server", "browser", "mobile"); a channel sent
	// inside the context is in Context.Channel (Rule D3). See [Message.SourceChannel].
	Channel string
	// Version is the payload's "version", sent as a number or a string (Rule D3): the
	// number's digits or the string's text.
	Version string

	Traits     Object // identify and group traits
	Properties Object // track, page and screen properties
	Context    Context
	// Integrations is the "integrations" object: which destinations the message is for.
	Integrations Object
	// Extra holds every top-level key the message carries beyond those above, in input
	// order, so that re-encoding loses nothing (Rule D3).
	Extra Object

	// Diagnostics lists what decoding left out but did not refuse the message for, such
	// as an unparseable timestamp (Rule D4). The processor reports them with its own.
	Diagnostics []diag.Diagnostic
}

// Context is the message's context object (Rule D3: unknown keys kept).
type Context struct {
	IP        string
	UserAgent string
	Locale    string
	Traits    Object

	// Channel is "context.channel", where some sources put the top-level channel.
	Channel string
	Library Library
	Page    WebPage
	// Extra holds every other context key (app, device, os, screen, campaign, ...) in
	// input order, and a known key whose value has an unexpected JSON kind (an "ip"
	// that is a number), so that nothing is lost.
	Extra Object
}

// Record is an event as kept on a contact (Rule E1): a track, page, screen or group
// call. Build one with [Message.Record].
type Record struct {
	Kind       Kind      `json:"kind"`
	Name       string    `json:"name,omitempty"`     // the track's event, the page's or screen's name
	Category   string    `json:"category,omitempty"` // page and screen
	GroupID    string    `json:"groupId,omitempty"`  // group
	Properties Object    `json:"properties,omitzero"`
	Time       time.Time `json:"timestamp,omitzero"`
	MessageID  string    `json:"messageId,omitempty"`

	// Traits are a group call's traits.
	Traits Object `json:"traits,omitzero"`
	// Context is the part of the message's context worth keeping with the event.
	Context RecordContext `json:"context,omitzero"`
	// ReceivedAt is when Segment, or the HTTP handler's tracking API, received the
	// message: its receivedAt, in UTC; zero when it had none or it could not be parsed.
	ReceivedAt time.Time `json:"receivedAt,omitzero"`
}
