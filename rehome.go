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
			if err := t.move(x, dest, h, bury); err != nil {
				return err
			}
		}
	}
	if home != nil && home.IsEmpty() {
		return t.dropIfBare(home)
	}
	return nil
}

// move takes a held message from one contact to another (or to the same one, when only
// whether it is buried changes), with its event record; bury keeps it out of sight,
// as a message of a deleted user's time before the delete (Rule I7).
func (t *txn) move(from, to *contactcore.Contact, h contactcore.Held, bury bool) error {
	t.reshaped = true
	same := func(o contactcore.Held) bool { return o.MessageID == h.MessageID && o.Time.Equal(h.Time) }
	from.Release(h.AnonymousID, same)
	t.touch(from)
	t.changed("identity")
	h, rec := h.Unbury()
	if h.Event && rec == nil {
		r, err := t.takeEvent(from, h.MessageID, h.Time)
		if err != nil {
			return err
		}
		rec = r
	}
	t.touch(to)
	if bury {
		to.Hold(h.Bury(rec))
		return nil
	}
	to.Hold(h)
	if rec != nil {
		return t.addEvent(to, *rec)
	}
	return nil
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
