package contact

// Merge joins o into c, as when an anonymous contact is stitched to a known one (Rule
// I3): every field keeps the write with the larger stamp, phone writes, consent records
// and identifiers are united. The result is the contact that applying both contacts'
// messages in any order gives, so Merge is commutative, associative and idempotent in
// everything but c's id and External ID, which stay c's (o's External ID, if different,
// becomes a former ID). o is not changed.
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
	for _, id := range o.anonymousIDs {
		c.anonymousIDs = insertSorted(c.anonymousIDs, id)
	}
	if !o.createdAt.IsZero() && (c.createdAt.IsZero() || o.createdAt.Before(c.createdAt)) {
		c.createdAt = o.createdAt
	}
	if o.updatedAt.After(c.updatedAt) {
		c.updatedAt = o.updatedAt
	}

	c.firstName.join(o.firstName)
	c.lastName.join(o.lastName)
	c.email.join(o.email)
	c.age.join(o.age)
	c.gender.join(o.gender)
	for i := range c.address {
		c.address[i].join(o.address[i])
	}
	if o.addressCleared.compare(c.addressCleared) > 0 {
		c.addressCleared = o.addressCleared
	}
	joinKeyed(&c.addressExtra, o.addressExtra)
	joinKeyed(&c.custom, o.custom)
	joinKeyed(&c.labels, o.labels)
	for _, w := range o.phoneLog {
		c.addPhoneWrite(w)
	}
	c.consent.Merge(o.consent)
}

func joinKeyed(dst *[]keyedRegister, src []keyedRegister) {
	for _, kr := range src {
		setKeyed(dst, kr.key, kr.reg.val, kr.reg.st)
	}
}
