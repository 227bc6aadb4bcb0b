package regalkit

import (
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// delete handles a delete message (Rule I7): it records the tombstone, erases what the
// user's messages said before it (only that userId's: the other userIds an alias joined
// to the contact keep theirs), discards their events, attributes the contact's
// anonymous messages again, decides its aliases again (a delete may leave a userId with
// no message before an alias), and removes the contact if nothing remains.
func (t *txn) delete(m *event.Message) error {
	t.reshaped = true
	ts := contact.Tombstone{UserID: m.UserID, Time: m.Time, MessageID: m.MessageID}
	if err := t.tx.PutTombstone(ts); err != nil {
		return err
	}
	if latest, ok, err := t.tx.Tombstone(m.UserID); err != nil {
		return err
	} else if ok {
		ts = latest
	}
	c, err := t.user(m.UserID)
	if err != nil || c == nil {
		return err
	}
	t.res.ContactID = c.ID()
	anons := c.AnonymousIDs()
	for _, h := range c.Held() {
		anons = append(anons, h.AnonymousID)
	}
	var refs []contactcore.EventRef
	if m.UserID == c.UserID() {
		if refs, err = t.ownEvents(c); err != nil {
			return err
		}
	} else {
		refs = c.UserEvents(m.UserID)
	}
	c.EraseUser(m.UserID, ts.Time, ts.MessageID)
	t.touch(c)
	t.changed("deleted")
	var gone []string
	for _, r := range refs {
		if ts.Covers(r.Time, r.MessageID) {
			gone = append(gone, r.MessageID)
		}
	}
	if len(gone) > 0 && !t.created[c.ID()] {
		if _, err := t.tx.DeleteEvents(c.ID(), gone...); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, a := range anons {
		if !seen[a] {
			seen[a] = true
			if err := t.rehome(a); err != nil {
				return err
			}
		}
	}
	if hasAliases(c) {
		_, err := t.regroup(m.UserID)
		return err
	}
	return t.dropIfBare(c)
}
