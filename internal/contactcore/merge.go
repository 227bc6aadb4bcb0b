package contactcore

import (
	"slices"

	"github.com/regalkit/regalkit/identity"
)

// Merge joins o into c, as when two contacts turn out to be one person: every field
// keeps the write with the larger stamp, phone writes, consent records, links and held
// messages are united. The result is the contact that applying both contacts' messages
// in any order gives, so Merge is commutative, associative and idempotent in everything
// but c's id and External ID, which stay c's (o's External ID, if different, becomes a
// former ID, Rule I5). o is not changed.
func (c *Contact) Merge(o *Contact) {
	if o == nil || o == c {
		return
	}
	if c.userID == "" && len(c.parts) == 0 {
		c.userID = o.userID
	}
	c.separate() // o's parts and held messages join the shown state by rebuild
	root := o.rootPart()
	if root.userID == "" || root.userID == c.userID {
		c.joinRoot(root)
	} else {
		c.insertPart(root)
	}
	for _, p := range o.parts {
		c.insertPart(p.Clone())
	}
	for _, l := range o.links {
		if l.st.isZero() && l.last.isZero() {
			c.addLink(l) // an anonymous contact's own ID
		}
	}
	for _, h := range o.held {
		if i, found := slices.BinarySearchFunc(c.held, h, compareHeld); !found {
			c.writeHeld()
			c.held = slices.Insert(c.held, i, h)
		}
	}
	for _, g := range o.ghostList() {
		c.AddGhost(identity.Link{AnonymousID: g.anon, UserID: g.user, Time: g.st.time(), MessageID: g.st.id()})
	}
	for _, a := range o.aliases {
		if i, found := slices.BinarySearchFunc(c.aliases, a, compareAliasFacts); !found {
			c.writeAliases()
			c.aliases = slices.Insert(c.aliases, i, a)
		}
	}
	if o.createdAt != 0 && (c.createdAt == 0 || o.createdAt < c.createdAt) {
		c.createdAt = o.createdAt
	}
	if o.updatedAt > c.updatedAt {
		c.updatedAt = o.updatedAt
	}
	c.rebuild()
}

// join merges o into s field by field, and reports the fields that changed in ch when ch
// is not nil.
func (s *state) join(o *state, ch *Changes) {
	s.writable()
	note := func(field string, changed bool) {
		if ch != nil && changed && !slices.Contains(ch.Fields, field) {
			ch.Fields = append(ch.Fields, field)
		}
	}
	for f := range s.fields {
		note(fields[f].name, s.fields[f].join(o.fields[f]))
	}
	for i := range s.address {
		note(addressFieldNames[i], s.address[i].join(o.address[i]))
	}
	if o.addressCleared.compare(s.addressCleared) > 0 {
		s.addressCleared = o.addressCleared
		note("address", true)
	}
	for _, kr := range o.addressExtra {
		if setKeyed(&s.addressExtra, kr.key, kr.reg.val, kr.reg.st) {
			note("address."+kr.key, true) // the name is built only for a change
		}
	}
	for _, kr := range o.custom {
		if setKeyed(&s.custom, kr.key, kr.reg.val, kr.reg.st) {
			note("custom."+kr.key, true)
		}
	}
	var before phoneSignature
	if ch != nil {
		before = s.phoneSignature()
	}
	for _, kr := range o.labels {
		setKeyed(&s.labels, kr.key, kr.reg.val, kr.reg.st)
	}
	for _, w := range o.phoneLog {
		s.addPhoneWrite(w)
	}
	if ch != nil && s.phoneSignature() != before {
		note("phones", true)
	}
	n := s.consent.Len()
	s.consent.Merge(o.consent)
	note("consent", s.consent.Len() != n)
}
