package event

import (
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// CheckJSON reports whether every part of the message a contact or an event record
// keeps can be written as JSON and read back the same (Rules D1, E1): each member
// value of its objects (traits, properties, integrations, extra keys, and the
// context's traits, extra keys, library and page) is valid JSON without a key twice;
// no object has a key twice, the context's own fields (ip, userAgent, locale, channel,
// library, page, traits) counting as its keys; and its keys and text fields are valid
// UTF-8. It returns a [*ValidationError] with code message.invalid naming the field
// at fault, and quotes nothing of the message.
//
// A message that [github.com/regalkit/regalkit/segmentio.Decoder] (or any of this
// module's decoders) produced always passes. A message built in Go may not: [Object] is
// a plain slice, and a member's value is whatever bytes it holds. [Message.Validate]
// does not look inside objects; the Processor calls both on every message it is given
// as a Go value, so that no such message reaches a store, where its event would fail
// every later export as JSON, or be kept by one store and refused by another.
func (m *Message) CheckJSON() error {
	fail := func(field, reason string) error {
		return &ValidationError{Kind: m.Kind, Code: diag.MessageInvalid, Field: field, reason: field + ": " + reason}
	}
	for _, f := range [...]struct{ name, value string }{
		{"event", m.Event}, {"name", m.Name}, {"category", m.Category},
		{"channel", m.Channel}, {"version", m.Version},
	} {
		if !utf8.ValidString(f.value) {
			return fail(f.name, reasonUTF8)
		}
	}
	for _, o := range [...]struct {
		name string
		obj  Object
	}{
		{"traits", m.Traits}, {"properties", m.Properties}, {"integrations", m.Integrations}, {"extra", m.Extra},
	} {
		if reason := o.obj.problem(); reason != "" {
			return fail(o.name, reason)
		}
	}
	if reason := m.Context.problem(); reason != "" {
		return fail("context", reason)
	}
	return nil
}

// Reasons CheckJSON gives, after the field's name.
const (
	reasonUTF8      = "text that is not valid UTF-8"
	reasonDuplicate = "a key present twice"
	reasonValue     = "a member value that is not valid JSON"
)

// problem returns why o cannot be written as JSON and read back the same, or "".
func (o Object) problem() string {
	if o.hasDuplicate() {
		return reasonDuplicate
	}
	for _, mb := range o {
		if !utf8.ValidString(mb.Key) {
			return reasonUTF8
		}
		if jsonvalue.Check(mb.Value) != nil {
			return reasonValue
		}
	}
	return ""
}

// problem returns why c cannot be written as JSON and read back the same, or "": its
// text fields, then the object it is written as (Context.Object), which holds its
// fields and its extra keys side by side, the library's and the page's one level down.
func (c Context) problem() string {
	for _, s := range [...]string{
		c.IP, c.UserAgent, c.Locale, c.Channel, c.Library.Name, c.Library.Version,
		c.Page.Path, c.Page.Referrer, c.Page.Search, c.Page.Title, c.Page.URL,
	} {
		if !utf8.ValidString(s) {
			return reasonUTF8
		}
	}
	for _, o := range [...]Object{c.Traits, c.Extra, c.Library.Extra, c.Page.Extra} {
		if reason := o.problem(); reason != "" {
			return reason
		}
	}
	for _, o := range [...]Object{c.Object(), c.Library.object(), c.Page.object()} {
		if o.hasDuplicate() {
			return reasonDuplicate
		}
	}
	return ""
}
