package contactcore

import (
	"slices"
	"time"
)

// Erase removes everything the contact's own messages said before the delete stamped
// (t, messageID) (Rule I7): every field written before it, phone writes, consent
// records, and links made before it. What later messages said stays, so a delete that
// arrives after newer messages leaves the contact those newer messages make, as if it
// had arrived first. It reports whether anything remains (see [Contact.IsEmpty]).
//
// The contact is then reborn at the delete (see [Contact.Reborn]): a link or a consent
// record that messages sent again after the delete counts from the latest of them. The
// earliest after the delete is lost when the delete arrives after them, so counting from
// the latest is what every arrival order can agree on. Erasing with the same or an
// older delete again changes nothing.
//
// Held messages stay: which contact an anonymous message belongs to depends on the
// links that remain (Rule I4), so the processor attributes them again, and discards
// those that still belong to the deleted user.
func (c *Contact) Erase(t time.Time, messageID string) (remains bool) {
	return c.EraseUser(c.userID, t, messageID)
}

// EraseUser is [Contact.Erase] for the messages of one of the contact's userIds: its
// External ID or a former one (Rule I5). Other userIds' messages stay.
func (c *Contact) EraseUser(userID string, t time.Time, messageID string) (remains bool) {
	if userID != c.userID {
		if i, ok := c.partIndex(userID); ok {
			p := c.parts[i]
			p.Erase(t, messageID)
			limit := stampOf(t, messageID)
			p.writeEvents()
			p.events = slices.DeleteFunc(p.events, func(e EventRef) bool { return stampOf(e.Time, e.MessageID).compare(limit) < 0 })
			c.rebuild()
		}
		return !c.IsEmpty()
	}
	limit := stampOf(t, messageID)
	if c.latest.compare(limit) < 0 {
		c.latest = stamp{}
	}
	if c.first.compare(limit) < 0 {
		c.first = c.latest // counted from the latest after a delete: see FirstMessage
	}
	if limit.compare(c.born) > 0 {
		c.born = limit
	}
	c.writeLinks()
	c.links = slices.DeleteFunc(c.links, func(l link) bool { return !l.last.isZero() && l.last.compare(limit) < 0 })
	if c.own != nil {
		c.writeOwn().erase(limit, t, messageID)
		c.rebuild()
	} else {
		c.writeState().erase(limit, t, messageID)
	}
	return !c.IsEmpty()
}

// Reborn returns the stamp of the latest delete erased from the contact (Rule I7), and
// false when there was none.
func (c *Contact) Reborn() (t time.Time, messageID string, ok bool) {
	if c.born.isZero() {
		return time.Time{}, "", false
	}
	return c.born.time(), c.born.id(), true
}

// IsEmpty reports whether nothing is left of the contact's messages: no own message
// applied (or all erased), no link, no held message, no ghost link (see
// [Contact.Hidden]).
func (c *Contact) IsEmpty() bool {
	return c.latest.isZero() && len(c.held) == 0 && !c.hasLinks() && c.ownState().isEmpty() &&
		len(c.parts) == 0 && len(c.aliases) == 0 && len(c.ghostList()) == 0
}

// hasLinks reports whether Links would return any: IsEmpty without building them.
func (c *Contact) hasLinks() bool {
	linked := func(l link) bool { return !l.st.isZero() }
	if slices.ContainsFunc(c.links, linked) {
		return true
	}
	for _, p := range c.parts {
		if slices.ContainsFunc(p.links, linked) {
			return true
		}
	}
	return false
}

func (s *state) erase(limit stamp, t time.Time, messageID string) {
	s.writable()
	for f := range s.fields {
		if s.fields[f].st.compare(limit) < 0 {
			s.fields[f] = register{}
		}
	}
	for i := range s.address {
		if s.address[i].st.compare(limit) < 0 {
			s.address[i] = register{}
		}
	}
	if s.addressCleared.compare(limit) < 0 {
		s.addressCleared = stamp{}
	}
	older := func(kr keyedRegister) bool { return kr.reg.st.compare(limit) < 0 }
	s.addressExtra = slices.DeleteFunc(s.addressExtra, older)
	s.custom = slices.DeleteFunc(s.custom, older)
	s.labels = slices.DeleteFunc(s.labels, older)
	s.phoneLog = slices.DeleteFunc(s.phoneLog, func(w phoneWrite) bool { return w.st.compare(limit) < 0 })
	s.phones = phoneView{}
	for _, w := range s.phoneLog {
		s.phones.apply(w)
	}
	s.consent.Erase(t, messageID)
}
