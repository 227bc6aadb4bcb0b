package contact

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
// json.Marshal of a *Contact is the Export without events.
type Export struct {
	Contact *Contact
	Events  []event.Record
	// OmitClocks leaves out the "clocks" key, for showing a contact to people. Such an
	// export reads back as a contact without its merge state (every field stamped at
	// the zero time), so keep the clocks when the export is for storage.
	OmitClocks bool
}

// The export document (RULES.md, X). Keys after "updatedAt" are regalkit's own:
// "formerUserIds" lists External IDs replaced by an alias (Rule I5), and "clocks" holds
// every field with the stamp that set it, removed fields included, so that a contact
// read back with UnmarshalJSON keeps merging exactly as the original would.
type exportJSON struct {
	ID             string                     `json:"id,omitempty"`
	UserID         string                     `json:"userId,omitempty"`
	AnonymousIDs   []string                   `json:"anonymousIds,omitempty"`
	InAudience     bool                       `json:"inAudience"`
	Phone          string                     `json:"phone,omitempty"`
	Phones         map[string]phoneJSON       `json:"phones,omitempty"`
	Subscriptions  map[string]optin.State     `json:"subscriptions"`
	Email          string                     `json:"email,omitempty"`
	FirstName      string                     `json:"firstName,omitempty"`
	LastName       string                     `json:"lastName,omitempty"`
	Age            *int                       `json:"age,omitempty"`
	Gender         string                     `json:"gender,omitempty"`
	Address        *addressJSON               `json:"address,omitempty"`
	TimeZone       string                     `json:"timezone,omitempty"`
	Custom         map[string]json.RawMessage `json:"custom,omitempty"`
	Events         []eventJSON                `json:"events,omitempty"`
	ConsentHistory []optin.Entry              `json:"consentHistory,omitempty"`
	CreatedAt      string                     `json:"createdAt,omitempty"`
	UpdatedAt      string                     `json:"updatedAt,omitempty"`
	FormerUserIDs  []string                   `json:"formerUserIds,omitempty"`
	Clocks         *clocksJSON                `json:"clocks,omitempty"`
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

func (a addressJSON) MarshalJSON() ([]byte, error) {
	type plain addressJSON
	b, err := json.Marshal(plain(a))
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

// eventJSON is one event of the export (SPEC X): a group's traits, the context kept
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

// clocksJSON is the state behind the export: the contact's own state (every register
// with its stamp, removed fields included, and the phone log), its links, and its held
// messages with their effects. Stamps are listed once in "stamps" as [time, messageId]
// and referred to by index; a register is [value, stamp index] with value null for a
// removed field; a phone write is [stamp index, op, phone, on].
type clocksJSON struct {
	Stamps [][2]string `json:"stamps"`
	stateClocks
	userClocks
	Held    []heldJSON  `json:"held,omitempty"`
	Parts   []partJSON  `json:"parts,omitempty"`   // former External IDs' messages (Rule I5)
	Aliases []aliasJSON `json:"aliases,omitempty"` // alias facts (Rule I5)

	index  map[stampValue]int // writing: the index of each stamp
	parsed []stamp            // reading: each index's stamp, once parsed
}

// stateClocks is one state. Consent is written for a held message's effect and for the
// own state of a contact that holds messages; otherwise the export's consentHistory is
// the ledger.
type stateClocks struct {
	Fields         map[string]json.RawMessage `json:"fields,omitempty"`
	Address        map[string]json.RawMessage `json:"address,omitempty"`
	AddressExtra   map[string]json.RawMessage `json:"addressExtra,omitempty"`
	AddressCleared *int                       `json:"addressCleared,omitempty"`
	Custom         map[string]json.RawMessage `json:"custom,omitempty"`
	Labels         map[string]json.RawMessage `json:"labels,omitempty"`
	PhoneLog       []json.RawMessage          `json:"phoneLog,omitempty"`
	Consent        *optin.Ledger              `json:"consent,omitempty"`
}

// userClocks are the stamps of one userId's messages: its links (stamp index; null for
// an anonymous contact's own ID), the latest linking message of each when another than
// the first, its latest and earliest message, and the latest delete erased (Rule I7).
type userClocks struct {
	Links     map[string]*int `json:"links,omitempty"`
	LinksLast map[string]int  `json:"linksLast,omitempty"`
	Latest    *int            `json:"latest,omitempty"`
	First     *int            `json:"first,omitempty"`
	Born      *int            `json:"born,omitempty"`
}

// partJSON is a former External ID's part: its state, stamps, and the stamps of the
// event records its messages added.
type partJSON struct {
	UserID string `json:"userId"`
	stateClocks
	userClocks
	Events []int `json:"events,omitempty"`
}

// aliasJSON is an alias fact: previousId, userId and the alias message's stamp index.
type aliasJSON struct {
	PreviousID string `json:"previousId"`
	UserID     string `json:"userId"`
	Stamp      int    `json:"stamp"`
}

type heldJSON struct {
	AnonymousID string       `json:"anonymousId"`
	Stamp       int          `json:"stamp"`
	Event       bool         `json:"event,omitempty"`
	Effect      *stateClocks `json:"effect,omitempty"`
	// Deleted and Record: a held message of a deleted user's time (Rule I7) and the
	// event record it keeps.
	Deleted bool          `json:"deleted,omitempty"`
	Record  *event.Record `json:"record,omitempty"`
}

// MarshalJSON writes the contact export of RULES.md, X, without events.
func (c *Contact) MarshalJSON() ([]byte, error) { return Export{Contact: c}.MarshalJSON() }

// UnmarshalJSON reads a contact export back. The contact is rebuilt from "clocks",
// identifiers, times and "consentHistory"; the other keys are derived and only read for
// checking. Events, if present, are ignored: use [Export.UnmarshalJSON] to read them.
func (c *Contact) UnmarshalJSON(b []byte) error {
	var e Export
	if err := e.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = *e.Contact
	return nil
}

// MarshalJSON writes the contact with its events (RULES.md, X).
func (e Export) MarshalJSON() ([]byte, error) {
	c := e.Contact
	if c == nil {
		return nil, errors.New("contact: export of a nil contact")
	}
	view := c.ConsentView()
	pv := &c.phones
	primary := pv.primary()
	x := exportJSON{
		ID:            c.id,
		UserID:        c.userID,
		AnonymousIDs:  c.AnonymousIDs(),
		Phone:         primary,
		Email:         c.email.val,
		FirstName:     c.firstName.val,
		LastName:      c.lastName.val,
		Gender:        c.gender.val,
		TimeZone:      c.timezone.val,
		FormerUserIDs: c.FormerUserIDs(),
		Subscriptions: map[string]optin.State{
			string(optin.SMS):   optin.StateNone,
			string(optin.Voice): optin.StateNone,
		},
		ConsentHistory: view.History(),
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
	if n, ok := c.Age(); ok {
		x.Age = &n
	}
	if a := c.Address(); !a.IsZero() {
		x.Address = &addressJSON{a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country, a.Extra}
	}
	for _, kr := range c.custom {
		if kr.reg.val != "" {
			if x.Custom == nil {
				x.Custom = make(map[string]json.RawMessage)
			}
			x.Custom[kr.key] = json.RawMessage(kr.reg.val)
		}
	}
	for _, r := range e.Events {
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
	if !e.OmitClocks {
		x.Clocks = c.clocks()
	}
	return json.Marshal(x)
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

// user writes the stamps of c's own messages.
func (k *clocksJSON) user(c *Contact) userClocks {
	var u userClocks
	for _, l := range c.links {
		if u.Links == nil {
			u.Links = make(map[string]*int)
		}
		var i *int
		if !l.st.isZero() {
			n := k.stampIndex(l.st)
			i = &n
		}
		u.Links[l.anon] = i
		if l.last.compare(l.st) != 0 {
			if u.LinksLast == nil {
				u.LinksLast = make(map[string]int)
			}
			u.LinksLast[l.anon] = k.stampIndex(l.last)
		}
	}
	index := func(st stamp) *int {
		if st.isZero() {
			return nil
		}
		i := k.stampIndex(st)
		return &i
	}
	u.Latest, u.First, u.Born = index(c.latest), index(c.first), index(c.born)
	return u
}

// readUser reads what user wrote into c.
func (k *clocksJSON) readUser(u *userClocks, c *Contact) error {
	for anon, i := range u.Links {
		l := link{anon: anon}
		if i != nil {
			st, err := k.stamp(*i)
			if err != nil {
				return err
			}
			l.st, l.last = st, st
		}
		if i, ok := u.LinksLast[anon]; ok {
			st, err := k.stamp(i)
			if err != nil {
				return err
			}
			l.last = st
		}
		c.addLink(l)
	}
	for _, f := range []struct {
		i  *int
		st *stamp
	}{{u.Latest, &c.latest}, {u.First, &c.first}, {u.Born, &c.born}} {
		if f.i != nil {
			st, err := k.stamp(*f.i)
			if err != nil {
				return err
			}
			*f.st = st
		}
	}
	return nil
}

// stampIndex returns the index of st in the stamp table, adding it if needed.
func (k *clocksJSON) stampIndex(st stamp) int {
	if i, ok := k.index[st.value()]; ok {
		return i
	}
	if k.index == nil {
		k.index = make(map[stampValue]int)
	}
	k.index[st.value()] = len(k.Stamps)
	k.Stamps = append(k.Stamps, [2]string{timestamp.Format(st.time()), st.id()})
	return len(k.Stamps) - 1
}

// register writes [value, stamp index]; raw says the value is JSON text already.
func (k *clocksJSON) register(r register, raw bool) json.RawMessage {
	var v []byte
	switch {
	case r.val == "":
		v = []byte("null")
	case raw:
		v = []byte(r.val)
	default:
		v, _ = json.Marshal(r.val)
	}
	b := append([]byte{'['}, v...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(k.stampIndex(r.st)), 10)
	return append(b, ']')
}

var phoneOpNames = [...]string{opTrait: "trait", opMember: "member", opPrimary: "primary"}

func (c *Contact) clocks() *clocksJSON {
	k := &clocksJSON{}
	k.stateClocks = *k.state(c.ownState(), c.own != nil)
	k.userClocks = k.user(c)
	for _, p := range c.parts {
		pj := partJSON{UserID: p.userID, stateClocks: *k.state(&p.state, true), userClocks: k.user(p)}
		for _, e := range p.events {
			pj.Events = append(pj.Events, k.stampIndex(stampOf(e.Time, e.MessageID)))
		}
		k.Parts = append(k.Parts, pj)
	}
	for _, a := range c.aliases {
		k.Aliases = append(k.Aliases, aliasJSON{PreviousID: a.prev, UserID: a.user, Stamp: k.stampIndex(a.st)})
	}
	for _, h := range c.held {
		hj := heldJSON{AnonymousID: h.AnonymousID, Stamp: k.stampIndex(h.stamp()), Event: h.Event, Deleted: h.Deleted, Record: h.record}
		if h.effect != nil {
			hj.Effect = k.state(h.effect, true)
		}
		k.Held = append(k.Held, hj)
	}
	return k
}

// state writes s, with its consent ledger when withConsent is true.
func (k *clocksJSON) state(s *state, withConsent bool) *stateClocks {
	sc := &stateClocks{}
	fields := [...]struct {
		name string
		reg  register
	}{{"firstName", s.firstName}, {"lastName", s.lastName}, {"email", s.email}, {"age", s.age}, {"gender", s.gender}, {"timezone", s.timezone}}
	for _, f := range fields {
		if !f.reg.st.isZero() {
			setClock(&sc.Fields, f.name, k.register(f.reg, false))
		}
	}
	for i, r := range s.address {
		if !r.st.isZero() {
			setClock(&sc.Address, addressPartNames[i], k.register(r, false))
		}
	}
	for _, kr := range s.addressExtra {
		setClock(&sc.AddressExtra, kr.key, k.register(kr.reg, true))
	}
	for _, kr := range s.custom {
		setClock(&sc.Custom, kr.key, k.register(kr.reg, true))
	}
	for _, kr := range s.labels {
		setClock(&sc.Labels, kr.key, k.register(kr.reg, false))
	}
	if !s.addressCleared.isZero() {
		i := k.stampIndex(s.addressCleared)
		sc.AddressCleared = &i
	}
	for _, w := range s.phoneLog {
		b, _ := json.Marshal([]any{k.stampIndex(w.st), phoneOpNames[w.op], w.phone, w.on})
		sc.PhoneLog = append(sc.PhoneLog, b)
	}
	if withConsent && s.consent.Len() > 0 {
		l := s.consent
		sc.Consent = &l
	}
	return sc
}

func setClock(m *map[string]json.RawMessage, key string, v json.RawMessage) {
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[key] = v
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
	for _, f := range []struct{ key, val string }{
		{"firstName", x.FirstName}, {"lastName", x.LastName}, {"email", x.Email}, {"gender", x.Gender},
	} {
		if f.val != "" {
			add(f.key, f.val)
		}
	}
	if x.Age != nil {
		add("age", *x.Age)
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
	if x.TimeZone != "" {
		b, _ := json.Marshal(x.TimeZone)
		m.Context.Extra = event.Object{{Key: "timezone", Value: b}}
	}
	return m
}

// UnmarshalJSON reads a contact export with its events.
func (e *Export) UnmarshalJSON(b []byte) error {
	var x exportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("contact: reading an export: %w", err)
	}
	c := &Contact{id: x.ID, userID: x.UserID}
	created, err := optionalTime(x.CreatedAt)
	if err != nil {
		return err
	}
	updated, err := optionalTime(x.UpdatedAt)
	if err != nil {
		return err
	}
	c.SetTimes(created, updated)
	noClocks := x.Clocks == nil
	if noClocks {
		x.Clocks = &clocksJSON{}
	}
	if err := c.readClocks(x.Clocks, x.ConsentHistory); err != nil {
		return err
	}
	if noClocks {
		c.ApplyTraits(x.asIdentify(), nil)
	}
	for _, id := range x.AnonymousIDs {
		if !c.HasKey(identity.AnonymousKey(id)) {
			c.AddAnonymousID(id)
		}
	}
	for _, id := range x.FormerUserIDs {
		c.AddUser(id)
	}
	events := make([]event.Record, 0, len(x.Events))
	for _, ev := range x.Events {
		t, err := timestamp.Parse(ev.Timestamp)
		if err != nil {
			return fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		props, err := parseObject(ev.Properties)
		if err != nil {
			return fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		traits, err := parseObject(ev.Traits)
		if err != nil {
			return fmt.Errorf("contact: reading an export: event %q: %w", ev.MessageID, err)
		}
		received, err := optionalTime(ev.ReceivedAt)
		if err != nil {
			return err
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
		events = nil
	}
	*e = Export{Contact: c, Events: events}
	return nil
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

// parseObject reads a JSON object into an event.Object, values as compact JSON.
func parseObject(raw json.RawMessage) (event.Object, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	obj := event.Object{}
	ok := jsonvalue.Members(compact.Bytes(), func(k, v []byte) {
		key, _ := jsonvalue.String(k)
		obj = append(obj, event.Member{Key: key, Value: bytes.Clone(v)})
	})
	if !ok {
		return nil, errors.New("properties is not a JSON object")
	}
	return obj, nil
}

var errClock = errors.New("contact: reading an export: malformed clocks")

// stamp returns the stamp at index i of the table, the same one for every use of i, as
// the contact shares one stamp among the fields a message wrote.
func (k *clocksJSON) stamp(i int) (stamp, error) {
	if i < 0 || i >= len(k.Stamps) {
		return stamp{}, errClock
	}
	if k.parsed == nil {
		k.parsed = make([]stamp, len(k.Stamps))
	}
	if st := k.parsed[i]; st.p != nil {
		return st, nil
	}
	t, err := timestamp.Parse(k.Stamps[i][0])
	if err != nil {
		return stamp{}, errClock
	}
	k.parsed[i] = stampOf(t, k.Stamps[i][1])
	return k.parsed[i], nil
}

func (k *clocksJSON) parseRegister(raw json.RawMessage, isRaw bool) (register, error) {
	var v [2]json.RawMessage
	var i int
	if json.Unmarshal(raw, &v) != nil || json.Unmarshal(v[1], &i) != nil {
		return register{}, errClock
	}
	st, err := k.stamp(i)
	if err != nil {
		return register{}, err
	}
	r := register{st: st}
	switch {
	case string(v[0]) == "null":
	case isRaw:
		var compact bytes.Buffer
		if json.Compact(&compact, v[0]) != nil {
			return register{}, errClock
		}
		r.val = compact.String()
	default:
		if json.Unmarshal(v[0], &r.val) != nil || r.val == "" {
			return register{}, errClock
		}
	}
	return r, nil
}

func (c *Contact) readClocks(k *clocksJSON, history []optin.Entry) error {
	own := &state{}
	if err := k.readState(&k.stateClocks, own); err != nil {
		return err
	}
	if len(k.Held) == 0 && len(k.Parts) == 0 {
		// Without held messages or parts the own state is the shown state, whose ledger
		// is the consentHistory.
		recs := make([]optin.Record, len(history))
		for i, en := range history {
			recs[i] = en.Record
		}
		own.consent.Add(recs...)
	}
	if err := k.readUser(&k.userClocks, c); err != nil {
		return err
	}
	for _, pj := range k.Parts {
		p := &Contact{userID: pj.UserID}
		if err := k.readState(&pj.stateClocks, &p.state); err != nil {
			return err
		}
		if err := k.readUser(&pj.userClocks, p); err != nil {
			return err
		}
		for _, i := range pj.Events {
			st, err := k.stamp(i)
			if err != nil {
				return err
			}
			p.events = append(p.events, EventRef{MessageID: st.id(), Time: st.time()})
		}
		slices.SortFunc(p.events, compareRefs)
		if i, found := c.partIndex(p.userID); !found && p.userID != "" && p.userID != c.userID {
			c.parts = slices.Insert(c.parts, i, p)
		}
	}
	for _, aj := range k.Aliases {
		st, err := k.stamp(aj.Stamp)
		if err != nil {
			return err
		}
		c.AddAlias(identity.Alias{PreviousID: aj.PreviousID, UserID: aj.UserID, Time: st.time(), MessageID: st.id()})
	}
	for _, hj := range k.Held {
		st, err := k.stamp(hj.Stamp)
		if err != nil {
			return err
		}
		h := Held{AnonymousID: hj.AnonymousID, MessageID: st.id(), Time: st.time(), Event: hj.Event, Deleted: hj.Deleted, record: hj.Record}
		if hj.Effect != nil {
			h.effect = &state{}
			if err := k.readState(hj.Effect, h.effect); err != nil {
				return err
			}
		}
		if i, found := slices.BinarySearchFunc(c.held, h, compareHeld); !found {
			c.held = slices.Insert(c.held, i, h)
		}
	}
	c.state = *own
	if len(c.held) > 0 || len(c.parts) > 0 {
		c.own = own
		c.rebuild()
	}
	return nil
}

func (k *clocksJSON) readState(sc *stateClocks, s *state) error {
	fields := map[string]*register{
		"firstName": &s.firstName, "lastName": &s.lastName, "email": &s.email, "age": &s.age, "gender": &s.gender, "timezone": &s.timezone,
	}
	for name, raw := range sc.Fields {
		dst, ok := fields[name]
		if !ok {
			return fmt.Errorf("contact: reading an export: unknown clock %q", name)
		}
		r, err := k.parseRegister(raw, false)
		if err != nil {
			return err
		}
		dst.join(r)
	}
	for name, raw := range sc.Address {
		i := slices.Index(addressPartNames[:], name)
		if i < 0 {
			return fmt.Errorf("contact: reading an export: unknown address clock %q", name)
		}
		r, err := k.parseRegister(raw, false)
		if err != nil {
			return err
		}
		s.address[i].join(r)
	}
	for _, kk := range []struct {
		src map[string]json.RawMessage
		dst *[]keyedRegister
		raw bool
	}{{sc.AddressExtra, &s.addressExtra, true}, {sc.Custom, &s.custom, true}, {sc.Labels, &s.labels, false}} {
		for key, raw := range kk.src {
			r, err := k.parseRegister(raw, kk.raw)
			if err != nil {
				return err
			}
			setKeyed(kk.dst, key, r.val, r.st)
		}
	}
	if sc.AddressCleared != nil {
		st, err := k.stamp(*sc.AddressCleared)
		if err != nil {
			return err
		}
		s.addressCleared = st
	}
	for _, raw := range sc.PhoneLog {
		var v [4]json.RawMessage
		var i int
		var op, phone string
		var on bool
		if json.Unmarshal(raw, &v) != nil || json.Unmarshal(v[0], &i) != nil ||
			json.Unmarshal(v[1], &op) != nil || json.Unmarshal(v[2], &phone) != nil || json.Unmarshal(v[3], &on) != nil {
			return errClock
		}
		st, err := k.stamp(i)
		if err != nil {
			return err
		}
		o := slices.Index(phoneOpNames[:], op)
		if o <= 0 {
			return errClock
		}
		s.addPhoneWrite(phoneWrite{st: st, phone: phone, op: phoneOp(o), on: on})
	}
	if sc.Consent != nil {
		s.consent.Merge(*sc.Consent)
	}
	return nil
}
