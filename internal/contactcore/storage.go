package contactcore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
)

// The storage codec: how a durable Store keeps a contact and reads it back exactly.
//
// [EncodeStorage] writes one JSON document: the export of RULES.md, X, without events,
// plus "storageVersion" and "clocks", the merge state behind the shown fields: every
// register with the stamp (event time, messageId) that set it, removed fields included;
// the phone log; links with their first and latest stamps; the born, first and latest
// stamps; held messages (Rule I4) with their effects, those of a deleted user's time
// (Rule I7) with the event records they keep; former External IDs' parts and alias
// facts (Rule I5); and the consent ledger, keyword records (Rule G7) included.
// [DecodeStorage] reads it into a contact equal to the one written, which keeps merging
// exactly as the original would (Rule S3). The people export (json.Marshal, [Export])
// is for showing a contact; it holds no clocks.

// StorageVersion is the newest version of the document [EncodeStorage] writes, in its
// "storageVersion" key. A change that an older [DecodeStorage] would misread gets a
// new version; DecodeStorage reads every version up to this one. Version 2 added ghost
// links (Rule I7); a contact without them is written as version 1, which older builds
// read.
const StorageVersion = 2

// ErrStorageVersion is returned by [DecodeStorage] for a document of a version it does
// not know: one written by a newer regalkit.
var ErrStorageVersion = errors.New("contact: unknown storage version")

// EncodeStorage writes c in the storage encoding (see [StorageVersion]), for a durable
// Store to keep. It is safe to call concurrently with reads of c. It refuses a contact
// whose id or lookup keys are not valid UTF-8: the encoding is JSON, which would write
// them changed (U+FFFD), so that the contact read back would not be the one put, nor
// found by its own keys. (The Processor never makes one: Rule D6 refuses such
// identifiers.)
func EncodeStorage(c *Contact) ([]byte, error) {
	if c == nil {
		return nil, errors.New("contact: storage encoding of a nil contact")
	}
	if !utf8.ValidString(c.ID()) {
		return nil, errors.New("contact: storage encoding: the contact's id is not valid UTF-8, which the encoding cannot keep")
	}
	var buf [8]identity.Key
	for _, k := range c.AppendKeys(buf[:0]) {
		if !utf8.ValidString(k.Value) {
			return nil, errors.New("contact: storage encoding: a lookup key of contact " + c.ID() + " (" + k.Kind.String() + ") is not valid UTF-8, which the encoding cannot keep")
		}
	}
	x := c.exportDoc(nil, true)
	x.Version = 1
	if len(c.ghostList()) > 0 {
		x.Version = 2
	}
	return marshalJSON(x) // see marshalJSON: values read back with their bytes
}

// DecodeStorage reads a contact that [EncodeStorage] wrote. A document without
// "storageVersion" is read as version 1 when it has "clocks": it is what regalkit's
// stores kept before the key existed (json.Marshal of a *Contact). It fails with
// [ErrStorageVersion] for a newer version, and with an error for a malformed document;
// bad input never panics.
func DecodeStorage(b []byte) (*Contact, error) {
	var x exportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("contact: decoding a stored contact: %w", err)
	}
	switch {
	case x.Version < 0 || x.Version > StorageVersion:
		return nil, fmt.Errorf("%w %d (this build reads up to %d)", ErrStorageVersion, x.Version, StorageVersion)
	case x.Clocks == nil:
		return nil, errors.New("contact: decoding a stored contact: no clocks")
	case len(x.Events) > 0:
		return nil, errors.New("contact: decoding a stored contact: events are kept by the store, not in the contact")
	}
	return x.contact()
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
	Ghosts  []ghostJSON `json:"ghosts,omitempty"`  // deleted users' links (Rule I7, version 2)

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

// ghostJSON is a ghost link (ghost.go): the anonymous ID, the deleted user and the
// stamp index of the earliest message of the user that linked them before the delete.
type ghostJSON struct {
	AnonymousID string `json:"anonymousId"`
	UserID      string `json:"userId"`
	Stamp       int    `json:"stamp"`
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
		pj := partJSON{UserID: p.userID, stateClocks: *k.state(p.shown(), true), userClocks: k.user(p)}
		for _, e := range p.events {
			pj.Events = append(pj.Events, k.stampIndex(stampOf(e.Time, e.MessageID)))
		}
		k.Parts = append(k.Parts, pj)
	}
	for _, a := range c.aliases {
		k.Aliases = append(k.Aliases, aliasJSON{PreviousID: a.prev, UserID: a.user, Stamp: k.stampIndex(a.st)})
	}
	for _, g := range c.ghostList() {
		k.Ghosts = append(k.Ghosts, ghostJSON{AnonymousID: g.anon, UserID: g.user, Stamp: k.stampIndex(g.st)})
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
	// A register never written has neither a value nor a stamp. One with a value and
	// the zero stamp comes from an export read without its clocks, and is kept.
	for f, r := range s.fields {
		if !r.st.isZero() || r.val != "" {
			setClock(&sc.Fields, fields[f].name, k.register(r, false))
		}
	}
	for i, r := range s.address {
		if !r.st.isZero() || r.val != "" {
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
		p.setState(&state{})
		if err := k.readState(&pj.stateClocks, p.state); err != nil {
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
	for _, gj := range k.Ghosts {
		st, err := k.stamp(gj.Stamp)
		if err != nil {
			return err
		}
		if gj.AnonymousID == "" || gj.UserID == "" {
			return fmt.Errorf("contact: reading an export: a ghost link without its anonymousId or userId: %w", errClock)
		}
		c.AddGhost(identity.Link{AnonymousID: gj.AnonymousID, UserID: gj.UserID, Time: st.time(), MessageID: st.id()})
	}
	for _, hj := range k.Held {
		st, err := k.stamp(hj.Stamp)
		if err != nil {
			return err
		}
		if hj.AnonymousID == "" {
			return fmt.Errorf("contact: reading an export: a held message without its anonymousId: %w", errClock)
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
	c.setState(own.clone())
	if len(c.held) > 0 || len(c.parts) > 0 {
		c.own = own
		c.owns |= ownsOwn
		c.rebuild()
	}
	return nil
}

func (k *clocksJSON) readState(sc *stateClocks, s *state) error {
	s.writable()
	for name, raw := range sc.Fields {
		f, ok := fieldByName(name)
		if !ok {
			return fmt.Errorf("contact: reading an export: unknown clock %q", cutMasked(name))
		}
		r, err := k.parseRegister(raw, false)
		if err != nil {
			return err
		}
		if r.val != "" && !fields[f].kind.storedShape(r.val) {
			return fmt.Errorf("contact: reading an export: the value of %s is not one %s can hold: %w", name, name, errClock)
		}
		s.fields[f].join(r)
	}
	for name, raw := range sc.Address {
		i := slices.Index(addressPartNames[:], name)
		if i < 0 {
			return fmt.Errorf("contact: reading an export: unknown address clock %q", cutMasked(name))
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
		if o <= 0 || (phone != "" && !identity.IsE164(phone)) {
			return errClock
		}
		s.addPhoneWrite(phoneWrite{st: st, phone: phone, op: phoneOp(o), on: on})
	}
	if sc.Consent != nil {
		s.consent.Merge(*sc.Consent)
	}
	return nil
}

// storedShape reports whether a stored value has the shape the field's kind gives
// every value it keeps: the storage codec refuses a document that says otherwise rather
// than make a contact no message could have made. Only the shape: a value kept under
// older rules (an email normalized differently, say) still reads.
func (k fieldKind) storedShape(val string) bool {
	switch k {
	case kindEmail:
		at := strings.IndexByte(val, '@')
		return at > 0 && at < len(val)-1 && !strings.ContainsAny(val, " \t\r\n")
	case kindAge:
		n, err := strconv.Atoi(val)
		return err == nil && n >= 0 && n <= 150 && val == strconv.Itoa(n)
	case kindZone:
		return zoneName(val)
	}
	return true
}

// cutMasked returns a key of a document being read, fit to quote in an error: masked
// (diag.Mask: no whole email or phone) and cut to 64 bytes.
func cutMasked(key string) string {
	key = diag.Mask(key)
	if len(key) > 64 {
		key = strings.ToValidUTF8(key[:64], "") + "…"
	}
	return key
}
