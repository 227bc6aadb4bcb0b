package trigger

import (
	"slices"
	"sort"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/optin"
)

// Match is what holds a contact in a trigger: the entry event and the time the contact
// is due, the entry's time plus the trigger's delay (Rule J3).
type Match struct {
	Entry event.Record
	DueAt time.Time
}

// Due is a contact due for a trigger: its ids and its [Match].
type Due struct {
	ContactID string
	UserID    string
	Match
}

// Names returns the event names a trigger looks at: its entry event's, then its exit
// events', each once. Events with other names never change its answer.
func (t *Trigger) Names() []string {
	names := []string{t.Entry.Event}
	for _, x := range t.Exit {
		if !slices.Contains(names, x.Event) {
			names = append(names, x.Event)
		}
	}
	return names
}

// Enters reports the entry that holds a contact with the given events in the trigger,
// as of now (Rule J3), leaving aside the contact's requirements:
//
//   - an entry event is an event of the entry's kind and name, at or before now, whose
//     properties meet every Where condition, and, with a Count, that is at least the
//     Count.AtLeast-th such event within Count.Within (counting events up to and
//     including it in time-then-messageId order);
//   - an exit event at or before now cancels every entry event at or before it (by
//     time) that it follows by at most its Within;
//   - the contact is in the trigger when an entry event is left, and the entry that
//     holds it is the earliest left (time, then messageId); it is due at that entry's
//     time plus the delay.
//
// A zero now means no bound: every event counts. events may hold any records in any
// order, and the same messageId more than once: the answer depends only on the set of
// messageIds and what they say, so arrival order and re-deliveries cannot change it.
func (t *Trigger) Enters(events []event.Record, now time.Time) (Match, bool) {
	entryKind := kindOr(t.Entry.Kind)
	var entryBuf [4]*event.Record
	entries := entryBuf[:0]
	var exitBuf [4]*event.Record
	exitEvents := exitBuf[:0]
	for i := range events {
		r := &events[i]
		if !now.IsZero() && r.Time.After(now) {
			continue
		}
		if r.Kind == entryKind && r.Name == t.Entry.Event && t.Entry.matches(r) {
			entries = append(entries, r)
		} else if t.exitIndex(r) >= 0 {
			exitEvents = append(exitEvents, r)
		}
	}
	if len(entries) == 0 {
		return Match{}, false
	}
	// In time-then-messageId order, each messageId once: re-deliveries count once.
	same := func(a, b *event.Record) bool { return a.MessageID == b.MessageID }
	slices.SortFunc(entries, contact.CompareEvents)
	entries = slices.CompactFunc(entries, same)
	slices.SortFunc(exitEvents, contact.CompareEvents)
	exitEvents = slices.CompactFunc(exitEvents, same)
	lo := 0 // with a Count: the first entry event within Count.Within of entries[i]
	for i, e := range entries {
		if n := t.Entry.Count.AtLeast; n > 1 {
			if w := t.Entry.Count.Within; w > 0 {
				for entries[lo].Time.Before(e.Time.Add(-w)) {
					lo++
				}
			}
			if i-lo+1 < n {
				continue
			}
		}
		if !t.cancelled(e.Time, exitEvents) {
			return Match{Entry: *e, DueAt: e.Time.Add(t.Delay)}, true
		}
	}
	return Match{}, false
}

// exitIndex returns the index of the exit r is an event of, or -1.
func (t *Trigger) exitIndex(r *event.Record) int {
	for j, x := range t.Exit {
		if r.Kind == kindOr(x.Kind) && r.Name == x.Event {
			return j
		}
	}
	return -1
}

// cancelled reports whether an exit event (of exits, sorted by time) cancels an entry
// at time at: one at or after it, within its exit's window.
func (t *Trigger) cancelled(at time.Time, exits []*event.Record) bool {
	var longest time.Duration
	for _, x := range t.Exit {
		longest = max(longest, x.Within)
	}
	k := sort.Search(len(exits), func(k int) bool { return !exits[k].Time.Before(at) })
	for _, x := range exits[k:] {
		w := t.Exit[t.exitIndex(x)].Within
		if w == 0 || !x.Time.After(at.Add(w)) {
			return true
		}
		if x.Time.After(at.Add(longest)) && !slices.ContainsFunc(t.Exit, func(x Exit) bool { return x.Within == 0 }) {
			return false // past every window
		}
	}
	return false
}

// matches reports whether r's properties meet every Where condition of the entry.
func (e *Entry) matches(r *event.Record) bool {
	for _, c := range e.Where {
		v, ok := property(r.Properties, c.Property)
		if !c.Holds(v, ok) {
			return false
		}
	}
	return true
}

func property(o event.Object, key string) ([]byte, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Admits reports whether the contact meets the requirements (Rule J3). A nil contact
// meets none, not even the zero Require.
func (r *Require) Admits(c *contact.Contact) bool {
	switch {
	case c == nil:
		return false
	case r.InAudience && !c.InAudience():
		return false
	case r.Subscribed != "" && c.Subscription(r.Subscribed) != optin.StateSubscribed:
		return false
	case r.Trait != nil:
		v, ok := trait(c, r.Trait.Property)
		return r.Trait.Holds(v, ok)
	}
	return true
}

// trait returns a contact's trait as JSON: a standard trait by any key Rule T1 matches
// to it ("first_name" is firstName; the address is its object of RULES.md, X), else a
// custom property by its key, exactly (Rule T2).
func trait(c *contact.Contact, key string) ([]byte, bool) {
	str := func(s string) ([]byte, bool) {
		if s == "" {
			return nil, false
		}
		return jsonString(s), true
	}
	switch contactcore.NormalizeTraitKey(key) {
	case "firstname":
		return str(c.FirstName())
	case "lastname":
		return str(c.LastName())
	case "email":
		return str(c.Email())
	case "phone":
		return str(c.Phone())
	case "gender":
		return str(c.Gender())
	case "age":
		if n, ok := c.Age(); ok {
			return jsonInt(n), true
		}
		return nil, false
	case "address":
		a := c.Address()
		if a.IsZero() {
			return nil, false
		}
		b, err := contactcore.AddressJSON(contactcore.Address(a)) // as the export writes it
		return b, err == nil
	}
	v, ok := c.Custom(key)
	return []byte(v), ok
}

// State returns what holds the contact in the trigger as of now (Rule J3): its
// requirements and [Trigger.Enters] over its events. The contact is due at now when
// the answer is true and DueAt is not after now. A zero now means no bound, which is
// what the Processor reports as a contact entering or leaving (Rule J4).
func (t *Trigger) State(c *contact.Contact, events []event.Record, now time.Time) (Match, bool) {
	if !t.Require.Admits(c) {
		return Match{}, false
	}
	return t.Enters(events, now)
}
