package regalkit

import (
	"slices"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/msgorder"
	"github.com/regalkit/regalkit/optin"
)

// txn is one message's transaction: what the processor does inside Store.Update. It
// keeps the contacts it touched and writes them back at the end.
type txn struct {
	p   *Processor
	tx  contact.Tx
	raw contact.Tx // the store's own Tx under any wrapper, for what it offers beyond contact.Tx
	now time.Time
	res *Result
	// fromRegal says that the message came through RegalSink (see the source
	// fromRegal).
	fromRegal bool

	// The transaction's own copies of the contacts it read or created, on top of a Tx
	// that already promises read-your-writes. They earn their place twice. They are
	// the one *Contact per id that every step of the message changes in place: a Tx's
	// reads return copies (contact.Store, "Copies"), so reading again would hand out a
	// second copy whose changes the first would not see. And they write each changed
	// contact once, at the end, instead of reading it at every lookup and putting it
	// after every change: measured with a variant that added those reads and puts
	// (issue 13, item 8; go test -run '^$' -bench . -benchtime=200ms -benchmem ., five
	// interleaved runs), BenchmarkPipeline allocated 37% more bytes and 20% more
	// objects per message (15.1 KB and 88.6 allocs against 11.0 KB and 73.6) and took
	// 5–10% more CPU per message (workers=1 and 2); BenchmarkProcessBytes, one contact
	// per message, allocated the same. They are in the pooled txnScratch (txnpool.go),
	// with the rest of the transaction's bookkeeping.
	*txnScratch

	outbox outboxState // what the message's outbox entries need (see outbox.go)

	// replied says the message was a keyword reply (Rule G7; see syncKeywords).
	replied bool
	// reshaped says the message moved messages between contacts, created, split,
	// merged or erased one: then every changed contact's keyword records are synced.
	reshaped bool

	// regalRecs are the consent records of the message if it is a Regal consent event,
	// read once (regalConsent), with their diagnostics, however many steps use them.
	regalRecs []optin.Record
	regalRead bool
	// regalEmail is the anonymousId of the Regal contact of the email a userless Regal
	// consent event names when it names no phone (see fileRegalConsent), or "".
	regalEmail string

	opts contactcore.ApplyOptions // see applyOptions
}

// applyOptions returns how the message's traits are applied: the Processor's caches and
// region, and the transaction's time as ProcessedAt. It is made once per transaction,
// in the txn itself, not once per call on the heap.
func (t *txn) applyOptions() *contactcore.ApplyOptions {
	if t.opts.Phones == nil {
		t.opts = contactcore.ApplyOptions{Phones: t.p.phones, OptIns: t.p.optIns, Region: t.p.opts.Region, ProcessedAt: t.now}
	}
	return &t.opts
}

func (t *txn) process(m *event.Message) error {
	first, err := t.claim(m.MessageID)
	if err != nil || !first {
		return err
	}
	switch m.Kind {
	case event.Delete:
		err = t.delete(m)
	case event.Alias:
		err = t.alias(m)
	default:
		if err = t.apply(m); err == nil && m.UserID == "" {
			err = t.fileRegalConsent(m) // Rules R5, G1: see regal.go
		}
	}
	if err == nil {
		err = t.regalInbound(m) // Rule G8: see keyword.go
	}
	if err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	return t.enqueue(m)
}

// claim marks the messageId processed and reports whether it was the first time
// (Rules E2, S3). A messageId processed before makes the result a duplicate, with no
// diagnostics: the message changes nothing.
func (t *txn) claim(messageID string) (bool, error) {
	done, err := t.tx.Processed(messageID)
	switch {
	case err != nil:
		return false, err
	case done:
		t.res.Duplicate, t.res.Diagnostics = true, nil
		return false, nil
	}
	return true, t.tx.MarkProcessed(messageID)
}

// get returns the contact with the id, from this transaction's copies first.
func (t *txn) get(id string) (*contactcore.Contact, error) {
	if c, ok := t.loaded[id]; ok {
		return c, nil
	}
	c, err := t.tx.Contact(id)
	if err != nil {
		return nil, err
	}
	t.remember(coreOf(c))
	return coreOf(c), nil
}

func (t *txn) remember(c *contactcore.Contact) {
	t.loaded[c.ID()] = c
	t.order = append(t.order, c.ID())
	t.snapshot(c)
	if c.InAudience() { // it has a phone
		start := len(t.phoneBuf)
		t.phoneBuf = c.AppendPhones(t.phoneBuf)
		t.phonesAtLoad[c.ID()] = t.phoneBuf[start:len(t.phoneBuf):len(t.phoneBuf)]
	}
}

// find returns the contacts key finds, as changed in this transaction. Contacts created
// or re-keyed in this transaction are found too.
func (t *txn) find(key identity.Key) ([]*contactcore.Contact, error) {
	return t.findTo(nil, key)
}

// findTo is find appending to dst: the lookups of every message (user, anonymous) pass
// a small array of their own, so that the usual one or two contacts found cost no
// allocation.
func (t *txn) findTo(dst []*contactcore.Contact, key identity.Key) ([]*contactcore.Contact, error) {
	stored, err := findIDs(t.raw, key) // lookup.go
	if err != nil {
		return nil, err
	}
	out := dst
	for _, id := range stored {
		c, err := t.get(id)
		if err != nil {
			return nil, err
		}
		if c.HasKey(key) {
			out = append(out, c)
		}
	}
	for _, id := range t.order {
		c, ok := t.loaded[id] // absent once deleted in this transaction
		if ok && !slices.Contains(out, c) && c.HasKey(key) {
			out = append(out, c)
		}
	}
	return out, nil
}

// user returns the contact of a userId: the one whose External ID it is, else the one
// whose former External ID it is (Rule I5); nil when there is none.
func (t *txn) user(userID string) (*contactcore.Contact, error) {
	var buf [4]*contactcore.Contact
	cs, err := t.findTo(buf[:0], identity.UserKey(userID))
	if err != nil {
		return nil, err
	}
	var former *contactcore.Contact
	for _, c := range cs {
		if c.UserID() == userID {
			return c, nil
		}
		if former == nil {
			former = c
		}
	}
	return former, nil
}

// create makes a new contact, to be inserted at the end of the transaction.
func (t *txn) create(userID, anonymousID string) *contactcore.Contact {
	c := t.newContact(userID, anonymousID)
	t.changed("contact")
	return c
}

// newContact is create without noting the new contact in the message's result: for a
// contact of regalkit's own that the message did not make (a phone's Regal register,
// fileRegalConsent).
func (t *txn) newContact(userID, anonymousID string) *contactcore.Contact {
	t.reshaped = true
	c := contactcore.New(t.p.opts.newID())
	c.SetUserID(userID)
	if userID == "" {
		c.AddAnonymousID(anonymousID)
	}
	c.SetTimes(t.now, t.now)
	t.remember(c)
	t.created[c.ID()] = true
	t.dirty[c.ID()] = true
	return c
}

func (t *txn) touch(c *contactcore.Contact) { t.dirty[c.ID()] = true }

func (t *txn) changed(fields ...string) {
	if t.res.Changed == nil && len(fields) > 0 {
		// Room for a typical identify's fields at once, rather than growing 1, 2, 4, 8;
		// a message whose first change is its event (a track, a page, an identify that
		// changed no trait) rarely has another: the event is the last thing applied.
		n := 8
		if len(fields) == 1 && fields[0] == "event" {
			n = 1
		}
		t.res.Changed = make([]string, 0, max(len(fields), n))
	}
	for _, f := range fields {
		if !slices.Contains(t.res.Changed, f) {
			t.res.Changed = append(t.res.Changed, f)
		}
	}
}

func (t *txn) refuse(m *event.Message, code diag.Code, field, msg string) {
	t.res.Diagnostics = append(t.res.Diagnostics, diag.Diagnostic{MessageID: m.MessageID, Code: code, Field: field, Message: msg})
}

// flush writes back every contact the transaction changed. Deleted contacts are gone
// from loaded. The store may keep what it is given (contact.Store, "Copies"): after
// flush, the message only reads its contacts (enqueue, the triggers' states).
func (t *txn) flush() error {
	if err := t.syncKeywords(); err != nil { // Rule G7: see keyword.go
		return err
	}
	for _, id := range t.order {
		c, ok := t.loaded[id]
		if !ok || !t.dirty[id] {
			continue
		}
		t.dirty[id] = false
		c.SetTimes(time.Time{}, t.now)
		var err error
		if t.created[id] {
			t.created[id] = false
			err = t.tx.Insert(handOver(c))
		} else {
			err = t.tx.Put(handOver(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// facts gathers what the store knows about the message's identifiers.
func (t *txn) facts(m *event.Message) (identity.Facts, error) {
	f := identity.Facts{UserID: m.UserID, AnonymousID: m.AnonymousID, Time: m.Time, MessageID: m.MessageID}
	if m.UserID != "" {
		c, err := t.user(m.UserID)
		if err != nil {
			return f, err
		}
		if c != nil {
			f.UserContact = c.ID()
		}
	}
	anon := m.AnonymousID
	if anon != "" && !t.alreadyLinked(f.UserContact, anon, m) {
		// The facts are read only until the message's decision is made.
		links, byUser, home, ghosts, err := t.pooledAnonymous(anon)
		if err != nil {
			return f, err
		}
		f.Links, f.LinkedContacts = links, byUser
		if home != nil {
			f.AnonymousContact = home.ID()
		}
		if len(ghosts) > 0 && m.UserID == "" {
			if f.Ghosts, err = t.ghostsAt(ghosts, m.Time, m.MessageID, map[string]*contact.Tombstone{}); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// alreadyLinked reports whether the user's contact already has a link of anon as early
// as the message's: then the message changes no link, and the anonymous ID's other
// contacts need not be read. An anonymous ID that every message of a server-side
// source carries would otherwise make each message read every contact it links.
func (t *txn) alreadyLinked(contactID, anon string, m *event.Message) bool {
	if contactID == "" {
		return false
	}
	c, err := t.get(contactID)
	if err != nil {
		return false
	}
	l, ok := c.UserLink(m.UserID, anon)
	return ok && msgorder.Compare(l.Time, l.MessageID, m.Time, m.MessageID) <= 0
}

// pooledAnonymous is anonymousTo returning the links and the map in the transaction's
// pooled factLinks and factUsers (txnpool.go) instead of new ones: they are valid until
// its next call, which facts and rehome, its callers, never make while they still
// read them. Empty links and map are nil.
func (t *txn) pooledAnonymous(anon string) (links []identity.Link, byUser map[string]string, home *contactcore.Contact, ghosts []identity.Link, err error) {
	clear(t.factLinks[:cap(t.factLinks)])
	clear(t.factUsers)
	links, byUser, home, ghosts, err = t.anonymousTo(t.factLinks[:0], t.factUsers, anon)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if cap(links) <= 16 {
		t.factLinks = links[:0]
	}
	if len(links) == 0 {
		links = nil
	}
	if len(byUser) == 0 {
		byUser = nil
	}
	return links, byUser, home, ghosts, nil
}

// anonymousTo returns the links of an anonymous ID, appended to links, the contact of
// each linked userId, added to byUser (made when nil and needed), the anonymous ID's
// own contact, if it has one, and the ghost links its contacts keep (Rule I7; nil for
// none). An alias that joined the anonymous ID to a contact links it too, to the
// userId the alias names, at the alias's time (Rules I3, I5).
func (t *txn) anonymousTo(links []identity.Link, byUser map[string]string, anon string) ([]identity.Link, map[string]string, *contactcore.Contact, []identity.Link, error) {
	var ghosts []identity.Link
	var buf [4]*contactcore.Contact
	cs, err := t.findTo(buf[:0], identity.AnonymousKey(anon))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// A contact reborn after a delete counts its links from their latest message
	// (Rule I7): the earliest after the delete cannot be known when the delete came
	// last and the user linked the ID before it too. When the user did not (no ghost
	// of such a link), every order knows the earliest, and the link counts from it, so
	// that the user's first login after the delete still claims the ID's history.
	type firstLink struct {
		i     int
		first identity.Link
	}
	var reborn []firstLink
	for _, c := range cs {
		ghosts = c.AppendGhostsOf(ghosts, anon)
		if c.UserID() == "" {
			continue // the anonymous ID's own contact is chosen by homeAmong
		}
		n := len(links)
		links = c.AppendLinksOf(links, anon)
		for i, l := range links[n:] {
			if byUser == nil {
				byUser = map[string]string{}
			}
			byUser[l.UserID] = c.ID()
			if f, ok := c.FirstUserLink(l.UserID, anon); ok && (!f.Time.Equal(l.Time) || f.MessageID != l.MessageID) {
				reborn = append(reborn, firstLink{n + i, f})
			}
		}
	}
	for _, r := range reborn {
		if !slices.ContainsFunc(ghosts, func(g identity.Link) bool { return g.UserID == r.first.UserID }) {
			links[r.i] = r.first
		}
	}
	home := homeAmong(cs, anon)
	aliased, err := t.findTo(buf[:0], identity.UserKey(anon))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, c := range aliased {
		if c.UserID() == anon || !c.HasUser(anon) {
			continue
		}
		if a, ok := c.FirstJoinedAliasFrom(anon); ok {
			// The anonymous ID's messages belong to the user it was aliased into (Rule
			// I5; a former External ID of the contact, or its External ID), not to the
			// anonymous ID as a user of its own: a delete of that user, and of no other,
			// takes those from before it (Rule I7).
			links = append(links, identity.Link{AnonymousID: anon, UserID: a.UserID, Time: a.Time, MessageID: a.MessageID})
			if byUser == nil {
				byUser = map[string]string{}
			}
			byUser[a.UserID] = c.ID()
		}
	}
	return links, byUser, home, ghosts, nil
}

// ghostsAt returns the ghost links that claim an anonymous-only message at (at,
// messageID): those of users whose delete it happened before (Rule I7). A ghost of a
// user whose delete the message came after claims nothing: what happened after the
// delete is not the deleted user's. tombstones caches the reads; ghosts is not changed.
func (t *txn) ghostsAt(ghosts []identity.Link, at time.Time, messageID string, tombstones map[string]*contact.Tombstone) ([]identity.Link, error) {
	var out []identity.Link
	for _, g := range ghosts {
		ts, err := t.tombstone(tombstones, g.UserID)
		if err != nil {
			return nil, err
		}
		if ts != nil && ts.Covers(at, messageID) {
			out = append(out, g)
		}
	}
	return out, nil
}

// hasGhost reports whether a ghost link of userID to the anonymous ID is kept (Rule I7).
func (t *txn) hasGhost(anon, userID string) (bool, error) {
	var buf [4]*contactcore.Contact
	cs, err := t.findTo(buf[:0], identity.AnonymousKey(anon))
	if err != nil {
		return false, err
	}
	var gs [4]identity.Link
	for _, c := range cs {
		for _, g := range c.AppendGhostsOf(gs[:0], anon) {
			if g.UserID == userID {
				return true, nil
			}
		}
	}
	return false, nil
}

// addGhost keeps l, a link a deleted user's message made before the delete, on the
// anonymous ID's own contact, created (hidden: it shows nothing) when there is none
// (Rule I7, see contactcore.Contact.AddGhost).
func (t *txn) addGhost(l identity.Link) error {
	var buf [4]*contactcore.Contact
	cs, err := t.findTo(buf[:0], identity.AnonymousKey(l.AnonymousID))
	if err != nil {
		return err
	}
	home := homeAmong(cs, l.AnonymousID)
	if home == nil {
		home = t.create("", l.AnonymousID)
	}
	if home.AddGhost(l) {
		t.touch(home)
		t.changed("identity")
	}
	return nil
}

// homeAmong returns, among the contacts an anonymous ID finds, the ID's own contact:
// the anonymous one that owns the ID rather than another anonymous contact that only
// holds a message under it (a Regal event it matched by phone, Rule R5), so that
// messages moved home go where the Guard and the next message look (Rules G1, I2),
// whatever order the store lists them; nil for none.
func homeAmong(cs []*contactcore.Contact, anon string) *contactcore.Contact {
	var home *contactcore.Contact
	for _, c := range cs {
		if c.UserID() == "" && (home == nil || (!home.OwnsAnonymousID(anon) && c.OwnsAnonymousID(anon))) {
			home = c
		}
	}
	return home
}

// apply handles every kind but delete.
func (t *txn) apply(m *event.Message) (err error) {
	f, err := t.facts(m)
	if err != nil {
		return err
	}
	if c, err := t.regalMatch(m); err != nil || c != nil { // Rule R5: see regal.go
		if err != nil {
			return err
		}
		return t.hold(m, c)
	}
	if t.p.opts.MatchByPhone && m.UserID == "" && f.AnonymousContact == "" && len(f.Links) == 0 {
		if c, err := t.matchByPhone(m); err != nil || c != nil {
			if err != nil {
				return err
			}
			return t.hold(m, c)
		}
	}
	d := identity.Decide(f)
	var c *contactcore.Contact
	switch d.Action {
	case identity.Create:
		if d.Ghost {
			c = t.create("", d.AnonymousID) // out of sight on the anonymous ID's own contact
		} else {
			c = t.create(d.UserID, d.AnonymousID)
		}
	case identity.Attach:
		if c, err = t.get(d.Contact); err != nil {
			return err
		}
	}
	if d.UserID != "" {
		// Not :=, which would declare an err of the block's own: the deferred
		// rebirth below must set apply's result (a store error it meets is the
		// message's error) and see whether apply failed.
		var ts contact.Tombstone
		var ok bool
		ts, ok, err = t.tx.Tombstone(d.UserID)
		if err != nil {
			return err
		}
		if ok && ts.Covers(m.Time, m.MessageID) {
			t.refuse(m, diag.MessageDeleted, "", "the message happened before its user was deleted (Rule I7)")
			if d.Held {
				// Kept out of sight on the deleted user's contact (or, for a ghost
				// link's, the anonymous ID's own): a late link may yet attribute it
				// to another user (Rule I4).
				return t.bury(m, c)
			}
			if err := t.discardCreated(c); err != nil {
				return err
			}
			if d.Links() {
				// The link the message made is gone with it, but it still claims the
				// anonymous ID's messages of the user's time before the delete, as it
				// does when the delete comes last (Rule I7).
				if err := t.addGhost(d.Link); err != nil {
					return err
				}
				return t.rehome(d.Link.AnonymousID)
			}
			return nil
		}
		if ok {
			defer func() {
				if err == nil {
					err = t.rebirth(c, d.UserID, ts)
				}
			}()
			if err := t.rebirth(c, d.UserID, ts); err != nil {
				return err
			}
		}
	}
	t.res.ContactID = c.ID()
	if d.Held {
		return t.hold(m, c)
	}
	if err := t.link(m, c, d); err != nil {
		return err
	}
	return t.own(m, c)
}

// link makes the link of a message that carries a userId and an anonymousId (Rule I3)
// on c, the userId's contact, and moves the anonymous ID's messages the link now
// claims (Rule I4); a decision without a link changes nothing.
func (t *txn) link(m *event.Message, c *contactcore.Contact, d identity.Decision) error {
	if !d.Links() {
		return nil
	}
	if d.Shared {
		t.refuse(m, diag.IdentityConflict, "anonymousId",
			"the anonymousId is already linked to another userId; messages with only it go to the user linked most recently before them (Rule I4)")
	}
	counted, first := c.LinkAsChange(d.Link.UserID, d.Link.AnonymousID, d.Link.Time, d.Link.MessageID)
	if !counted && !first {
		return nil
	}
	t.touch(c)
	t.changed("identity")
	moves := counted && first // always both, but on a contact reborn after a delete
	if !moves {
		// Reborn (Rule I7): its link counts from its latest sending when the user
		// linked the ID before the delete too (a ghost of that link exists), else from
		// its earliest (see anonymousTo). Only a change of that stamp can move the
		// ID's messages.
		ghost, err := t.hasGhost(d.Link.AnonymousID, d.Link.UserID)
		if err != nil {
			return err
		}
		moves = (ghost && counted) || (!ghost && first)
	}
	if !moves {
		return nil
	}
	return t.rehome(d.Link.AnonymousID)
}

// rebirth makes a contact of a deleted user count from the delete (Rule I7, see
// [contactcore.Contact.Erase]): it is erased with the tombstone once, and again after a
// message added links or consent records to it, so that they count from their latest
// message in every arrival order. When the message moved the user's messages to another
// contact (an alias that joins or splits, Rule I5), that contact is the one erased: the
// records counted from the latest message must not depend on whether the alias came
// before or after it.
func (t *txn) rebirth(c *contactcore.Contact, userID string, ts contact.Tombstone) error {
	t.reshaped = true
	if _, ok := t.loaded[c.ID()]; !ok || !c.HasUser(userID) {
		var err error
		if c, err = t.user(userID); err != nil || c == nil {
			return err // c == nil: deleted in this transaction
		}
	}
	c.EraseUser(userID, ts.Time, ts.MessageID)
	t.touch(c)
	return nil
}

// discardCreated forgets a contact created for a message that turned out to be
// discarded.
func (t *txn) discardCreated(c *contactcore.Contact) error {
	if c != nil && t.created[c.ID()] {
		delete(t.loaded, c.ID())
		t.res.Changed = slices.DeleteFunc(t.res.Changed, func(s string) bool { return s == "contact" })
	}
	return nil
}

// own applies a message that carries the contact's userId.
func (t *txn) own(m *event.Message, c *contactcore.Contact) error {
	opts := t.applyOptions()
	ch := c.ApplyTraits(t.p.traitsOf(m), opts)
	t.note(c, ch)
	// Written back even when no value changed: the stamps moved, and a later, older
	// message must lose to them (Rule T4).
	t.touch(c)
	if recs := t.consentOf(m); len(recs) > 0 && c.AddConsentAs(m.UserID, t.bind(recs, &ch, m)...) > 0 {
		t.touch(c)
		t.changed("consent")
	}
	if err := t.record(m, c); err != nil {
		return err
	}
	if hasAliases(c) {
		// A message under an aliased userId may be the one that makes an alias a
		// conflict, or not (Rule I5).
		joined := c.FormerUserIDs()
		if len(joined) > 0 {
			joined = append(joined, c.UserID())
		}
		if _, err := t.regroupSeeds([]string{m.UserID}, false); err != nil {
			return err
		}
		if len(joined) == 0 {
			return nil
		}
		// An alias that joined a previousId to the user's contact and no longer does
		// became a conflict with this message: said here, or nothing would say it (the
		// alias's own result said it joined).
		after, err := t.user(m.UserID)
		if err != nil {
			return err
		}
		for _, id := range joined {
			if id != m.UserID && (after == nil || !after.HasUser(id)) {
				t.refuse(m, diag.IdentityConflict, "userId",
					"with this message, userId and an alias's previousId each have messages before the alias, which so becomes a conflict: their contacts stand apart again (Rule I5)")
				break
			}
		}
	}
	return nil
}

// hold applies an anonymous-only message to the contact it is attributed to, keeping
// it whole so that it can move (Rule I4).
func (t *txn) hold(m *event.Message, c *contactcore.Contact) error {
	t.res.ContactID = c.ID()
	rec, hasEvent := m.Record()
	h, ch := contactcore.NewHeld(t.p.traitsOf(m), t.consentOf(m), hasEvent, t.applyOptions())
	t.res.Diagnostics = append(t.res.Diagnostics, ch.Diagnostics...)
	t.note(c, c.Hold(h))
	t.touch(c)
	if hasEvent {
		return t.addEvent(c, rec)
	}
	return nil
}

// bury keeps an anonymous-only message that belongs to a deleted user's time before the
// delete on that user's contact, showing nothing (see [contactcore.Held.Deleted]).
func (t *txn) bury(m *event.Message, c *contactcore.Contact) error {
	var rec *event.Record
	if r, ok := m.Record(); ok {
		// The contact keeps the record, and a store keeps a contact as it is given
		// (contact.Store, "Copies"): a copy of its own, not the message's objects and
		// text, which the caller owns (and ProcessStream reuses).
		r = r.Clone()
		rec = &r
	}
	// The same effect hold gives the message (context.traits included), so that the
	// message shows the same should a late link move it to a living contact (Rule I4).
	h, ch := contactcore.NewHeld(t.p.traitsOf(m), t.consentOf(m), rec != nil, t.applyOptions())
	t.res.Diagnostics = append(t.res.Diagnostics, ch.Diagnostics...) // what the message says is refused all the same
	c.Hold(h.Bury(rec))
	t.touch(c)
	return nil
}

func (t *txn) note(c *contactcore.Contact, ch contactcore.Changes) {
	t.res.Diagnostics = append(t.res.Diagnostics, ch.Diagnostics...)
	if ch.Changed() {
		t.touch(c)
		if t.res.Changed == nil {
			// Fields has no duplicates and is the caller's: the message's first list of
			// changes is taken as it is rather than copied.
			t.res.Changed = ch.Fields
		} else {
			t.changed(ch.Fields...)
		}
	}
}

// consentOf returns the consent records of an opt-in or opt-out event (Rule C8), or of
// Regal's contact.subscribed and contact.unsubscribed (Rule R5).
func (t *txn) consentOf(m *event.Message) []optin.Record {
	if recs := t.regalConsent(m); recs != nil { // Rule R5: see regal.go
		return recs
	}
	if m.Kind != event.Track || !t.p.events.Has(m.Event) {
		return nil
	}
	recs, diags := t.p.events.Records(m.Event, optin.Message{ID: m.MessageID, Time: m.Time, IP: m.Context.IP, ProcessedAt: t.now})
	t.res.Diagnostics = append(t.res.Diagnostics, withMessageID(diags, m.MessageID)...)
	return recs
}

// bind binds the records of an opt-in or opt-out event to the phone and email its
// message's traits set, ch (Rule C5, see contactcore.Changes.BindConsent), and returns
// them.
func (t *txn) bind(recs []optin.Record, ch *contactcore.Changes, m *event.Message) []optin.Record {
	recs, diags := ch.BindConsent(recs, m.MessageID, "event")
	t.res.Diagnostics = append(t.res.Diagnostics, diags...)
	return recs
}

// record adds the message's event record, for the kinds that have one (Rule E1).
func (t *txn) record(m *event.Message, c *contactcore.Contact) error {
	rec, ok := m.Record()
	if !ok {
		return nil
	}
	if m.UserID != "" && m.UserID != c.UserID() {
		c.NoteEvent(m.UserID, contactcore.EventRef{MessageID: rec.MessageID, Time: rec.Time})
	}
	return t.addEvent(c, rec)
}

func (t *txn) addEvent(c *contactcore.Contact, rec event.Record) error {
	if err := t.flushOne(c); err != nil {
		return err
	}
	added, err := t.tx.AddEvent(c.ID(), rec)
	if err != nil {
		return err
	}
	if added {
		t.changed("event")
		t.noteEvent(c, rec)
	}
	return nil
}

// flushOne inserts a contact created in this transaction, so that events can be added
// to it. The rest of the message may change c, and the store may keep what Insert is
// given, so it inserts a clone: the clone shares c's memory until c writes it
// (copy-on-write), and flush puts c at the end.
func (t *txn) flushOne(c *contactcore.Contact) error {
	if !t.created[c.ID()] {
		return nil
	}
	t.created[c.ID()] = false
	t.dirty[c.ID()] = false
	if err := t.tx.Insert(handOver(c.Clone())); err != nil {
		return err
	}
	t.dirty[c.ID()] = true // the rest of the message may change it further
	return nil
}

// matchByPhone finds the one contact that has the phone, else the email, of an
// anonymous identify (Rule I6, when Options.MatchByPhone is on).
func (t *txn) matchByPhone(m *event.Message) (*contactcore.Contact, error) {
	return t.onlyMatch(contactcore.TraitKeys(t.p.traitsOf(m), t.applyOptions()))
}

// onlyMatch returns the contact of the first key that finds exactly one, and makes it
// the message's contact; nil when no key does (Rules I6, R5: a key two contacts share
// decides nothing).
func (t *txn) onlyMatch(keys []identity.Key) (*contactcore.Contact, error) {
	for _, key := range keys {
		cs, err := t.find(key)
		if err != nil {
			return nil, err
		}
		if len(cs) == 1 {
			t.res.ContactID = cs[0].ID()
			return cs[0], nil
		}
	}
	return nil, nil
}
