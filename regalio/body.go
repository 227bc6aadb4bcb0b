package regalio

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// Contact is what the Events API body says about a contact (Rule R1): a plain value,
// filled by the caller from whatever holds the contact (see [FromContact] for a
// regalkit contact). The zero value sends no trait at all.
type Contact struct {
	// UserID is the contact's External ID, sent as "userId". Empty sends none.
	UserID string

	FirstName string // traits.firstName; empty sends none
	LastName  string // traits.lastName; empty sends none
	// Address is traits.address, in Regal's API shape; the zero Address sends none.
	Address Address

	// Phones are traits.phones, an object keyed by E.164 number. Each number must be in
	// E.164 syntax ("+" and 8 to 15 digits); another is left out with diag.PhoneInvalid.
	// Whether the number is valid (Rule T8) is the contact's business, not the
	// encoder's: Regal's own documented example uses +11115555555.
	Phones []Phone
	// Emails are traits.emails, an object keyed by address.
	Emails []Email

	// Custom holds every custom property, each sent under its own key in traits with
	// its value exactly as given (Rule T2). A key that is also a standard trait the body
	// writes (firstName, lastName, address, phones, emails) is left out with
	// diag.RegalUnmapped; a value that is not JSON is left out with diag.TraitInvalid.
	Custom event.Object
}

// Address is a postal address the way Regal's API spells it (Rule T5).
type Address struct {
	Street  string `json:"street,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Zipcode string `json:"zipcode,omitempty"`
	Country string `json:"country,omitempty"`
}

// IsZero reports whether a has no part.
func (a Address) IsZero() bool { return a == Address{} }

// Phone is one entry of traits.phones (Rule T9).
type Phone struct {
	Number  string // E.164, the entry's key
	Label   string // "Mobile", "Work", ...; empty sends none
	Primary bool   // sent as isPrimary
	SMS     *OptIn // smsOptIn; nil sends none
	Voice   *OptIn // voiceOptIn; nil sends none
}

// Email is one entry of traits.emails.
type Email struct {
	Address string // the entry's key
	Label   string
	Primary bool   // sent as isPrimary
	OptIn   *OptIn // emailOptIn; nil sends none
}

// OptIn is a consent record as Regal takes it (Rule C2): subscribed, with its evidence.
type OptIn struct {
	Subscribed bool
	Time       time.Time // sent as "timestamp", RFC 3339 UTC; zero sends none
	IP         string
	Text       string
	Source     string
}

// Event is the event part of an Events API body. A body without one is a trait-only
// update.
type Event struct {
	// Name is the event name, sent as "name" (never "eventName"). An Event with an
	// empty Name sends nothing: its properties are left out with diag.RegalUnmapped.
	Name       string
	Properties event.Object // sent as "properties", values exact
	// Time is when the event happened, sent as "originalTimestamp" (RFC 3339, UTC).
	Time time.Time
	// Source is "eventSource", such as "Website" or "CRM". Empty sends none.
	Source string
	// MessageID is the messageId the body is built for, copied into the diagnostics.
	// Regal's body has no place for it; [Client.Send] takes it apart.
	MessageID string
}

// standardTraits are the traits keys the body writes itself, and the older standard
// traits Regal still reads (phone and email, which it makes the primary ones, and the
// optIn array): a custom property may not take one of them, or it would change the
// contact's phones, emails or consent at Regal.
var standardTraits = map[string]bool{"firstName": true, "lastName": true, "address": true, "phones": true, "emails": true,
	"phone": true, "email": true, "optIn": true}

// Encode returns the Events API body for c and, when e is not nil, the event (Rule R1),
// as compact JSON with its keys in a fixed order: userId, traits (firstName, lastName,
// address, phones, emails, then custom properties in their order), name, properties,
// originalTimestamp, eventSource. What the body cannot carry is left out and named by a
// diagnostic, never dropped silently; the diagnostics never hold a whole phone number
// or email address.
func Encode(c Contact, e *Event) ([]byte, []diag.Diagnostic) {
	var b bodyWriter
	if e != nil {
		b.messageID = e.MessageID
	}
	b.buf = append(b.buf, '{')
	if c.UserID != "" {
		b.key("userId")
		b.buf = jsonvalue.AppendString(b.buf, c.UserID)
	}
	b.key("traits")
	b.traits(c)
	if e != nil {
		b.event(e)
	}
	b.buf = append(b.buf, '}')
	return b.buf, b.diags
}

// bodyWriter appends one body.
type bodyWriter struct {
	buf       []byte
	first     []bool // per open object: no member written yet
	diags     []diag.Diagnostic
	messageID string
}

func (b *bodyWriter) key(k string) {
	if n := len(b.first); n > 0 {
		if !b.first[n-1] {
			b.buf = append(b.buf, ',')
		}
		b.first[n-1] = false
	} else if len(b.buf) > 1 {
		b.buf = append(b.buf, ',')
	}
	b.buf = jsonvalue.AppendString(b.buf, k)
	b.buf = append(b.buf, ':')
}

func (b *bodyWriter) open() { b.buf = append(b.buf, '{'); b.first = append(b.first, true) }

func (b *bodyWriter) close() { b.buf = append(b.buf, '}'); b.first = b.first[:len(b.first)-1] }

func (b *bodyWriter) str(k, v string) {
	if v != "" {
		b.key(k)
		b.buf = jsonvalue.AppendString(b.buf, v)
	}
}

func (b *bodyWriter) boolean(k string, v bool) {
	b.key(k)
	b.buf = strconv.AppendBool(b.buf, v)
}

func (b *bodyWriter) refuse(code diag.Code, field, msg string) {
	b.diags = append(b.diags, diag.Diagnostic{MessageID: b.messageID, Code: code, Field: field, Message: msg})
}

func (b *bodyWriter) traits(c Contact) {
	b.open()
	b.str("firstName", c.FirstName)
	b.str("lastName", c.LastName)
	if !c.Address.IsZero() {
		b.key("address")
		b.open()
		b.str("street", c.Address.Street)
		b.str("city", c.Address.City)
		b.str("state", c.Address.State)
		b.str("zipcode", c.Address.Zipcode)
		b.str("country", c.Address.Country)
		b.close()
	}
	b.phones(c.Phones)
	b.emails(c.Emails)
	for i, m := range c.Custom {
		field := "traits." + diag.MaskKey(m.Key)
		switch {
		case m.Key == "":
			b.refuse(diag.RegalUnmapped, "traits", "regalio: custom property "+strconv.Itoa(i)+" has an empty key")
		case standardTraits[m.Key]:
			b.refuse(diag.RegalUnmapped, field, "regalio: custom property "+strconv.Quote(m.Key)+" has the name of a standard trait")
		case jsonvalue.Check(m.Value) != nil:
			b.refuse(diag.TraitInvalid, field, "regalio: custom property value is not JSON")
		default:
			b.key(m.Key)
			b.buf = append(b.buf, compact(m.Value)...)
		}
	}
	b.close()
}

func (b *bodyWriter) phones(phones []Phone) {
	written := 0
	seen := make(map[string]bool, len(phones))
	primary := ""
	for _, p := range phones {
		field := "traits.phones"
		switch {
		case !identity.IsE164(p.Number):
			b.refuse(diag.PhoneInvalid, field, "regalio: phone "+identity.MaskPhone(p.Number)+" is not in E.164 form")
			continue
		case seen[p.Number]:
			b.refuse(diag.RegalUnmapped, field, "regalio: phone "+identity.MaskPhone(p.Number)+" is listed twice; the first entry is sent")
			continue
		}
		seen[p.Number] = true
		isPrimary := p.Primary
		if isPrimary && primary != "" {
			b.refuse(diag.RegalUnmapped, field, "regalio: phone "+identity.MaskPhone(p.Number)+" is a second primary phone; sent as not primary")
			isPrimary = false
		} else if isPrimary {
			primary = p.Number
		}
		if written == 0 {
			b.key("phones")
			b.open()
		}
		written++
		b.key(p.Number)
		b.open()
		b.str("label", p.Label)
		b.boolean("isPrimary", isPrimary)
		b.optIn("smsOptIn", p.SMS)
		b.optIn("voiceOptIn", p.Voice)
		b.close()
	}
	if written > 0 {
		b.close()
	}
}

func (b *bodyWriter) emails(emails []Email) {
	written := 0
	seen := make(map[string]bool, len(emails))
	primary := false
	for _, e := range emails {
		field := "traits.emails"
		switch {
		case e.Address == "":
			b.refuse(diag.EmailInvalid, field, "regalio: an email entry has no address")
			continue
		case seen[e.Address]:
			b.refuse(diag.RegalUnmapped, field, "regalio: email "+identity.MaskEmail(e.Address)+" is listed twice; the first entry is sent")
			continue
		}
		seen[e.Address] = true
		isPrimary := e.Primary
		if isPrimary && primary {
			b.refuse(diag.RegalUnmapped, field, "regalio: email "+identity.MaskEmail(e.Address)+" is a second primary email; sent as not primary")
			isPrimary = false
		}
		primary = primary || isPrimary
		if written == 0 {
			b.key("emails")
			b.open()
		}
		written++
		b.key(e.Address)
		b.open()
		b.str("label", e.Label)
		b.boolean("isPrimary", isPrimary)
		b.optIn("emailOptIn", e.OptIn)
		b.close()
	}
	if written > 0 {
		b.close()
	}
}

func (b *bodyWriter) optIn(k string, o *OptIn) {
	if o == nil {
		return
	}
	b.key(k)
	b.open()
	b.boolean("subscribed", o.Subscribed)
	if !o.Time.IsZero() {
		b.str("timestamp", timestamp.Format(o.Time))
	}
	b.str("ip", o.IP)
	b.str("text", o.Text)
	b.str("source", o.Source)
	b.close()
}

func (b *bodyWriter) event(e *Event) {
	if e.Name == "" {
		if len(e.Properties) > 0 {
			b.refuse(diag.RegalUnmapped, "properties", "regalio: event properties without an event name cannot be sent")
		}
		return
	}
	b.str("name", e.Name)
	if len(e.Properties) > 0 {
		b.key("properties")
		b.open()
		for i, m := range e.Properties {
			switch {
			case m.Key == "":
				b.refuse(diag.RegalUnmapped, "properties", "regalio: property "+strconv.Itoa(i)+" has an empty key")
			case jsonvalue.Check(m.Value) != nil:
				b.refuse(diag.RegalUnmapped, "properties."+diag.MaskKey(m.Key), "regalio: property value is not JSON")
			default:
				b.key(m.Key)
				b.buf = append(b.buf, compact(m.Value)...)
			}
		}
		b.close()
	}
	if !e.Time.IsZero() {
		b.str("originalTimestamp", timestamp.Format(e.Time))
	}
	b.str("eventSource", e.Source)
}

// compact returns raw without insignificant white space; raw is valid JSON.
func compact(raw []byte) []byte {
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return raw
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
