package contactcore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
)

// Export is a contact with its events, in the export format of RULES.md, X. The events
// live in the Store; the export shows them when the caller passes them in.
// json.Marshal of a *Contact is the Export without events. The export is for people:
// it holds no merge state, and reads back as a contact whose fields are stamped at the
// zero time. To keep a contact, use the storage codec, [EncodeStorage].
type Export struct {
	Contact *Contact
	Events  []event.Record
}

// The export document (RULES.md, X): the head, the table's fields (fields.go) with the
// address after the trait fields, then the tail. Keys after "updatedAt" are regalkit's
// own: "formerUserIds" lists External IDs replaced by an alias (Rule I5), and "clocks",
// in the storage codec's document only (storage.go), holds every field with the stamp
// that set it, removed fields included, so that a contact read back keeps merging
// exactly as the original would.
type exportJSON struct {
	exportHead
	// fields are the table's fields as JSON values (a string, or a number for an age);
	// nil when unset.
	fields  [numFields]json.RawMessage
	Address *addressJSON
	exportTail
}

type exportHead struct {
	// Version is the storage codec's version (storage.go); absent from the export.
	Version       int                    `json:"storageVersion,omitempty"`
	ID            string                 `json:"id,omitempty"`
	UserID        string                 `json:"userId,omitempty"`
	AnonymousIDs  []string               `json:"anonymousIds,omitempty"`
	InAudience    bool                   `json:"inAudience"`
	Phone         string                 `json:"phone,omitempty"`
	Phones        map[string]phoneJSON   `json:"phones,omitempty"`
	Subscriptions map[string]optin.State `json:"subscriptions"`
}

type exportTail struct {
	Custom         map[string]json.RawMessage `json:"custom,omitempty"`
	Events         []eventJSON                `json:"events,omitempty"`
	ConsentHistory []optin.Entry              `json:"consentHistory,omitempty"`
	CreatedAt      string                     `json:"createdAt,omitempty"`
	UpdatedAt      string                     `json:"updatedAt,omitempty"`
	FormerUserIDs  []string                   `json:"formerUserIds,omitempty"`
	Clocks         *clocksJSON                `json:"clocks,omitempty"`
}

// MarshalJSON writes the document's keys in order: the head, the trait fields of the
// table, the address, the context fields of the table, the tail.
func (x *exportJSON) MarshalJSON() ([]byte, error) {
	b, err := marshalJSON(&x.exportHead)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // the head always has inAudience and subscriptions
	put := func(key string, v []byte) {
		b = append(append(append(append(b, ',', '"'), key...), '"', ':'), v...)
	}
	for f := range numFields {
		if fields[f].context == "" && x.fields[f] != nil {
			put(fields[f].name, x.fields[f])
		}
	}
	if x.Address != nil {
		a, err := x.Address.MarshalJSON()
		if err != nil {
			return nil, err
		}
		put("address", a)
	}
	for f := range numFields {
		if fields[f].context != "" && x.fields[f] != nil {
			put(fields[f].name, x.fields[f])
		}
	}
	tail, err := marshalJSON(&x.exportTail)
	if err != nil {
		return nil, err
	}
	if len(tail) > 2 {
		return append(append(b, ','), tail[1:]...), nil
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the document. A table field must be a JSON string (a number for
// an age) or null.
func (x *exportJSON) UnmarshalJSON(b []byte) error {
	var doc struct {
		exportHead
		Address *addressJSON `json:"address,omitempty"`
		exportTail
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*x = exportJSON{exportHead: doc.exportHead, Address: doc.Address, exportTail: doc.exportTail}
	for f := range numFields {
		raw, ok := all[fields[f].name]
		if !ok || jsonvalue.KindOf(raw) == jsonvalue.KindNull {
			continue
		}
		want := jsonvalue.KindString
		if fields[f].kind == kindAge {
			want = jsonvalue.KindNumber
		}
		if jsonvalue.KindOf(raw) != want {
			return fmt.Errorf("%s: a %s, not %s", fields[f].name, want, jsonvalue.KindOf(raw))
		}
		if want == jsonvalue.KindNumber {
			if _, err := strconv.Atoi(string(raw)); err != nil {
				return fmt.Errorf("%s: not a whole number", fields[f].name)
			}
		}
		x.fields[f] = raw
	}
	return nil
}

type phoneJSON struct {
	Label   string       `json:"label"`
	Primary bool         `json:"primary"`
	OptIns  optin.OptIns `json:"optIns,omitempty"`
}

type addressJSON struct {
	Line1      string `json:"line1,omitempty"` // the keys double as Rule T5 trait keys on import
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	// Unknown sub-keys (Rule T5) follow under their original keys.
	extra map[string]string
}

// AddressJSON returns a as the export writes it (RULES.md, X): the canonical parts,
// then the unknown sub-keys under their own keys, sorted.
func AddressJSON(a Address) ([]byte, error) {
	return addressJSON{a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country, a.Extra}.MarshalJSON()
}

func (a addressJSON) MarshalJSON() ([]byte, error) {
	type plain addressJSON
	b, err := marshalJSON(plain(a))
	if err != nil || len(a.extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(a.extra))
	for k := range a.extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = b[:len(b)-1]
	for _, k := range keys {
		if len(b) > 1 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		b = append(append(append(b, kb...), ':'), a.extra[k]...)
	}
	return append(b, '}'), nil
}

func (a *addressJSON) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*a = addressJSON{}
	for k, v := range m {
		var dst *string
		switch k {
		case "line1":
			dst = &a.Line1
		case "line2":
			dst = &a.Line2
		case "city":
			dst = &a.City
		case "state":
			dst = &a.State
		case "postalCode":
			dst = &a.PostalCode
		case "country":
			dst = &a.Country
		default:
			var compact bytes.Buffer
			if err := json.Compact(&compact, v); err != nil {
				return err
			}
			if a.extra == nil {
				a.extra = map[string]string{}
			}
			a.extra[k] = compact.String()
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("address.%s: %w", k, err)
		}
	}
	return nil
}

// eventJSON is one event of the export (RULES.md, X): a group's traits, the context kept
// with the record (ip, userAgent, locale, library, page, context.traits) and the
// receivedAt, when known, included.
type eventJSON struct {
	Kind       event.Kind           `json:"kind"`
	Name       string               `json:"name,omitempty"`
	Category   string               `json:"category,omitempty"`
	GroupID    string               `json:"groupId,omitempty"`
	Timestamp  string               `json:"timestamp"`
	MessageID  string               `json:"messageId,omitempty"`
	Properties json.RawMessage      `json:"properties,omitempty"`
	Traits     json.RawMessage      `json:"traits,omitempty"`
	Context    *event.RecordContext `json:"context,omitempty"`
	ReceivedAt string               `json:"receivedAt,omitempty"`
}

// MarshalJSON writes the contact export of RULES.md, X, without events.
func (c *Contact) MarshalJSON() ([]byte, error) { return Export{Contact: c}.MarshalJSON() }

// UnmarshalJSON reads a contact export back: its identifiers, times and
// "consentHistory", and its documented fields applied as one message at the zero
// time. A document with "clocks" (one the storage codec wrote, or an export of a
// regalkit that still wrote them) is read exactly, from its clocks. Events, if present,
// are ignored: use [Export.UnmarshalJSON] to read them.
func (c *Contact) UnmarshalJSON(b []byte) error {
	var x exportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("contact: reading an export: %w", err)
	}
	r, err := x.contact() // x.events is not read: the events are not the contact's to check
	if err != nil {
		return err
	}
	*c = *r
	return nil
}

// MarshalJSON writes the contact with its events (RULES.md, X).
func (e Export) MarshalJSON() ([]byte, error) {
	if e.Contact == nil {
		return nil, errors.New("contact: export of a nil contact")
	}
	x := e.Contact.exportDoc(e.Events, false)
	return marshalJSON(x)
}

// marshalJSON is json.Marshal without HTML escaping, for the storage document
// (EncodeStorage) and Export.MarshalJSON: they write values as the messages sent them
// (Rules T2, X), so that a stored value reads back with the same bytes, and the same
// value sent again is no change (Rule O1). "\u0026" for "&" would be the same JSON
// value, but not the same bytes. (json.Marshal of a Contact or an Export escapes what
// MarshalJSON returns all the same: the same values, written differently.)
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// exportDoc builds the export document of c with events, and with its clocks when
// withClocks is true (the storage codec's document is this one with its clocks).
func (c *Contact) exportDoc(events []event.Record, withClocks bool) *exportJSON {
	view := c.ConsentView()
	pv := &c.shown().phones
	primary := pv.primary()
	x := &exportJSON{exportHead: exportHead{
		ID:           c.id,
		UserID:       c.userID,
		AnonymousIDs: c.AnonymousIDs(),
		Phone:        primary,
		Subscriptions: map[string]optin.State{
			string(optin.SMS):   optin.StateNone,
			string(optin.Voice): optin.StateNone,
		},
	}}
	x.FormerUserIDs = c.FormerUserIDs()
	if !withClocks {
		x.AnonymousIDs = c.appendAliasedAnonymousIDs(x.AnonymousIDs)
	}
	x.ConsentHistory = view.History()
	for f, r := range c.shown().fields {
		switch {
		case r.val == "":
		case fields[f].kind == kindAge:
			x.fields[f] = json.RawMessage(r.val) // its decimal digits
		default:
			x.fields[f], _ = json.Marshal(r.val)
		}
	}
	for _, m := range pv.members {
		if m.member.val == "" {
			continue
		}
		x.InAudience = true
		if x.Phones == nil {
			x.Phones = make(map[string]phoneJSON)
		}
		x.Phones[m.phone] = phoneJSON{Label: c.PhoneLabel(m.phone), Primary: m.phone == primary, OptIns: view.OptIns(m.phone)}
	}
	if primary != "" {
		for _, ch := range []optin.Channel{optin.SMS, optin.Voice} {
			x.Subscriptions[string(ch)] = view.State(primary, ch)
		}
	}
	if a := c.Address(); !a.IsZero() {
		x.Address = &addressJSON{a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country, a.Extra}
	}
	for _, kr := range c.shown().custom {
		if kr.reg.val != "" {
			if x.Custom == nil {
				x.Custom = make(map[string]json.RawMessage)
			}
			x.Custom[kr.key] = json.RawMessage(kr.reg.val)
		}
	}
	for _, r := range events {
		ev := eventJSON{
			Kind: r.Kind, Name: r.Name, Category: r.Category, GroupID: r.GroupID,
			Timestamp: timestamp.Format(r.Time), MessageID: r.MessageID,
			Properties: objectJSON(r.Properties), Traits: objectJSON(r.Traits),
		}
		if !r.Context.IsZero() {
			ev.Context = &r.Context
		}
		if !r.ReceivedAt.IsZero() {
			ev.ReceivedAt = timestamp.Format(r.ReceivedAt)
		}
		x.Events = append(x.Events, ev)
	}
	if c.createdAt != 0 {
		x.CreatedAt = timestamp.Format(c.createdAt.time())
	}
	if c.updatedAt != 0 {
		x.UpdatedAt = timestamp.Format(c.updatedAt.time())
	}
	if withClocks {
		x.Clocks = c.clocks()
	}
	return x
}

// objectJSON writes an event.Object as a JSON object, values exactly as kept.
func objectJSON(o event.Object) json.RawMessage {
	if o == nil {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		b.Write(k)
		b.WriteByte(':')
		if len(m.Value) == 0 {
			b.WriteString("null")
		} else {
			b.Write(m.Value)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// asIdentify turns the documented keys of an export without clocks back into traits,
// applied as one message at the zero time.
func (x *exportJSON) asIdentify() *event.Message {
	var o event.Object
	add := func(key string, v any) {
		b, err := json.Marshal(v)
		if err == nil {
			o = append(o, event.Member{Key: key, Value: b})
		}
	}
	for f := range numFields {
		if v := x.fields[f]; v != nil && fields[f].context == "" && string(v) != `""` {
			o = append(o, event.Member{Key: fields[f].name, Value: v})
		}
	}
	if x.Address != nil {
		add("address", x.Address)
	}
	if len(x.Phones) > 0 {
		phones := map[string]map[string]any{}
		for p, pj := range x.Phones {
			phones[p] = map[string]any{"label": pj.Label, "isPrimary": pj.Primary}
		}
		add("phones", phones)
	}
	keys := make([]string, 0, len(x.Custom))
	for k := range x.Custom {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		o = append(o, event.Member{Key: k, Value: x.Custom[k]})
	}
	m := &event.Message{Kind: event.Identify, Traits: o}
	for f := range numFields {
		if v := x.fields[f]; v != nil && fields[f].context != "" && string(v) != `""` {
			m.Context.Extra = append(m.Context.Extra, event.Member{Key: fields[f].context, Value: v})
		}
	}
	return m
}

// UnmarshalJSON reads a contact export with its events.
func (e *Export) UnmarshalJSON(b []byte) error {
	var x exportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("contact: reading an export: %w", err)
	}
	c, err := x.contact()
	if err != nil {
		return err
	}
	events, err := x.events()
	if err != nil {
		return err
	}
	*e = Export{Contact: c, Events: events}
	return nil
}

// contact rebuilds the contact of an export document: from its clocks when it has
// them, else from its documented keys applied as one message at the zero time.
func (x *exportJSON) contact() (*Contact, error) {
	c := &Contact{id: x.ID, userID: x.UserID}
	created, err := optionalTime(x.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := optionalTime(x.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.SetTimes(created, updated)
	noClocks := x.Clocks == nil
	if noClocks {
		x.Clocks = &clocksJSON{}
		// Without the clocks, the phone history that bound a record to the contact's
		// phone at its time (Rule C5) is not there to bind it again: it keeps the
		// address it applied to, so that no other phone gets its consent.
		for i := range x.ConsentHistory {
			if en := &x.ConsentHistory[i]; en.Address == "" && en.AppliesTo != "" {
				en.Address = en.AppliesTo
			}
		}
	}
	if err := c.readClocks(x.Clocks, x.ConsentHistory); err != nil {
		return nil, err
	}
	if noClocks {
		// A value the rules refuse is a malformed export, not one to drop in silence.
		// The traits go MaxTraits at a time: Rule T10 bounds a message, not a contact,
		// which many messages may have given more.
		m := x.asIdentify()
		all := m.Traits
		for first := true; first || len(all) > 0; first = false {
			n := min(len(all), MaxTraits)
			m.Traits, all = all[:n], all[n:]
			if ch := c.ApplyTraits(m, nil); len(ch.Diagnostics) > 0 {
				d := ch.Diagnostics[0]
				return nil, fmt.Errorf("contact: reading an export: %s: %s (%s)", d.Field, d.Message, d.Code)
			}
			m.Context = event.Context{} // its fields apply once
		}
	}
	for _, id := range x.AnonymousIDs {
		if !c.HasKey(identity.AnonymousKey(id)) {
			c.AddAnonymousID(id)
		}
	}
	for _, id := range x.FormerUserIDs {
		c.AddUser(id)
	}
	return c, nil
}

// events reads the events of an export document; nil when it has none.
func (x *exportJSON) events() ([]event.Record, error) {
	events := make([]event.Record, 0, len(x.Events))
	for _, ev := range x.Events {
		t, err := timestamp.Parse(ev.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		props, err := parseObject(ev.Properties)
		if err != nil {
			return nil, fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		traits, err := parseObject(ev.Traits)
		if err != nil {
			return nil, fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		received, err := optionalTime(ev.ReceivedAt)
		if err != nil {
			return nil, err
		}
		rec := event.Record{
			Kind: ev.Kind, Name: ev.Name, Category: ev.Category, GroupID: ev.GroupID,
			Time: t, MessageID: ev.MessageID, Properties: props, Traits: traits, ReceivedAt: received,
		}
		if ev.Context != nil {
			rec.Context = *ev.Context
		}
		events = append(events, rec)
	}
	if len(events) == 0 {
		return nil, nil
	}
	return events, nil
}

func optionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := timestamp.Parse(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("contact: reading an export: %w", err)
	}
	return t, nil
}

// parseObject reads a JSON object into an event.Object, values as compact JSON. It
// refuses what the decoders refuse (a key twice at any depth, a number longer than
// they read, invalid UTF-8): an export is read back only as what a message could
// have given, so that every store keeps the records it gives (Rule X).
func parseObject(raw json.RawMessage) (event.Object, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var obj event.Object
	if err := obj.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if obj == nil {
		obj = event.Object{}
	}
	return obj, nil
}
