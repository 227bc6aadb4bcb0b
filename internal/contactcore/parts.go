package contactcore

import (
	"slices"
	"strings"
	"time"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/msgorder"
)

// Former External IDs (Rule I5). An alias can join a userId to another one's contact,
// and a message that arrives later can undo it (an alias turns out to be a conflict
// when both userIds had messages before it). So the messages of each former External
// ID are kept apart on the contact, as a part: a contact of its own (its traits,
// consent, links, first and latest message, and the event records its messages added)
// that the contact shows joined with its own. A part can leave whole, to become a
// contact again.

// EventRef names an event record that a former External ID's message added to the
// contact: the record's messageId and event time.
type EventRef struct {
	MessageID string
	Time      time.Time
}

// partIndex returns where the part of userID is or would be in c.parts.
func (c *Contact) partIndex(userID string) (int, bool) {
	return slices.BinarySearchFunc(c.parts, userID, func(p *Contact, id string) int { return strings.Compare(p.userID, id) })
}

// sub returns where the messages of a userId go: c itself for its External ID (or
// none, or on a contact without one), else the part of that former External ID, added
// when missing.
func (c *Contact) sub(userID string) *Contact {
	if userID == "" || userID == c.userID || c.userID == "" {
		return c
	}
	i, ok := c.partIndex(userID)
	if !ok {
		c.separate()
		c.parts = slices.Insert(c.parts, i, &Contact{userID: userID})
	}
	return c.parts[i]
}

// separate keeps the contact's own state apart from what it shows, as it must be while
// it has held messages or parts.
func (c *Contact) separate() {
	if c.own == nil {
		c.own = c.shown().clone()
		c.owns |= ownsOwn
	}
}

// HasUser reports whether userID is the contact's External ID or one of its former
// ones.
func (c *Contact) HasUser(userID string) bool {
	if userID == "" {
		return false
	}
	if userID == c.userID {
		return true
	}
	_, ok := c.partIndex(userID)
	return ok
}

// AddUser makes userID a former External ID of the contact, with no messages yet, as an
// alias does that names a userId regalkit has not seen (Rule I5). It does nothing when
// the contact has the userId already.
func (c *Contact) AddUser(userID string) {
	if !c.HasUser(userID) {
		c.sub(userID)
	}
}

// FirstMessage returns the earliest message applied under userID (Rule I5 decides
// conflicts by it), and false when there was none. On a contact reborn after a delete
// (Rule I7) it is the latest, which every arrival order knows.
func (c *Contact) FirstMessage(userID string) (time.Time, string, bool) {
	p := c
	if userID != c.userID {
		i, ok := c.partIndex(userID)
		if !ok {
			return time.Time{}, "", false
		}
		p = c.parts[i]
	}
	st := p.first
	if !p.born.isZero() {
		st = p.latest
	}
	if st.isZero() {
		return time.Time{}, "", false
	}
	return st.time(), st.id(), true
}

// noteOwn notes that a message under the contact's (or the part's) userId was applied.
func (c *Contact) noteOwn(st stamp, counts bool) {
	if st.compare(c.latest) > 0 {
		c.latest = st
	}
	if counts && (c.first.isZero() || st.compare(c.first) < 0) {
		c.first = st
	}
}

// NoteEvent records that a message under userID added the event record ref to the
// contact, so that the record leaves with the part should it leave (see
// [Contact.SplitUser]). Under the External ID it does nothing.
func (c *Contact) NoteEvent(userID string, ref EventRef) {
	p := c.sub(userID)
	if p == c {
		return
	}
	i, ok := slices.BinarySearchFunc(p.events, ref, compareRefs)
	if !ok {
		p.writeEvents()
		p.events = slices.Insert(p.events, i, ref)
	}
}

func compareRefs(a, b EventRef) int {
	return msgorder.Compare(a.Time, a.MessageID, b.Time, b.MessageID)
}

// UserEvents returns the event records the messages under a former External ID added
// (see [Contact.NoteEvent]).
func (c *Contact) UserEvents(userID string) []EventRef {
	if i, ok := c.partIndex(userID); ok {
		return slices.Clone(c.parts[i].events)
	}
	return nil
}

// SplitUser takes a former External ID's part out of the contact and returns it as a
// contact of its own, with that userId as its External ID and no id, and the event
// records its messages added, which the caller moves (Rule I5: an alias that turned out
// to be a conflict). It returns nil when userID is not a former External ID.
func (c *Contact) SplitUser(userID string) (*Contact, []EventRef) {
	i, ok := c.partIndex(userID)
	if !ok {
		return nil, nil
	}
	p := c.parts[i]
	c.parts = slices.Delete(c.parts, i, i+1)
	c.rebuild()
	events := p.events
	p.events = nil
	p.aliases = slices.Clone(c.aliases)
	return p, events
}

// Absorb joins contact o into c as a former External ID (Rule I5), as [Contact.Merge]
// does, and notes ownEvents, the event records of o's own messages (o's events but those
// of its held messages and its parts), as its External ID's, so that they leave with it
// should it leave again. The caller moves o's event records to c and deletes o.
func (c *Contact) Absorb(o *Contact, ownEvents []EventRef) {
	c.Merge(o)
	if o.userID != "" && o.userID != c.userID {
		for _, ref := range ownEvents {
			c.NoteEvent(o.userID, ref)
		}
	}
}

// insertPart adds p, joining it with the part of the same userId if c has one.
func (c *Contact) insertPart(p *Contact) {
	if p.userID == c.userID {
		c.joinRoot(p)
		return
	}
	i, ok := c.partIndex(p.userID)
	if !ok {
		c.parts = slices.Insert(c.parts, i, p)
		return
	}
	q := c.parts[i]
	q.writeState().join(p.shown(), nil)
	for _, l := range p.links {
		q.addLink(l)
	}
	q.noteStamps(p)
	for _, e := range p.events {
		if j, found := slices.BinarySearchFunc(q.events, e, compareRefs); !found {
			q.writeEvents()
			q.events = slices.Insert(q.events, j, e)
		}
	}
}

// joinRoot joins a part of c's own External ID into c's own state.
func (c *Contact) joinRoot(p *Contact) {
	c.separate()
	c.writeOwn().join(p.shown(), nil)
	for _, l := range p.links {
		c.addLink(l)
	}
	c.noteStamps(p)
}

func (c *Contact) noteStamps(p *Contact) {
	if p.latest.compare(c.latest) > 0 {
		c.latest = p.latest
	}
	if !p.first.isZero() && (c.first.isZero() || p.first.compare(c.first) < 0) {
		c.first = p.first
	}
	if p.born.compare(c.born) > 0 {
		c.born = p.born
	}
}

// rootPart returns the contact's own messages as a part: its External ID, own state,
// links and stamps.
func (c *Contact) rootPart() *Contact {
	p := &Contact{userID: c.userID, latest: c.latest, first: c.first, born: c.born}
	p.setState(c.ownState().clone())
	p.state.consent.SetKeywordRecords(nil) // derived from the phones, synced again (Rule G7)
	for _, l := range c.links {
		if !l.st.isZero() || !l.last.isZero() {
			p.links = append(p.links, l)
		}
	}
	return p
}

// Aliases returns the alias facts the contact knows (Rule I5), in the order they
// happened: those of its userIds, whether they took effect or not.
func (c *Contact) Aliases() []identity.Alias {
	out := make([]identity.Alias, len(c.aliases))
	for i, a := range c.aliases {
		out[i] = identity.Alias{PreviousID: a.prev, UserID: a.user, Time: a.st.time(), MessageID: a.st.id()}
	}
	return out
}

// FirstJoinedAliasFrom returns the earliest alias fact whose previousId is prev and
// whose userId is one of the contact's (its External ID or a former one): the alias
// that joined prev to the contact, and not one that was a conflict (Rule I5). It reads
// the facts in place: a regroup asks it for every anonymous ID involved, and a contact
// may hold many aliases.
func (c *Contact) FirstJoinedAliasFrom(prev string) (identity.Alias, bool) {
	for _, a := range c.aliases {
		if a.prev == prev && c.HasUser(a.user) {
			return identity.Alias{PreviousID: a.prev, UserID: a.user, Time: a.st.time(), MessageID: a.st.id()}, true
		}
	}
	return identity.Alias{}, false
}

// AppendAliasIDs appends the previousId and the userId of each of the contact's alias
// facts to dst, without copying the facts as Aliases does.
func (c *Contact) AppendAliasIDs(dst []string) []string {
	for _, a := range c.aliases {
		dst = append(dst, a.prev, a.user)
	}
	return dst
}

// HasAliases reports whether the contact knows any alias fact (Rule I5).
func (c *Contact) HasAliases() bool { return len(c.aliases) > 0 }

// AddAlias records an alias fact on the contact (Rule I5) and reports whether it was
// new.
func (c *Contact) AddAlias(a identity.Alias) bool {
	f := aliasFact{prev: a.PreviousID, user: a.UserID, st: stampOf(a.Time, a.MessageID)}
	i, ok := slices.BinarySearchFunc(c.aliases, f, compareAliasFacts)
	if ok {
		return false
	}
	c.writeAliases()
	c.aliases = slices.Insert(c.aliases, i, f)
	return true
}

// EraseAliasesBy removes the alias facts whose userId is userID and that happened
// before the delete stamped (t, messageID), and returns them (Rule I7): an alias is a
// message under its userId, and what a user's messages said before a delete goes.
func (c *Contact) EraseAliasesBy(userID string, t time.Time, messageID string) []identity.Alias {
	limit := stampOf(t, messageID)
	var out []identity.Alias
	for _, a := range c.aliases {
		if a.user == userID && a.st.compare(limit) < 0 {
			out = append(out, identity.Alias{PreviousID: a.prev, UserID: a.user, Time: a.st.time(), MessageID: a.st.id()})
		}
	}
	if len(out) > 0 {
		c.writeAliases()
		c.aliases = slices.DeleteFunc(c.aliases, func(a aliasFact) bool { return a.user == userID && a.st.compare(limit) < 0 })
	}
	return out
}

// PruneForeignAliases removes the alias facts that name none of the contact's userIds
// (its External ID and former ones) and reports whether it removed any. A part that
// left a contact took every fact of the group with it; once a delete erased the facts
// that joined it (Rule I7), those left say nothing about it: the contacts they name
// keep them.
func (c *Contact) PruneForeignAliases() bool {
	names := func(a aliasFact) bool { return c.HasUser(a.prev) || c.HasUser(a.user) }
	if !slices.ContainsFunc(c.aliases, func(a aliasFact) bool { return !names(a) }) {
		return false
	}
	c.writeAliases()
	c.aliases = slices.DeleteFunc(c.aliases, func(a aliasFact) bool { return !names(a) })
	return true
}

// aliasFact is an alias message's fact: prev is user since st.
type aliasFact struct {
	prev, user string
	st         stamp
}

func compareAliasFacts(a, b aliasFact) int {
	if c := a.st.compare(b.st); c != 0 {
		return c
	}
	if c := strings.Compare(a.prev, b.prev); c != 0 {
		return c
	}
	return strings.Compare(a.user, b.user)
}
