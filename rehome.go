package regalkit

import (
	"slices"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// rehome attributes every held message of an anonymous ID again, from the links it has
// now (Rules I3, I4): each goes to the userId linked most recently at or before it (the
// earliest-linked for a message older than every link), or, with no link left, to the
// anonymous ID's own contact. A message that now belongs to a deleted user and happened
// before the delete is discarded (Rule I7). An anonymous contact left with nothing is
// deleted: it has merged into the known ones (Rule I3).
func (t *txn) rehome(anon string) error {
	var buf [4]*contactcore.Contact
	holders, err := t.findTo(buf[:0], identity.AnonymousKey(anon))
	if err != nil || len(holders) == 0 {
		// No contact has the anonymous ID: no message to attribute and no anonymous
		// contact of its own (pooledAnonymous finds both among these). A regroup asks
		// for every previousId of its aliases, most of them userIds only.
		return err
	}
	links, byUser, home, ghosts, err := t.pooledAnonymous(anon) // read only in this call
	if err != nil {
		return err
	}
	tombstones := map[string]*contact.Tombstone{}
	for _, x := range holders {
		// The moves are decided first and released from x together: releasing them
		// one by one rebuilt x's state from every message it still held, each time
		// (20,000 held messages of one anonymous ID: a 51-second link; issue 14's
		// hostile-sender review).
		var moves []heldMove
		for _, h := range x.Held() {
			if h.AnonymousID != anon {
				continue
			}
			var dest *contactcore.Contact
			bury := false
			claims := links
			if len(ghosts) > 0 {
				at, err := t.ghostsAt(ghosts, h.Time, h.MessageID, tombstones)
				if err != nil {
					return err
				}
				claims = append(slices.Clip(links), at...)
			}
			owner, linked := identity.Owner(claims, h.Time)
			_, live := byUser[owner]
			switch {
			case linked && !live:
				// A ghost link's (Rule I7): out of sight on the anonymous ID's own
				// contact, its user having none to take it.
				if home == nil {
					home = t.create("", anon)
				}
				dest, bury = home, true
			case linked:
				ts, err := t.tombstone(tombstones, owner)
				if err != nil {
					return err
				}
				bury = ts != nil && ts.Covers(h.Time, h.MessageID)
				if dest, err = t.get(byUser[owner]); err != nil {
					return err
				}
			case home != nil:
				dest = home
			default:
				home = t.create("", anon)
				dest = home
			}
			if dest == x && h.Deleted == bury {
				continue
			}
			moves = append(moves, heldMove{h, dest, bury})
		}
		if err := t.move(x, moves); err != nil {
			return err
		}
	}
	if home != nil && home.IsEmpty() {
		return t.dropIfBare(home)
	}
	return nil
}

// move takes held messages of one anonymous ID from a contact to others (or to the same
// one, when only whether they are buried changes), with their event records; bury keeps
// one out of sight, as a message of a deleted user's time before the delete (Rule I7).
// They leave from together, then arrive one by one.
func (t *txn) move(from *contactcore.Contact, moves []heldMove) error {
	if len(moves) == 0 {
		return nil
	}
	t.reshaped = true
	// By messageId and time (seconds and nanoseconds: UnixNano is undefined past
	// 2262, and Rule D4 accepts such times).
	type key struct {
		id   string
		sec  int64
		nsec int
	}
	keyOf := func(h contactcore.Held) key { return key{h.MessageID, h.Time.Unix(), h.Time.Nanosecond()} }
	moving := make(map[key]bool, len(moves))
	for _, m := range moves {
		moving[keyOf(m.h)] = true
	}
	from.Release(moves[0].h.AnonymousID, func(o contactcore.Held) bool { return moving[keyOf(o)] })
	t.touch(from)
	t.changed("identity")
	for _, m := range moves {
		h, rec := m.h.Unbury()
		if h.Event && rec == nil {
			r, err := t.takeEvent(from, h.MessageID, h.Time)
			if err != nil {
				return err
			}
			rec = r
		}
		to := m.to
		t.touch(to)
		if m.bury {
			to.Hold(h.Bury(rec))
			continue
		}
		to.Hold(h)
		if rec != nil {
			if err := t.addEvent(to, *rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// heldMove is a held message rehome takes to another contact (or to the same one, when
// only whether it is buried changes).
type heldMove struct {
	h    contactcore.Held
	to   *contactcore.Contact
	bury bool
}

// takeEvent removes a contact's event record with the messageId at time at, and returns
// it (nil when the contact has none).
func (t *txn) takeEvent(c *contactcore.Contact, messageID string, at time.Time) (*event.Record, error) {
	if t.created[c.ID()] {
		return nil, nil // not in the store yet, so no events
	}
	var found *event.Record
	for r, err := range t.tx.Events(c.ID(), contact.EventQuery{Since: at, Until: at.Add(time.Nanosecond)}) {
		if err != nil {
			return nil, err
		}
		if r.MessageID == messageID {
			found = &r
			break
		}
	}
	if found == nil {
		return nil, nil
	}
	if _, err := t.tx.DeleteEvents(c.ID(), messageID); err != nil {
		return nil, err
	}
	return found, nil
}

func (t *txn) tombstone(cache map[string]*contact.Tombstone, userID string) (*contact.Tombstone, error) {
	if ts, ok := cache[userID]; ok {
		return ts, nil
	}
	ts, ok, err := t.tx.Tombstone(userID)
	if err != nil {
		return nil, err
	}
	var p *contact.Tombstone
	if ok {
		p = &ts
	}
	cache[userID] = p
	return p, nil
}

// dropIfBare deletes a contact that holds nothing and has no events.
func (t *txn) dropIfBare(c *contactcore.Contact) error {
	if !c.IsEmpty() {
		return nil
	}
	if !t.created[c.ID()] {
		for _, err := range t.tx.Events(c.ID(), contact.EventQuery{Limit: 1}) {
			if err != nil {
				return err
			}
			return nil // it has an event
		}
	}
	return t.forget(c)
}
