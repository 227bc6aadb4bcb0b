package optin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/regalkit/regalkit/internal/msgorder"
)

// Binder says which address a record without one applies to (Rule C5): given the
// record's channel and its message's event time, it returns the phone (for SMS and
// voice) or email address (for email), or ok false while the contact has none, leaving
// the record pending.
//
// A Binder must be a pure function of the contact's state, never of the order messages
// arrived in; [BindPrimary] is the Rule C5 binder for phones. A nil Binder binds nothing.
type Binder func(ch Channel, messageTime time.Time) (address string, ok bool)

// PhoneWrite is one message's choice of a contact's primary phone (Rule T9): the phone,
// and the event time and messageId that order it among the others (Rule T4).
type PhoneWrite struct {
	Phone     string
	Time      time.Time
	MessageID string
}

// BindPrimary returns the Binder of Rule C5 for a contact whose primary phone was chosen
// by writes, in any order: an SMS or voice record from a message at time t applies to
// the phone primary at t (the write with the largest (Time, MessageID) at or before t),
// else, when no phone was chosen at or before t, to the first phone the contact ever got
// (the write with the smallest (Time, MessageID)). With no writes, and for the email
// channel, it binds nothing. Writes with an empty Phone are ignored.
//
// The contact passes every write its primary-phone register has seen, not only the
// latest: the grow-only set of writes makes the binding, and so every state, independent
// of arrival order. BindPrimary copies writes; the caller may reuse the slice.
func BindPrimary(writes []PhoneWrite) Binder {
	ws := make([]PhoneWrite, 0, len(writes))
	for _, w := range writes {
		if w.Phone != "" {
			w.Time = utc(w.Time)
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b PhoneWrite) int {
		if c := msgorder.Compare(a.Time, a.MessageID, b.Time, b.MessageID); c != 0 {
			return c
		}
		return cmp.Compare(a.Phone, b.Phone)
	})
	return func(ch Channel, at time.Time) (string, bool) {
		if len(ws) == 0 || (ch != SMS && ch != Voice) {
			return "", false
		}
		// The number of writes at or before at; the last of them was primary at that time.
		n, _ := slices.BinarySearchFunc(ws, at, func(w PhoneWrite, t time.Time) int {
			if w.Time.After(t) {
				return 1
			}
			return -1
		})
		if n == 0 {
			return ws[0].Phone, true
		}
		return ws[n-1].Phone, true
	}
}

// Entry is one record of the history with what became of it (Rule C7).
type Entry struct {
	Record
	// AppliesTo is the address the record applies to: its own Address, else the one its
	// Binder gave (Rule C5). Empty for a pending record and for a refused record without
	// an address (refused records never bind).
	AppliesTo string
	// Outcome says what became of the record: Applied, Superseded, Refused or Pending.
	// Record.Refused gives a refused record's code.
	Outcome Outcome
}

// String describes the entry for logs with its address masked.
func (e Entry) String() string {
	s := e.Record.String() + " " + string(e.Outcome)
	if e.Record.Address == "" && e.AppliesTo != "" {
		s += " to " + maskAddress(e.Channel, e.AppliesTo) + " (Rule C5)"
	}
	return s
}

// GoString is [Entry.String], so that %#v does not print a whole address either.
func (e Entry) GoString() string { return "optin.Entry{" + e.String() + "}" }

// LogValue logs the entry as [Record.LogValue] does, with its outcome.
func (e Entry) LogValue() slog.Value {
	attrs := e.Record.LogValue().Group()
	return slog.GroupValue(append(attrs, slog.String("outcome", string(e.Outcome)))...)
}

// MarshalJSON writes the entry as a consentHistory item of the contact export
// (RULES.md, X): {"phone", "channel", "subscribed", "timestamp", "outcome", "messageId"} plus the
// evidence ("code" when refused, "ip", "source", "text", "messageTime",
// "processedAt"); an email record has "email" instead of "phone". "binding" says where
// the address came from: "message" (the record's own message) or "contact" (Rule C5).
// Empty values are omitted; times are RFC 3339 in UTC.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.toJSON(e.AppliesTo, e.Outcome))
}

// UnmarshalJSON reads what [Entry.MarshalJSON] writes. An address bound by the contact
// ("binding": "contact") goes to AppliesTo only, leaving Record.Address empty as it was.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var w recordJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("optin: entry: %w", err)
	}
	r, addr, err := w.fromJSON()
	if err != nil {
		return err
	}
	*e = Entry{Record: r, AppliesTo: addr, Outcome: w.Outcome}
	return nil
}

// Evidence is what the contact export shows for the record that decides a phone's
// state on a channel (RULES.md, X: optIns).
type Evidence struct {
	Subscribed bool      `json:"subscribed"`
	Timestamp  time.Time `json:"timestamp"`
	IP         string    `json:"ip,omitempty"`
	Source     string    `json:"source,omitempty"`
	Text       string    `json:"text,omitempty"`
}

// OptIns is an address's deciding evidence per channel, the "optIns" object of a phone
// in the contact export (RULES.md, X): {"sms": {"subscribed": true, "timestamp": ...}}. A
// channel without a valid record is absent (its state is none).
type OptIns map[Channel]Evidence

// View is a ledger resolved with a [Binder]: every record's outcome and the state of
// every address on every channel. It is computed from the ledger's set of records, so
// it is the same whatever order they arrived in. A View never changes and is safe for
// concurrent use; it does not follow later changes to the ledger.
type View struct {
	history []Entry // the ledger's records in canonical order
	current []int   // indexes into history of the deciding records, by (address, channel)
}

// Resolve derives the ledger's view with bind giving the address of records without one
// (Rule C5):
//
//   - a refused record is Refused and never binds;
//   - a valid record without an address that bind cannot place is Pending;
//   - among the valid records of each (address, channel), the one with the newest
//     consent timestamp is Applied and decides the state, the others are Superseded
//     (Rule C6). At equal timestamps the opt-out decides; beyond that the larger
//     messageId, then the records' canonical order, so every set has one answer.
//
// Call Resolve again when the ledger or the contact's phones change.
func (l Ledger) Resolve(bind Binder) View {
	v := View{history: make([]Entry, len(l.recs))}
	for i := range l.recs {
		e := &v.history[i]
		e.Record = *l.recs[i]
		e.AppliesTo = e.Address
		if e.Refused != "" {
			e.Outcome = Refused
			continue
		}
		if e.AppliesTo == "" && bind != nil {
			if addr, ok := bind(e.Channel, e.MessageTime); ok {
				e.AppliesTo = addr
			}
		}
		if e.AppliesTo == "" {
			e.Outcome = Pending
			continue
		}
		e.Outcome = Superseded
		slot := v.slot(e.AppliesTo, e.Channel)
		switch {
		case slot < 0:
			v.current = append(v.current, i)
		case decides(&e.Record, &v.history[v.current[slot]].Record):
			v.current[slot] = i
		}
	}
	for _, i := range v.current {
		v.history[i].Outcome = Applied
	}
	slices.SortFunc(v.current, func(a, b int) int {
		ea, eb := &v.history[a], &v.history[b]
		if c := cmp.Compare(ea.AppliesTo, eb.AppliesTo); c != 0 {
			return c
		}
		return cmp.Compare(ea.Channel, eb.Channel)
	})
	return v
}

// slot returns the index in v.current of the deciding record for (addr, ch), or -1.
func (v *View) slot(addr string, ch Channel) int {
	for k, i := range v.current {
		if e := &v.history[i]; e.AppliesTo == addr && e.Channel == ch {
			return k
		}
	}
	return -1
}

// State returns the state of addr on channel ch (Rules C6, C9): StateNone when no valid
// record applies to it.
func (v View) State(addr string, ch Channel) State {
	e, ok := v.Current(addr, ch)
	switch {
	case !ok:
		return StateNone
	case e.Subscribed:
		return StateSubscribed
	}
	return StateUnsubscribed
}

// Current returns the record that decides addr's state on channel ch, and false when
// none does.
func (v View) Current(addr string, ch Channel) (Entry, bool) {
	if k := v.slot(addr, ch); k >= 0 {
		return v.history[v.current[k]], true
	}
	return Entry{}, false
}

// OptIns returns the deciding evidence of addr per channel, for the contact export; nil
// when no valid record applies to addr. The map is the caller's.
func (v View) OptIns(addr string) OptIns {
	var out OptIns
	for _, i := range v.current {
		e := &v.history[i]
		if e.AppliesTo != addr {
			continue
		}
		if out == nil {
			out = make(OptIns, 2)
		}
		out[e.Channel] = Evidence{Subscribed: e.Subscribed, Timestamp: e.Timestamp, IP: e.IP, Source: e.Source, Text: e.Text}
	}
	return out
}

// Addresses returns, sorted, every address some valid record applies to.
func (v View) Addresses() []string {
	var out []string
	for _, i := range v.current {
		if a := v.history[i].AppliesTo; len(out) == 0 || out[len(out)-1] != a {
			out = append(out, a)
		}
	}
	return out
}

// History returns every record with its outcome (Rule C7), in the ledger's canonical
// order (by consent timestamp, then the channel, address and evidence of the record:
// never by messageId, which a record carried by several messages does not have alone).
// The slice is the caller's.
func (v View) History() []Entry { return slices.Clone(v.history) }
