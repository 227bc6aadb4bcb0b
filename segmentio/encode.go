package segmentio

import (
	"errors"
	"io"
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// ErrEncode is the sentinel of every error writing a message.
var ErrEncode = errors.New("segmentio: cannot encode message")

// EncodeError is a message that cannot be written as Segment JSON: a field that is not
// valid JSON or a key written twice. It never quotes values.
type EncodeError struct {
	Field  string // the field at fault, such as "traits" or "extra.userId"
	Reason string
	Err    error // the underlying error, if any
}

// Error describes the problem without quoting the input.
func (e *EncodeError) Error() string {
	return "segmentio: cannot encode message: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrEncode and the underlying error.
func (e *EncodeError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrEncode, e.Err}
	}
	return []error{ErrEncode}
}

// Encoder writes messages as Segment JSON, one compact object a line (NDJSON, which a
// [Decoder] reads back).
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m (see [Marshal]) followed by a newline.
func (e *Encoder) Encode(m *event.Message) error {
	b, err := appendMessage(e.buf[:0], m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	e.buf = b
	_, err = e.w.Write(b)
	return err
}

// Marshal returns m as one Segment JSON object. Decoding the result gives m back: every
// field, the raw timestamps, the context with its unknown keys, integrations, traits,
// properties and the unknown top-level keys (Rule D3). Identifiers are written as
// strings (a numeric userId comes back as the same digits); version as a number when it
// is one. Time is written as "timestamp" only when the message has none of the four raw
// timestamps, as a message built by hand may; diagnostics are not written.
//
// It refuses a nil message, a message without a valid kind, a value that is not valid JSON, an
// object that event.Message.CheckJSON refuses, text that is not valid UTF-8 (written,
// it would read back as another string, U+FFFD in place of each bad byte), a Time
// outside the years 1677 to 2262 (which reads back as no time), and an Extra key that
// is one of the fields above, present twice, or "batch" (which a message inside an
// array may carry, but which makes an object a batch envelope).
func Marshal(m *event.Message) ([]byte, error) { return appendMessage(nil, m) }

// Top-level keys with a field of their own; Extra may not use them.
var knownKeys = map[string]bool{
	"type": true, "messageId": true, "userId": true, "anonymousId": true, "previousId": true,
	"groupId": true, "event": true, "name": true, "category": true, "channel": true,
	"version": true, "timestamp": true, "originalTimestamp": true, "sentAt": true,
	"receivedAt": true, "context": true, "integrations": true, "traits": true, "properties": true,
}

func appendMessage(b []byte, m *event.Message) ([]byte, error) {
	if m == nil {
		return b, &EncodeError{Field: "message", Reason: "a nil *event.Message"}
	}
	if !m.Kind.Valid() {
		return b, &EncodeError{Field: "type", Reason: "not one of the seven message types"}
	}
	b = append(b, `{"type":`...)
	b = jsonvalue.AppendString(b, m.Kind.String())
	var err error
	str := func(key, v string) {
		if err == nil && !utf8.ValidString(v) {
			err = &EncodeError{Field: key, Reason: "not valid UTF-8"}
			return
		}
		if v != "" {
			b = append(b, ',')
			b = jsonvalue.AppendString(b, key)
			b = append(b, ':')
			b = jsonvalue.AppendString(b, v)
		}
	}
	raw := func(key string, v []byte) {
		if v == nil || err != nil {
			return
		}
		if e := jsonvalue.Check(v); e != nil {
			err = &EncodeError{Field: key, Reason: "not valid JSON", Err: e}
			return
		}
		b = append(b, ',')
		b = jsonvalue.AppendString(b, key)
		b = append(b, ':')
		b = append(b, v...)
	}
	object := func(key string, o event.Object) {
		if o == nil || err != nil {
			return
		}
		b = append(b, ',')
		b = jsonvalue.AppendString(b, key)
		b = append(b, ':')
		if b, err = o.AppendJSON(b); err != nil {
			err = &EncodeError{Field: key, Reason: "cannot write object", Err: err}
		}
	}
	str("messageId", m.MessageID)
	str("userId", m.UserID)
	str("anonymousId", m.AnonymousID)
	str("previousId", m.PreviousID)
	str("groupId", m.GroupID)
	str("event", m.Event)
	str("name", m.Name)
	str("category", m.Category)
	str("channel", m.Channel)
	if m.Version != "" {
		if isNumber(m.Version) {
			raw("version", []byte(m.Version))
		} else {
			str("version", m.Version)
		}
	}
	ts := m.Timestamps
	if ts.IsZero() && !m.Time.IsZero() {
		if !timestamp.InRange(m.Time) {
			return b, &EncodeError{Field: "timestamp", Reason: "outside the years 1677 to 2262"}
		}
		str("timestamp", timestamp.Format(m.Time))
	}
	raw("timestamp", ts.Timestamp)
	raw("originalTimestamp", ts.OriginalTimestamp)
	raw("sentAt", ts.SentAt)
	raw("receivedAt", ts.ReceivedAt)
	if !m.Context.IsZero() {
		object("context", m.Context.Object())
	}
	object("integrations", m.Integrations)
	object("traits", m.Traits)
	object("properties", m.Properties)
	seen := make(map[string]struct{}, len(m.Extra))
	for _, x := range m.Extra {
		if err != nil {
			break
		}
		if knownKeys[x.Key] {
			return b, &EncodeError{Field: "extra." + x.Key, Reason: "a field of its own, not an unknown key"} // a known key: nothing to mask
		}
		if x.Key == "batch" {
			// A message inside an array or a batch may carry it; written as a message
			// of its own it would read back as a batch envelope (Rule D1), its value
			// as other messages.
			return b, &EncodeError{Field: "extra.batch", Reason: "an object with a batch key reads as a batch envelope"}
		}
		if _, dup := seen[x.Key]; dup {
			return b, &EncodeError{Field: "extra." + diag.MaskKey(x.Key), Reason: "key present twice"}
		}
		seen[x.Key] = struct{}{}
		if x.Value == nil {
			return b, &EncodeError{Field: "extra." + diag.MaskKey(x.Key), Reason: "no value"}
		}
		if err == nil {
			raw(x.Key, x.Value)
			if ee, ok := err.(*EncodeError); ok {
				ee.Field = "extra." + diag.MaskKey(x.Key) // the key as sent was for the JSON only
			}
		}
	}
	if err != nil {
		return b, err
	}
	if err := m.CheckJSON(); err != nil { // what the checks above leave: context, UTF-8
		var ve *event.ValidationError
		field := ""
		if errors.As(err, &ve) {
			field = ve.Field
		}
		return b, &EncodeError{Field: field, Reason: "cannot be written as JSON and read back the same", Err: err}
	}
	return append(b, '}'), nil
}

// isNumber reports whether s is a JSON number literal.
func isNumber(s string) bool {
	t, ok := jsonvalue.Text([]byte(s))
	return ok && t == s && jsonvalue.KindOf([]byte(s)) == jsonvalue.KindNumber
}
