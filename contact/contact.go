package contact

import (
	"slices"
	"time"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

// Contact is one person as regalkit keeps them: an External ID (the Segment userId) with
// the anonymous IDs stitched to it, phones with their consent, standard traits and
// custom properties.
//
// Every field is kept with the stamp (event time, messageId) of the write that set it,
// and every write keeps the larger stamp (Rule T4); phone choices are kept as a log and
// derived. Applying the same messages in any order, any number of times, gives the same
// contact, and merging two contacts gives the contact of both their messages (SPEC S3).
//
// The zero Contact is an empty contact ready to use. A Contact is a value owned by one
// goroutine at a time: it is not safe for concurrent use, and stores hand out copies
// (see [Contact.Clone]).
type Contact struct {
	id           string
	userID       string
	formerIDs    []string // former External IDs, sorted (Rule I5)
	anonymousIDs []string // sorted
	createdAt    time.Time
	updatedAt    time.Time

	firstName, lastName, email, age, gender register

	address        [numAddressParts]register
	addressExtra   []keyedRegister // unknown address sub-keys, sorted by key
	addressCleared stamp           // the latest address: null; older sub-key writes are hidden

	custom []keyedRegister // sorted by key

	phones   phoneView       // the phones now: every write in phoneLog applied
	phoneLog []phoneWrite    // every phone write, sorted, for Rule C5; see phones.go
	labels   []keyedRegister // phone labels keyed by E.164, sorted

	consent optin.Ledger // every consent record received (Rule C7)
}

type keyedRegister struct {
	key string
	reg register
}

// New returns an empty contact with the given store-assigned id.
func New(id string) *Contact { return &Contact{id: id} }

// ID returns the store-assigned id.
func (c *Contact) ID() string { return c.id }

// SetID sets the store-assigned id.
func (c *Contact) SetID(id string) { c.id = id }

// UserID returns the External ID, the Segment userId (Rule I1); empty for an anonymous
// contact.
func (c *Contact) UserID() string { return c.userID }

// SetUserID sets the External ID. When the contact had another one, that one is kept as
// a former ID that still finds the contact (Rule I5).
func (c *Contact) SetUserID(userID string) {
	if c.userID == userID {
		return
	}
	if c.userID != "" {
		c.formerIDs = insertSorted(c.formerIDs, c.userID)
	}
	c.formerIDs = removeSorted(c.formerIDs, userID)
	c.userID = userID
}

// FormerUserIDs returns the External IDs the contact had before an alias renamed it.
func (c *Contact) FormerUserIDs() []string { return slices.Clone(c.formerIDs) }

// AnonymousIDs returns the anonymous IDs stitched to the contact, sorted.
func (c *Contact) AnonymousIDs() []string { return slices.Clone(c.anonymousIDs) }

// AddAnonymousID stitches an anonymous ID to the contact (Rule I3).
func (c *Contact) AddAnonymousID(id string) {
	if id != "" {
		c.anonymousIDs = insertSorted(c.anonymousIDs, id)
	}
}

// RemoveAnonymousID unlinks an anonymous ID from the contact.
func (c *Contact) RemoveAnonymousID(id string) { c.anonymousIDs = removeSorted(c.anonymousIDs, id) }

// CreatedAt returns when the store created the contact (by the processor's clock).
func (c *Contact) CreatedAt() time.Time { return c.createdAt }

// UpdatedAt returns when the contact last changed (by the processor's clock).
func (c *Contact) UpdatedAt() time.Time { return c.updatedAt }

// SetTimes sets the creation and update times; a zero time leaves that one as it is.
func (c *Contact) SetTimes(created, updated time.Time) {
	if !created.IsZero() {
		c.createdAt = created.UTC()
	}
	if !updated.IsZero() {
		c.updatedAt = updated.UTC()
	}
}

// FirstName returns the first name; empty when unknown.
func (c *Contact) FirstName() string { return c.firstName.val }

// LastName returns the last name; empty when unknown.
func (c *Contact) LastName() string { return c.lastName.val }

// Email returns the normalized email (Rule T7); empty when unknown.
func (c *Contact) Email() string { return c.email.val }

// Gender returns the gender as given; empty when unknown.
func (c *Contact) Gender() string { return c.gender.val }

// Age returns the age (Rule T6) and whether it is known.
func (c *Contact) Age() (int, bool) {
	if c.age.val == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(c.age.val); i++ {
		n = n*10 + int(c.age.val[i]-'0')
	}
	return n, true
}

// Custom returns the custom property key (Rule T2) as compact JSON text, exactly as it
// was sent, and whether it is set.
func (c *Contact) Custom(key string) (string, bool) {
	if i, ok := findKey(c.custom, key); ok && c.custom[i].reg.val != "" {
		return c.custom[i].reg.val, true
	}
	return "", false
}

// CustomKeys returns the keys of the custom properties that are set, sorted.
func (c *Contact) CustomKeys() []string {
	var keys []string
	for _, kr := range c.custom {
		if kr.reg.val != "" {
			keys = append(keys, kr.key)
		}
	}
	return keys
}

// Clone returns a deep copy of c: no change to one shows in the other.
func (c *Contact) Clone() *Contact {
	d := *c
	d.formerIDs = slices.Clone(c.formerIDs)
	d.anonymousIDs = slices.Clone(c.anonymousIDs)
	d.addressExtra = slices.Clone(c.addressExtra)
	d.custom = slices.Clone(c.custom)
	d.phoneLog = slices.Clone(c.phoneLog)
	d.phones = c.phones.clone()
	d.labels = slices.Clone(c.labels)
	return &d
}

func findKey(s []keyedRegister, key string) (int, bool) {
	return slices.BinarySearchFunc(s, key, func(kr keyedRegister, k string) int {
		switch {
		case kr.key < k:
			return -1
		case kr.key > k:
			return 1
		}
		return 0
	})
}

// setKeyed applies a write to the register under key, adding it if needed.
func setKeyed(s *[]keyedRegister, key, val string, st stamp) bool {
	i, ok := findKey(*s, key)
	if !ok {
		*s = slices.Insert(*s, i, keyedRegister{key: key})
	}
	return (*s)[i].reg.set(val, st)
}

func insertSorted(s []string, v string) []string {
	i, ok := slices.BinarySearch(s, v)
	if ok {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []string, v string) []string {
	if i, ok := slices.BinarySearch(s, v); ok {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// Keys returns every key the contact is found by (Rule I6): its External ID, former
// External IDs, anonymous IDs, phones and email, without duplicates. A Store indexes a
// contact by these keys.
func (c *Contact) Keys() []identity.Key {
	keys := make([]identity.Key, 0, 2+len(c.formerIDs)+len(c.anonymousIDs)+len(c.phones.members))
	if c.userID != "" {
		keys = append(keys, identity.UserKey(c.userID))
	}
	for _, id := range c.formerIDs {
		keys = append(keys, identity.UserKey(id))
	}
	for _, id := range c.anonymousIDs {
		keys = append(keys, identity.AnonymousKey(id))
	}
	for _, m := range c.phones.members {
		if m.member.val != "" {
			keys = append(keys, identity.PhoneKey(m.phone))
		}
	}
	if c.email.val != "" {
		keys = append(keys, identity.EmailKey(c.email.val))
	}
	return keys
}
