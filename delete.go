package regalkit

import (
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// delete handles a delete message (Rule I7): it records the tombstone, keeps the
// user's links from before it as ghost links, erases what the user's messages said
// before it (only that userId's: the other userIds an alias joined to the contact keep
// theirs) and the user's own aliases from before it, discards their events, attributes
// the anonymous messages of the contact's IDs and of the user's ghost links again,
// decides the aliases again (a delete may leave a userId with no message before an
// alias), and removes the contacts left with nothing.
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
	// Anonymous IDs a delete of the user before this one left ghost links of: this
	// later delete may make them claim more of those IDs' messages (Rule I7).
	var ghosted []string
	holders, err := t.find(identity.DeletedUserKey(m.UserID))
	if err != nil {
		return err
	}
	for _, h := range holders {
		ghosted = append(ghosted, h.GhostAnonymousIDs(m.UserID)...)
	}
	c, err := t.user(m.UserID)
	if err != nil {
		return err
	}
	if c == nil {
		return t.rehomeAll(ghosted)
	}
	t.res.ContactID = c.ID()
	anons := c.AnonymousIDs()
	for _, h := range c.Held() {
		anons = append(anons, h.AnonymousID)
	}
	// The user's links from before the delete go with it, but they still claim the
	// anonymous IDs' messages of the user's time before the delete: kept as ghost links
	// on each ID's own contact, they keep those messages out of sight in every arrival
	// order (Rule I7).
	for _, l := range c.UserLinksBefore(m.UserID, ts.Time, ts.MessageID) {
		if err := t.addGhost(l); err != nil {
			return err
		}
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
	// An alias is a message under its userId: those of the user from before the delete
	// go too, and the previousIds they joined stand apart again. (An alias from an
	// anonymous ID leaves no ghost link: whether it joined, or was a conflict that
	// changed nothing, depends on the other aliases and messages, Rule I5, and a ghost
	// of a conflict would hide another user's messages; RULES.md, I7.)
	var prevs []string
	closure, _, err := t.aliasClosure([]string{m.UserID}, 0)
	if err != nil {
		return err
	}
	for _, x := range closure {
		for _, a := range x.EraseAliasesBy(m.UserID, ts.Time, ts.MessageID) {
			t.touch(x)
			prevs = append(prevs, a.PreviousID)
		}
	}
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
	if err := t.rehomeAll(append(append(anons, ghosted...), prevs...)); err != nil {
		return err
	}
	if hasAliases(c) || len(prevs) > 0 {
		if _, err := t.regroup(append([]string{m.UserID}, prevs...)...); err != nil {
			return err
		}
		if len(prevs) == 0 {
			return nil
		}
		// The erased aliases may leave contacts with nothing: the user's own, and those
		// the previousIds' parts became when they stood apart again.
		for _, id := range append([]string{m.UserID}, prevs...) {
			cs, err := t.find(identity.UserKey(id))
			if err != nil {
				return err
			}
			for _, x := range cs {
				if x.PruneForeignAliases() {
					t.touch(x)
				}
				if err := t.dropIfBare(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return t.dropIfBare(c)
}

// rehomeAll attributes again the held messages of each anonymous ID, once each.
func (t *txn) rehomeAll(anons []string) error {
	seen := map[string]bool{}
	for _, a := range anons {
		if !seen[a] {
			seen[a] = true
			if err := t.rehome(a); err != nil {
				return err
			}
		}
	}
	return nil
}
