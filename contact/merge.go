package contact

import "slices"

// Merge joins o into c, as when two contacts turn out to be one person: every field
// keeps the write with the larger stamp, phone writes, consent records, links and held
// messages are united. The result is the contact that applying both contacts' messages
// in any order gives, so Merge is commutative, associative and idempotent in everything
// but c's id and External ID, which stay c's (o's External ID, if different, becomes a
// former ID). o is not changed.
func (c *Contact) Merge(o *Contact) {
	if o == nil || o == c {
		return
	}
	if o.userID != "" && c.userID == "" {
		c.userID = o.userID
	} else if o.userID != "" && o.userID != c.userID {
		c.formerIDs = insertSorted(c.formerIDs, o.userID)
	}
	for _, id := range o.formerIDs {
		if id != c.userID {
			c.formerIDs = insertSorted(c.formerIDs, id)
		}
	}
	for _, l := range o.links {
		c.addLink(l)
	}
	if o.latest.compare(c.latest) > 0 {
		c.latest = o.latest
	}
	if o.born.compare(c.born) > 0 {
		c.born = o.born
	}
	if o.createdAt != 0 && (c.createdAt == 0 || o.createdAt < c.createdAt) {
		c.createdAt = o.createdAt
	}
	if o.updatedAt > c.updatedAt {
		c.updatedAt = o.updatedAt
	}
	if c.own == nil && o.own == nil {
		c.state.join(&o.state, nil)
		return
	}
	own := c.ownState().clone()
	own.join(o.ownState(), nil)
	c.own = own
	for _, h := range o.held {
		if i, found := slices.BinarySearchFunc(c.held, h, compareHeld); !found {
			c.held = slices.Insert(c.held, i, h)
		}
	}
	c.rebuild()
}

// join merges o into s field by field, and reports the fields that changed in ch when ch
// is not nil.
func (s *state) join(o *state, ch *Changes) {
	note := func(field string, changed bool) {
		if ch != nil && changed && !slices.Contains(ch.Fields, field) {
			ch.Fields = append(ch.Fields, field)
		}
	}
	note("firstName", s.firstName.join(o.firstName))
	note("lastName", s.lastName.join(o.lastName))
	note("email", s.email.join(o.email))
	note("age", s.age.join(o.age))
	note("gender", s.gender.join(o.gender))
	for i := range s.address {
		note(addressFieldNames[i], s.address[i].join(o.address[i]))
	}
	if o.addressCleared.compare(s.addressCleared) > 0 {
		s.addressCleared = o.addressCleared
		note("address", true)
	}
	for _, kr := range o.addressExtra {
		note("address."+kr.key, setKeyed(&s.addressExtra, kr.key, kr.reg.val, kr.reg.st))
	}
	for _, kr := range o.custom {
		note("custom."+kr.key, setKeyed(&s.custom, kr.key, kr.reg.val, kr.reg.st))
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
