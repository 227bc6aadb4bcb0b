package regalio

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
)

// SourceRegal is the eventSource Regal sets on the events it reports, and the mark
// regalkit looks for on a Segment track call from Regal's Segment source (Rule R5).
const SourceRegal = "Regal Voice"

// The names of Regal's consent events (Rule R5) and of its event for an inbound text
// message (Rule G8).
const (
	EventSubscribed   = "contact.subscribed"
	EventUnsubscribed = "contact.unsubscribed"
	EventSMSReceived  = "sms.received"
)

// snakeEventType is the value of "event_type" in every snake_case event Regal's
// documentation shows: the kind of envelope, not the event's name, which is in "name".
const snakeEventType = "regal_voice_event"

// MessageIDPrefix starts the messageId of every message made from a Regal event with an
// eventId: the prefix and the eventId (Rule R3).
const MessageIDPrefix = "regal-"

// AnonymousIDPrefix starts the anonymousId of a message made from a Regal event without
// a userId: the prefix and the phone, else the email, the event is about (Rule R5).
const AnonymousIDPrefix = "regal-contact:"

// ErrInvalidEvent is the category of every error [DecodeEvent] returns: the body is not
// JSON, not an object, or has no event name.
var ErrInvalidEvent = errors.New("regalio: invalid event")

// EventError is a body [DecodeEvent] cannot read as a Regal event. It unwraps to
// [ErrInvalidEvent] and never quotes the body.
type EventError struct {
	Reason string
}

// Error says what is wrong.
func (e *EventError) Error() string { return "regalio: invalid event: " + e.Reason }

// Unwrap returns ErrInvalidEvent.
func (e *EventError) Unwrap() error { return ErrInvalidEvent }

// Code returns diag.RegalInvalid.
func (e *EventError) Code() diag.Code { return diag.RegalInvalid }

// ReportedEvent is one event from Regal's reporting webhooks, or from its Segment source
// (Rule R3). Values are kept exactly.
type ReportedEvent struct {
	// EventID is Regal's id for the event ("eventId", or "event_id"); the Handler
	// dedupes on it.
	EventID string
	// Name is the event name as Regal sends it, such as "contact.unsubscribed": "name"
	// wherever it stands, else an "event_type" other than "regal_voice_event" (which
	// the snake_case variant always sends next to its "name").
	Name string
	// UserID is the contact's External ID ("userId", else "user_id", else the
	// snake_case variant's "external_id"); empty when Regal knows none.
	UserID string
	// Phone and Email are traits.phone and traits.email, as sent, else the snake_case
	// variant's top-level "contact_phone" and "contact_email".
	Phone, Email string
	// Traits is the whole traits object.
	Traits event.Object
	// Properties are the event's properties.
	Properties event.Object
	// Time is when the event happened: "originalTimestamp" (Unix seconds as a string,
	// or any form of Rule D4), else "original_timestamp", else "created_at"; zero when
	// none parses.
	Time time.Time
	// Source is "eventSource" ("Regal Voice"), or "source".
	Source string
	// Brand and ProfileID are the snake_case variant's "brand" and "profile_id".
	Brand, ProfileID string
	// Extra holds every other top-level key, in input order.
	Extra event.Object
	// Diagnostics lists what decoding left out: a field of the wrong kind, an
	// unparseable time.
	Diagnostics []diag.Diagnostic
}

// idKeys are the spellings of a Regal event's userId (the first three) and eventId,
// the first of each that has a value winning.
var idKeys = [...]string{"userId", "user_id", "external_id", "eventId", "event_id"}

// DecodeEvent reads one reporting-webhook body (Rule R3): the camelCase envelope
// {userId, traits{phone,email}, name, eventId, properties, originalTimestamp,
// eventSource} or its snake_case variant (event_id, name, event_type, external_id,
// contact_phone, contact_email, original_timestamp, created_at, source, brand,
// profile_id). A field of the wrong kind is left out with a
// diag.RegalInvalid diagnostic; a body that is not a JSON object or has no event name
// is an [*EventError].
func DecodeEvent(body []byte) (ReportedEvent, error) {
	var e ReportedEvent
	var stamps [3]json.RawMessage // originalTimestamp, original_timestamp, created_at
	var name, eventType string
	var ids [len(idKeys)]string    // by idKeys
	var rawIDs [len(idKeys)][]byte // by idKeys, as sent
	var contactPhone, contactEmail string
	var rawContactPhone, rawContactEmail, rawEventType []byte
	bad := func(field, why string) {
		e.Diagnostics = append(e.Diagnostics, diag.Diagnostic{Code: diag.RegalInvalid, Field: field, Message: "regalio: " + field + " " + why})
	}
	str := func(field string, v []byte, dst *string) {
		if jsonvalue.IsNull(v) {
			return
		}
		s, ok := jsonvalue.Text(v)
		if !ok {
			bad(field, "is not a string or a number")
			return
		}
		if *dst == "" {
			*dst = s
		}
	}
	obj := func(field string, v []byte, dst *event.Object) {
		if jsonvalue.IsNull(v) {
			return
		}
		o, err := object(v)
		if err != nil {
			bad(field, "is not an object")
			return
		}
		*dst = o
	}
	var loneSurrogate string // an identifier that would read as U+FFFD (Rule D6)
	err := jsonvalue.EachMember(body, func(key string, v []byte) error {
		switch key {
		case "userId", "user_id", "external_id", "eventId", "event_id":
			if loneSurrogate == "" && len(v) > 1 && v[0] == '"' && jsonvalue.HasLoneSurrogate(v[1:len(v)-1]) {
				loneSurrogate = key
			}
			i := slices.Index(idKeys[:], key)
			str(key, v, &ids[i])
			rawIDs[i] = v
		case "name":
			str(key, v, &name)
		case "event_type":
			str(key, v, &eventType)
			rawEventType = v
		case "contact_phone":
			str(key, v, &contactPhone)
			rawContactPhone = v
		case "contact_email":
			str(key, v, &contactEmail)
			rawContactEmail = v
		case "eventSource", "source":
			if e.Source != "" {
				e.Extra = append(e.Extra, event.Member{Key: key, Value: json.RawMessage(v)}) // both: the second is kept here
				break
			}
			str(key, v, &e.Source)
		case "brand":
			str(key, v, &e.Brand)
		case "profile_id":
			str(key, v, &e.ProfileID)
		case "traits":
			obj(key, v, &e.Traits)
		case "properties":
			obj(key, v, &e.Properties)
		case "originalTimestamp":
			stamps[0] = v
		case "original_timestamp":
			stamps[1] = v
		case "created_at":
			stamps[2] = v
		default:
			e.Extra = append(e.Extra, event.Member{Key: key, Value: json.RawMessage(v)})
		}
		return nil
	})
	if err != nil {
		var je *jsonvalue.Error
		switch {
		case errors.Is(err, jsonvalue.ErrDuplicateKey):
			// Regal's own sample of call.analysis.available names "name" twice, with one
			// value: a key repeated with the same value says nothing twice.
			if once, ok := withoutRepeatedKeys(body); ok {
				return DecodeEvent(once)
			}
			return ReportedEvent{}, &EventError{Reason: "the body cannot be read: " + err.Error()}
		case errors.As(err, &je) && je.Reason == "not an object":
			return ReportedEvent{}, &EventError{Reason: "the body is not a JSON object"}
		case errors.As(err, &je) && !errors.Is(je.Err, jsonvalue.ErrSyntax):
			// JSON, but past a limit of the reader (depth, a number's length) or with a
			// key repeated: say which, as segmentio's message.limit does.
			return ReportedEvent{}, &EventError{Reason: "the body cannot be read: " + je.Error()}
		}
		return ReportedEvent{}, &EventError{Reason: "the body is not JSON"}
	}
	if loneSurrogate != "" {
		// Two ids that differ only there would be one: two users one contact, an event
		// the duplicate of another.
		return ReportedEvent{}, &EventError{Reason: loneSurrogate + " holds half a UTF-16 surrogate pair (a lone \\ud800 to \\udfff), which names no character"}
	}
	e.Name = name
	if e.Name == "" && eventType != snakeEventType {
		e.Name = eventType
	} else if rawEventType != nil {
		e.Extra = append(e.Extra, event.Member{Key: "event_type", Value: json.RawMessage(rawEventType)})
	}
	if e.Name == "" {
		return ReportedEvent{}, &EventError{Reason: "no event name (name, or an event_type other than " + snakeEventType + ")"}
	}
	e.UserID = cmp.Or(ids[:3]...)
	e.EventID = cmp.Or(ids[3:]...)
	// An id that another spelling of it stands in front of, with another value, is
	// kept with the other top-level keys (R3: nothing is dropped silently).
	for i, key := range idKeys {
		chosen := e.UserID
		if i >= 3 {
			chosen = e.EventID
		}
		if ids[i] != "" && ids[i] != chosen {
			e.Extra = append(e.Extra, event.Member{Key: key, Value: json.RawMessage(rawIDs[i])})
		}
	}
	for _, m := range e.Traits {
		switch m.Key {
		case "phone":
			str("traits.phone", m.Value, &e.Phone)
		case "email":
			str("traits.email", m.Value, &e.Email)
		}
	}
	// A contact_phone or contact_email the traits' own value stands in front of is kept
	// with the other top-level keys: Regal's voicemail sample names the contact's number
	// there and another one in traits.
	if e.Phone != "" && rawContactPhone != nil && contactPhone != e.Phone {
		e.Extra = append(e.Extra, event.Member{Key: "contact_phone", Value: json.RawMessage(rawContactPhone)})
	}
	if e.Email != "" && rawContactEmail != nil && contactEmail != e.Email {
		e.Extra = append(e.Extra, event.Member{Key: "contact_email", Value: json.RawMessage(rawContactEmail)})
	}
	e.Phone = cmp.Or(e.Phone, contactPhone)
	e.Email = cmp.Or(e.Email, contactEmail)
	for i, field := range [...]string{"originalTimestamp", "original_timestamp", "created_at"} {
		raw := stamps[i]
		if raw == nil || jsonvalue.IsNull(raw) {
			continue
		}
		t, err := timestamp.ParseJSON(raw)
		if err != nil {
			e.Diagnostics = append(e.Diagnostics, diag.Diagnostic{Code: diag.TimestampInvalid, Field: field, Message: "regalio: " + field + " is not a timestamp"})
			continue
		}
		switch {
		case e.Time.IsZero():
			e.Time = t
		case !t.Equal(e.Time):
			// Another time, which the first that could be read stands in front of: kept
			// with the other top-level keys, as an id's other spelling is.
			e.Extra = append(e.Extra, event.Member{Key: field, Value: json.RawMessage(raw)})
		}
	}
	id := e.messageID()
	for i := range e.Diagnostics {
		e.Diagnostics[i].MessageID = id
	}
	return e, nil
}

// withoutRepeatedKeys returns body with each top-level key once, when every key it
// repeats has the same value each time (compared as compact JSON); ok is false when
// there is nothing to remove or a repeated key has two values, which is no event.
func withoutRepeatedKeys(body []byte) ([]byte, bool) {
	var sc jsonvalue.Scanner
	compact, err := sc.Compact(nil, body)
	if err != nil || len(compact) == 0 || compact[0] != '{' {
		return nil, false
	}
	type member struct{ key, value []byte }
	var seen []member
	index := map[string]int{} // a map, not a scan: a hostile body may hold thousands of keys
	removed := false
	it := jsonvalue.NewIter(compact, 0)
	for it.Next() {
		ks, ke, _ := it.Key()
		key, value := compact[ks:ke], it.ValueBytes()
		i, ok := index[string(key)]
		switch {
		case !ok:
			index[string(key)] = len(seen)
			seen = append(seen, member{key, value})
		case bytes.Equal(seen[i].value, value):
			removed = true
		default:
			return nil, false
		}
	}
	if it.Err() != nil || !removed {
		return nil, false
	}
	out := []byte{'{'}
	for i, m := range seen {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, m.key...)
		out = append(out, '"', ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), true
}

// textOf returns v as text (a string, or a number digit for digit: see jsonvalue.Text),
// or "" when it is neither.
func textOf(v []byte) string {
	s, _ := jsonvalue.Text(v)
	return s
}

// object reads a JSON object into an Object, values compact and exact.
func object(raw []byte) (event.Object, error) {
	o := event.Object{}
	err := jsonvalue.EachMember(raw, func(key string, v []byte) error {
		o = append(o, event.Member{Key: key, Value: json.RawMessage(v)})
		return nil
	})
	return o, err
}

// messageID is the messageId of the event's message: MessageIDPrefix and the eventId,
// or "" when it has none (the processor then derives one, Rule E2).
func (e *ReportedEvent) messageID() string {
	if e.EventID == "" {
		return ""
	}
	return MessageIDPrefix + e.EventID
}

// Message returns e as a source-neutral track message (Rule R3): the event name as
// Regal sends it, its properties exactly, its time, the messageId MessageIDPrefix +
// eventId (derived from the content when there is no eventId), and the extra top-level
// key "eventSource": SourceRegal, so that the Processor treats it as Regal's (Rule R5);
// any other source the event names is kept as the extra key "source". The
// contact is the userId's; without one, the anonymousId is AnonymousIDPrefix and the
// phone the event is about ([About]: a consent event's properties.phone or
// contact_phone, or its email for the email channel; an inbound text's sender; else the
// traits' phone), in E.164 when it reads as a number with its country code, else the
// email. The traits go in the context, where the Processor finds the contact by them. An event with neither userId, phone nor email gets the
// anonymousId AnonymousIDPrefix + "unknown". The message shares nothing with e.
func (e *ReportedEvent) Message() event.Message {
	m := event.Message{
		Kind:        event.Track,
		MessageID:   e.messageID(),
		UserID:      e.UserID,
		Event:       e.Name,
		Time:        e.Time,
		Properties:  e.Properties,
		Diagnostics: e.Diagnostics,
	}
	m.Context.Traits = e.Traits
	// The top-level keys the envelope has no field for (entity_type, source_workflow,
	// a contact_phone behind the traits' phone...) are kept, values exact, as the
	// context's "regal" object, which the event record keeps (Rule E1).
	if len(e.Extra) > 0 {
		if v, err := e.Extra.AppendJSON(nil); err == nil {
			m.Context.Extra = append(m.Context.Extra, event.Member{Key: "regal", Value: json.RawMessage(v)})
		}
	}
	// The snake_case variant's contact_phone and contact_email stand in for the traits'
	// phone and email (missing, null, empty, or neither text nor a number), where About and the
	// Processor look for them (Rules R5, G8).
	for _, f := range [...]struct{ key, value string }{{"phone", e.Phone}, {"email", e.Email}} {
		if f.value == "" {
			continue
		}
		v := json.RawMessage(jsonvalue.AppendString(nil, f.value))
		i := slices.IndexFunc(m.Context.Traits, func(t event.Member) bool { return t.Key == f.key })
		switch {
		case i < 0:
			m.Context.Traits = append(slices.Clip(m.Context.Traits), event.Member{Key: f.key, Value: v})
		case textOf(m.Context.Traits[i].Value) == "":
			m.Context.Traits = slices.Clone(m.Context.Traits)
			m.Context.Traits[i].Value = v
		}
	}
	if m.UserID == "" {
		phone, email := About(&m)
		switch {
		case phone != "":
			if n, err := identity.ParsePhone(phone, ""); err == nil {
				phone = n.E164 // one contact per number, whatever its format: the Guard looks it up so (Rule G1)
			}
			m.AnonymousID = AnonymousIDPrefix + phone
		case email != "":
			m.AnonymousID = AnonymousIDPrefix + strings.ToLower(email)
		default:
			m.AnonymousID = AnonymousIDPrefix + "unknown"
		}
	}
	if !e.Time.IsZero() {
		m.Timestamps.OriginalTimestamp = json.RawMessage(jsonvalue.AppendString(nil, timestamp.Format(e.Time)))
	}
	m.Extra = append(m.Extra, event.Member{Key: "eventSource", Value: json.RawMessage(jsonvalue.AppendString(nil, SourceRegal))})
	if e.Source != "" && e.Source != SourceRegal {
		m.Extra = append(m.Extra, event.Member{Key: "source", Value: json.RawMessage(jsonvalue.AppendString(nil, e.Source))})
	}
	if e.Brand != "" {
		m.Extra = append(m.Extra, event.Member{Key: "brand", Value: json.RawMessage(jsonvalue.AppendString(nil, e.Brand))})
	}
	if e.ProfileID != "" {
		m.Extra = append(m.Extra, event.Member{Key: "profileId", Value: json.RawMessage(jsonvalue.AppendString(nil, e.ProfileID))})
	}
	if m.MessageID == "" {
		m.MessageID = event.DeriveMessageID(&m)
	}
	return m.Clone()
}

// About returns the phone, else the email, the Regal event m is about, as
// [ReportedEvent.Message] names its contact and the Processor applies it (Rules R5, G8):
// a consent event's properties.phone or contact_phone (its properties.email or
// contact_email for the email channel, and no phone), an inbound text's sender
// (properties.contact_phone, else from_number, as Regal's Segment source names it),
// else the phone and email of its context.traits (the phone, failing that, of an
// anonymousId that is AnonymousIDPrefix and a number). The values
// are as sent: a phone is not parsed. An event without a userId that finds no contact
// stays on the anonymous contact of that phone, where the Guard looks for the phone's
// records: not under another number the traits name.
func About(m *event.Message) (phone, email string) {
	prop := func(o event.Object, key string) string {
		raw, _ := o.Get(key)
		return textOf(raw)
	}
	traitPhone, traitEmail := prop(m.Context.Traits, "phone"), prop(m.Context.Traits, "email")
	if traitPhone == "" {
		// The phone of a phone's own Regal contact (AnonymousIDPrefix and the number),
		// which an event without a userId may name as its anonymousId.
		if s, ok := strings.CutPrefix(m.AnonymousID, AnonymousIDPrefix); ok && strings.HasPrefix(s, "+") && !strings.Contains(s, "@") {
			traitPhone = s
		}
	}
	switch m.Event {
	case EventSubscribed, EventUnsubscribed:
		if ch, _ := optin.ParseChannel(prop(m.Properties, "channel")); ch == optin.Email {
			return "", cmp.Or(prop(m.Properties, "email"), prop(m.Properties, "contact_email"), traitEmail)
		}
		return cmp.Or(prop(m.Properties, "phone"), prop(m.Properties, "contact_phone"), traitPhone), traitEmail
	case EventSMSReceived:
		return cmp.Or(prop(m.Properties, "contact_phone"), prop(m.Properties, "from_number"), traitPhone), traitEmail
	}
	return traitPhone, traitEmail
}

// IsRegal reports whether m is a Regal event: a track whose top-level, context or
// properties "eventSource" is SourceRegal (Rule R5), as the messages [ReportedEvent.Message]
// makes are and as Regal's Segment source sends them.
func IsRegal(m *event.Message) bool {
	if m.Kind != event.Track {
		return false
	}
	for _, o := range [...]event.Object{m.Extra, m.Context.Extra, m.Properties} {
		if v, ok := o.Get("eventSource"); ok {
			if s, ok := jsonvalue.String(v); ok && s == SourceRegal {
				return true
			}
		}
	}
	return false
}
