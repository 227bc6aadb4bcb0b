package regalkit

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// alias handles an alias message (Rule I5). The alias is recorded as a fact on the
// contacts of both its userIds (the new userId's contact is made when neither has one,
// so that the previousId's later messages find it), and then every alias that names
// those userIds is decided again, from the facts, by [identity.Group]: what an alias
// does depends on the set of messages, never on which arrived first.
func (t *txn) alias(m *event.Message) error {
	prev, user := m.PreviousID, m.UserID
	if prev == user {
		return nil // "P is P" changes nothing (Rule I5)
	}
	a := identity.Alias{PreviousID: prev, UserID: user, Time: m.Time, MessageID: m.MessageID}
	cu, err := t.user(user) // first: a store may read the user's tombstone with it (pgstore does)
	if err != nil {
		return err
	}
	if ts, ok, err := t.tx.Tombstone(user); err != nil {
		return err
	} else if ok && ts.Covers(m.Time, m.MessageID) {
		// A message under a deleted user from before the delete (Rule I7): discarded,
		// as the delete erases it when it comes last.
		t.refuse(m, diag.MessageDeleted, "", "the message happened before its user was deleted (Rule I7)")
		if m.AnonymousID == "" {
			return nil
		}
		// The link the alias made (see aliasLink) is gone with it, but it still claims
		// the anonymous ID's messages of the user's time before the delete, as it does
		// when the delete comes last (Rule I7).
		if err := t.addGhost(identity.Link{AnonymousID: m.AnonymousID, UserID: user, Time: m.Time, MessageID: m.MessageID}); err != nil {
			return err
		}
		return t.rehome(m.AnonymousID)
	}
	cp, err := t.user(prev)
	if err != nil {
		return err
	}
	if _, over, err := t.aliasClosure([]string{prev, user}, maxAliasGroup); err != nil {
		return err
	} else if over {
		t.refuse(m, diag.IdentityLimit, "previousId", fmt.Sprintf(
			"the alias would tie more than %d userIds, or %d alias facts, together, the most regalkit keeps in one group; refused, it joins nothing (Rule I5)", maxAliasGroup, maxAliasFacts))
		// Its anonymousId links all the same: whether the limit refuses the alias
		// depends on the order aliases arrive in, and a delete that comes first leaves
		// the link's ghost before anything can tell (Rule I7).
		return t.aliasLink(m)
	}
	if cu == nil && cp == nil {
		cu = t.create(user, "")
	}
	for _, c := range []*contactcore.Contact{cu, cp} {
		if c != nil && c.AddAlias(a) {
			t.touch(c)
			t.changed("identity")
		}
	}
	g, err := t.regroup(prev, user)
	if err != nil {
		return err
	}
	if slices.Contains(g.Conflicts, a) {
		t.refuse(m, diag.IdentityConflict, "previousId",
			"previousId and userId each had messages before the alias, or previousId was already aliased; contacts with different userIds never merge (Rule I5)")
	}
	if c, err := t.user(user); err != nil {
		return err
	} else if c != nil {
		t.res.ContactID = c.ID()
	}
	// previousId may be an anonymous ID: the alias is then a link (Rule I3).
	if err := t.rehome(prev); err != nil {
		return err
	}
	return t.aliasLink(m)
}

// aliasLink makes the link of an alias message that carries an anonymousId, as every
// message carrying a userId and an anonymousId does (Rule I3). analytics.js sends its
// anonymousId with every alias, previousId too when the visitor was anonymous: the
// alias fact already puts that ID's messages on the user's contact, and the link is
// what a delete of the user keeps, as a ghost link, to keep the visitor's history from
// before the delete out of sight (Rule I7), as it does for a login's link. The link
// does not depend on what the aliases decide (a conflicting alias links too), so that
// it is a function of the message alone, in every arrival order.
func (t *txn) aliasLink(m *event.Message) (err error) {
	if m.AnonymousID == "" {
		return nil
	}
	f, err := t.facts(m)
	if err != nil {
		return err
	}
	d := identity.Decide(f)
	var c *contactcore.Contact
	if d.Action == identity.Attach {
		if c, err = t.get(d.Contact); err != nil {
			return err
		}
	} else {
		c = t.create(d.UserID, "") // the alias made the user's contact: not expected
	}
	// A link made after a delete of the user counts as apply's does (see rebirth).
	ts, reborn, err := t.tx.Tombstone(m.UserID)
	if err != nil {
		return err
	}
	if reborn {
		if err := t.rebirth(c, m.UserID, ts); err != nil {
			return err
		}
		defer func() {
			if err == nil {
				err = t.rebirth(c, m.UserID, ts)
			}
		}()
	}
	return t.link(m, c, d)
}

// hasAliases reports whether a contact knows any alias fact, so that a message applied
// to it may change what the aliases decide (Rule I5).
func hasAliases(c *contactcore.Contact) bool { return c.HasAliases() }

// regroup decides again every alias that names the seed userIds, or userIds joined to
// them through other aliases (Rule I5), and moves former External IDs between contacts
// until each contact holds exactly one group: a part whose alias turned out to be a
// conflict leaves to become a contact of its own, and contacts whose userIds an alias
// now joins merge. Anonymous IDs of the contacts involved are attributed again (Rule
// I4), since their links may now belong to another contact.
func (t *txn) regroup(seeds ...string) (identity.Grouping, error) {
	return t.regroupSeeds(seeds, true)
}

// regroupSeeds is regroup. With rehomeAlways false, the anonymous IDs are attributed
// again only when the contacts changed shape (a part left, contacts merged, a contact
// took another External ID, userIds or alias facts): for a message that only applies
// under an aliased userId (txn.own), whose own anonymousId its link attributes. Their
// links and the contacts that hold them are then as the last regroup left them, and so
// is where each of their linked messages belongs. A message a phone match put on the
// contact (Rules R5, I6) stays there too, as it does on a contact without aliases,
// until an alias or a delete moves it back (Rule I2); before this shortcut, any message
// of an aliased user moved it. Attributing every anonymous ID again at each message of
// a user with thousands of them made its messages cost time growing with the square of
// their number (issue 14's hostile-sender review: 2,000 messages, 20 s).
func (t *txn) regroupSeeds(seeds []string, rehomeAlways bool) (identity.Grouping, error) {
	t.reshaped = true
	shapeChanged := false
	cs, _, err := t.aliasClosure(seeds, 0)
	if err != nil {
		return identity.Grouping{}, err
	}
	var aliases []identity.Alias
	holder := map[string]*contactcore.Contact{}
	for _, c := range cs {
		aliases = append(aliases, c.Aliases()...)
		holder[c.UserID()] = c
		for _, id := range c.FormerUserIDs() {
			holder[id] = c
		}
	}
	g := identity.Group(aliases, func(id string) (time.Time, string, bool) {
		if c := holder[id]; c != nil {
			return c.FirstMessage(id)
		}
		return time.Time{}, "", false
	})
	root := func(id string) string {
		if r, ok := g.Root[id]; ok {
			return r
		}
		return id
	}
	// The anonymous IDs to attribute again are those the contacts have now, before
	// anything moves: kept as copies of the contacts (a copy costs one allocation,
	// copy-on-write), and listed only when they are attributed again.
	before := make([]*contactcore.Contact, len(cs))
	for i, c := range cs {
		delete(t.phonesAtLoad, c.ID()) // parts move: their keyword records must follow (Rule G7)
		before[i] = c.Clone()
	}

	// Parts that belong to another group than their contact's External ID leave.
	for _, c := range slices.Clone(cs) {
		for _, id := range c.FormerUserIDs() {
			if root(id) == root(c.UserID()) {
				continue
			}
			s, refs := c.SplitUser(id)
			shapeChanged = true
			t.touch(c)
			t.changed("identity")
			t.adopt(s)
			cs = append(cs, s)
			for _, ref := range refs {
				rec, err := t.takeEvent(c, ref.MessageID, ref.Time)
				if err != nil {
					return g, err
				}
				if rec != nil {
					if err := t.addEvent(s, *rec); err != nil {
						return g, err
					}
				}
			}
		}
	}

	// Contacts of one group merge into the one whose External ID is the group's, else
	// the first by id; it takes the group's External ID.
	groups := map[string][]*contactcore.Contact{}
	for _, c := range cs {
		if _, live := t.loaded[c.ID()]; live {
			r := root(c.UserID())
			groups[r] = append(groups[r], c)
		}
	}
	// Every userId an alias names belongs to a contact, in every arrival order, even
	// one that has no message yet: its later messages find it.
	for _, r := range g.Root {
		if _, ok := groups[r]; !ok {
			groups[r] = []*contactcore.Contact{t.create(r, "")}
			shapeChanged = true
		}
	}
	for _, r := range sortedKeys(groups) {
		members := groups[r]
		slices.SortFunc(members, func(a, b *contactcore.Contact) int {
			if (a.UserID() == r) != (b.UserID() == r) {
				if a.UserID() == r {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.ID(), b.ID())
		})
		target := members[0]
		var targetOwn []contactcore.EventRef
		if target.UserID() != r {
			if targetOwn, err = t.ownEvents(target); err != nil {
				return g, err
			}
		}
		for _, o := range members[1:] {
			shapeChanged = true
			own, err := t.ownEvents(o)
			if err != nil {
				return g, err
			}
			target.Absorb(o, own)
			if err := t.moveEvents(o, target); err != nil {
				return g, err
			}
			if err := t.forget(o); err != nil {
				return g, err
			}
			t.changed("identity")
		}
		if old := target.UserID(); old != r {
			shapeChanged = true
			target.SetUserID(r)
			for _, ref := range targetOwn {
				target.NoteEvent(old, ref)
			}
			t.changed("identity")
		}
		for id, rid := range g.Root {
			if rid == r && !target.HasUser(id) {
				target.AddUser(id)
				shapeChanged = true
			}
		}
		for _, a := range aliases {
			if (target.HasUser(a.PreviousID) || target.HasUser(a.UserID)) && target.AddAlias(a) {
				shapeChanged = true
			}
		}
		t.touch(target)
	}
	if !rehomeAlways && !shapeChanged && !alwaysRehome {
		return g, nil
	}
	anons := map[string]bool{}
	for _, a := range aliases {
		// An anonymous-only message whose anonymousId is a previousId belongs where the
		// alias now puts it (Rule I5), whichever contact holds it: its own anonymous
		// contact included, which none of cs may be.
		anons[a.PreviousID] = true
	}
	for _, c := range before {
		for _, id := range c.AnonymousIDs() {
			anons[id] = true
		}
		for _, h := range c.Held() {
			anons[h.AnonymousID] = true
		}
	}
	for _, a := range sortedKeys(anons) {
		if err := t.rehome(a); err != nil {
			return g, err
		}
	}
	return g, nil
}

// alwaysRehome makes every regroup attribute the anonymous IDs again, for the test
// that compares the contacts with and without the shortcut of regroupSeeds.
var alwaysRehome bool

// maxAliasGroup is the most userIds that aliases may tie together, joined or in
// conflict, and maxAliasFacts the most alias facts their contacts may hold (the same
// two userIds aliased again under another messageId or time is another fact) (Rule
// I5): every message for one of them decides all their aliases again, so the work a
// message costs grows with the group, and a sender controls how many aliases name one
// userId (SECURITY.md). A person has a handful.
const (
	maxAliasGroup = 100
	maxAliasFacts = 200
)

// aliasClosure returns the contacts of the seed userIds and of every userId an alias
// they know joins to them, transitively. With limit above zero it stops once the
// aliases name more than limit userIds, or the contacts hold maxAliasFacts distinct
// alias facts (one more would be over), and reports that with over.
func (t *txn) aliasClosure(seeds []string, limit int) (cs []*contactcore.Contact, over bool, err error) {
	seen := map[string]bool{}
	named := map[string]bool{}
	type fact struct {
		prev, user, id string
		at             int64
	}
	facts := map[fact]bool{} // distinct: a fact two contacts hold counts once
	queue := slices.Clone(seeds)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if id == "" || named[id] {
			continue
		}
		named[id] = true
		if limit > 0 && len(named) > limit {
			return cs, true, nil
		}
		found, err := t.find(identity.UserKey(id))
		if err != nil {
			return nil, false, err
		}
		for _, c := range found {
			if seen[c.ID()] {
				continue
			}
			seen[c.ID()] = true
			cs = append(cs, c)
			if limit > 0 {
				for _, a := range c.Aliases() {
					facts[fact{a.PreviousID, a.UserID, a.MessageID, a.Time.UnixNano()}] = true
				}
				if len(facts) >= maxAliasFacts { // with the new one, over
					return cs, true, nil
				}
			}
			queue = append(queue, c.UserID())
			queue = append(queue, c.FormerUserIDs()...)
			queue = c.AppendAliasIDs(queue)
		}
	}
	return cs, false, nil
}

// ownEvents returns the event records of a contact's own messages: its events but
// those of its (shown) held messages and of its former External IDs.
func (t *txn) ownEvents(c *contactcore.Contact) ([]contactcore.EventRef, error) {
	if t.created[c.ID()] {
		return nil, nil // not in the store yet, so no events
	}
	other := map[string]bool{}
	for _, h := range c.Held() {
		if h.Event && !h.Deleted {
			other[h.MessageID] = true
		}
	}
	for _, id := range c.FormerUserIDs() {
		for _, ref := range c.UserEvents(id) {
			other[ref.MessageID] = true
		}
	}
	var refs []contactcore.EventRef
	for r, err := range t.tx.Events(c.ID(), contact.EventQuery{}) {
		if err != nil {
			return nil, err
		}
		if !other[r.MessageID] {
			refs = append(refs, contactcore.EventRef{MessageID: r.MessageID, Time: r.Time})
		}
	}
	return refs, nil
}

// moveEvents moves every event record of one contact to another.
func (t *txn) moveEvents(from, to *contactcore.Contact) error {
	if t.created[from.ID()] {
		return nil
	}
	var recs []event.Record
	var ids []string
	for r, err := range t.tx.Events(from.ID(), contact.EventQuery{}) {
		if err != nil {
			return err
		}
		recs = append(recs, r)
		ids = append(ids, r.MessageID)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := t.tx.DeleteEvents(from.ID(), ids...); err != nil {
		return err
	}
	for _, r := range recs {
		if err := t.addEvent(to, r); err != nil {
			return err
		}
	}
	return nil
}

// adopt makes a contact that a part became (see [contactcore.Contact.SplitUser]) one of the
// store's, to be inserted at the end of the transaction.
func (t *txn) adopt(c *contactcore.Contact) {
	c.SetID(t.p.opts.newID())
	c.SetTimes(t.now, t.now)
	t.remember(c)
	delete(t.phonesAtLoad, c.ID()) // new to the store: its keyword records are synced (Rule G7)
	t.created[c.ID()] = true
	t.dirty[c.ID()] = true
}

// forget deletes c (a contact that merged into another, or one left bare: see
// dropIfBare) from the store, unless this transaction created it, and from the
// transaction's view.
func (t *txn) forget(c *contactcore.Contact) error {
	if !t.created[c.ID()] {
		if err := t.tx.Delete(c.ID()); err != nil {
			return err
		}
	}
	delete(t.loaded, c.ID())
	if t.res.ContactID == c.ID() {
		t.res.ContactID = ""
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
