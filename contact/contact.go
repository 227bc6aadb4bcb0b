package contact

import (
	"errors"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/optin"
)

// Contact is one person as regalkit keeps them: an External ID (the Segment userId) with
// the anonymous IDs stitched to it, phones with their consent, standard traits and
// custom properties.
//
// Every field is kept with the stamp (event time, messageId) of the write that set it,
// and every write keeps the larger stamp (Rule T4); phone choices are kept as a log and
// derived. Applying the same messages in any order, any number of times, gives the same
// contact, and merging two contacts gives the contact of both their messages (Rule S3).
// Only the Processor changes a contact; this type offers the reads, copies and the
// encodings (the people export of RULES.md, X, and the storage codec).
//
// The zero Contact is an empty contact ready to use. Having no mutators, a Contact can
// be read, and cloned, by any number of goroutines at once. The one method that changes
// it is [Contact.UnmarshalJSON], which replaces it whole (as assigning to *c does): use
// it only on a contact no one else holds, never on one handed to a Store's Put or
// Insert, which may keep it (see [Store], "Copies").
type Contact contactcore.Contact

// core is c as the Processor's implementation sees it; the conversion costs nothing.
func (c *Contact) core() *contactcore.Contact { return (*contactcore.Contact)(c) }

// New returns an empty contact with the given store-assigned id.
func New(id string) *Contact { return (*Contact)(contactcore.New(id)) }

// ID returns the store-assigned id.
func (c *Contact) ID() string { return c.core().ID() }

// UserID returns the External ID, the Segment userId (Rule I1); empty for an anonymous
// contact.
func (c *Contact) UserID() string { return c.core().UserID() }

// FormerUserIDs returns the External IDs the contact had before an alias renamed it,
// sorted (Rule I5).
func (c *Contact) FormerUserIDs() []string { return c.core().FormerUserIDs() }

// HasUser reports whether userID is the contact's External ID or one of its former
// ones (Rule I5).
func (c *Contact) HasUser(userID string) bool { return c.core().HasUser(userID) }

// AnonymousIDs returns the anonymous IDs stitched to the contact, sorted (Rules I2–I5):
// those its messages linked, and an alias's previousId under which it holds
// anonymous-only messages (an alias from an anonymous visitor's ID), as its export
// lists them.
func (c *Contact) AnonymousIDs() []string { return c.core().StitchedAnonymousIDs() }

// Links returns the contact's links (Rule I4): its own, sorted by anonymous ID, then
// those of its former External IDs. An anonymous contact's own ID has none.
func (c *Contact) Links() []identity.Link { return c.core().Links() }

// LinkOf returns the link of an anonymous ID to the contact's External ID (Rule I4), and
// false when there is none (an anonymous contact's own ID has none).
func (c *Contact) LinkOf(anonymousID string) (identity.Link, bool) {
	return c.core().LinkOf(anonymousID)
}

// UserLink returns the link of an anonymous ID to userID, the contact's External ID or a
// former one (Rules I4, I5), and false when there is none.
func (c *Contact) UserLink(userID, anonymousID string) (identity.Link, bool) {
	return c.core().UserLink(userID, anonymousID)
}

// LinksOf returns every link of an anonymous ID to the contact's userIds, its External
// ID first (Rule I4).
func (c *Contact) LinksOf(anonymousID string) []identity.Link { return c.core().LinksOf(anonymousID) }

// Aliases returns the alias facts the contact knows (Rule I5), in the order they
// happened: those of its userIds, whether they took effect or not.
func (c *Contact) Aliases() []identity.Alias { return c.core().Aliases() }

// FirstMessage returns the earliest message applied under userID (Rule I5 decides
// conflicts by it), and false when there was none. On a contact reborn after a delete
// (Rule I7) it is the latest, which every arrival order knows.
func (c *Contact) FirstMessage(userID string) (time.Time, string, bool) {
	return c.core().FirstMessage(userID)
}

// Reborn returns the stamp of the latest delete erased from the contact (Rule I7), and
// false when there was none.
func (c *Contact) Reborn() (t time.Time, messageID string, ok bool) { return c.core().Reborn() }

// IsEmpty reports whether nothing is left of the contact's messages: no own message
// applied (or all erased), no link, no held message.
func (c *Contact) IsEmpty() bool { return c.core().IsEmpty() }

// Hidden reports whether the contact shows nothing and is kept only for what a delete
// left (Rule I7): an anonymous contact that holds the links a deleted user's messages
// made before the delete, and that user's anonymous-only messages from before it, out
// of sight, so that they stay out of sight whatever arrives later. A Store keeps it
// like any other contact, and its transactions (Tx.Contact, Tx.Find) find it, but its
// reads outside one (Store.Contact, Store.Find, Store.Contacts) skip it (see [Store]).
func (c *Contact) Hidden() bool { return c.core().Hidden() }

// Keys returns every key the contact is found by (Rule I6): its External ID, former
// External IDs, anonymous IDs (linked, its own, and those of the messages it holds),
// phones and email, without duplicates. A Store indexes a contact by these keys.
func (c *Contact) Keys() []identity.Key { return c.core().Keys() }

// HasKey reports whether key is one of [Contact.Keys], without building the list.
func (c *Contact) HasKey(key identity.Key) bool { return c.core().HasKey(key) }

// CreatedAt returns when the store created the contact (by the processor's clock).
func (c *Contact) CreatedAt() time.Time { return c.core().CreatedAt() }

// UpdatedAt returns when the contact last changed (by the processor's clock).
func (c *Contact) UpdatedAt() time.Time { return c.core().UpdatedAt() }

// FirstName returns the first name; empty when unknown.
func (c *Contact) FirstName() string { return c.core().FirstName() }

// LastName returns the last name; empty when unknown.
func (c *Contact) LastName() string { return c.core().LastName() }

// Email returns the normalized email (Rule T7); empty when unknown.
func (c *Contact) Email() string { return c.core().Email() }

// Gender returns the gender as given; empty when unknown.
func (c *Contact) Gender() string { return c.core().Gender() }

// Age returns the age (Rule T6) and whether it is known.
func (c *Contact) Age() (int, bool) { return c.core().Age() }

// TimeZone returns the IANA time zone, such as "America/New_York", the contact's
// identify calls told in context.timezone (Rule G3); empty when none did. The name is
// checked for its shape only: whether the zone database knows it is the reader's
// question.
func (c *Contact) TimeZone() string { return c.core().TimeZone() }

// Address is a contact's canonical address (Rule T5).
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	// Extra holds unknown sub-keys under their original keys, values as compact JSON.
	Extra map[string]string `json:"-"`
}

// IsZero reports whether the address has no part at all.
func (a Address) IsZero() bool { return contactcore.Address(a).IsZero() }

// Address returns the contact's address (Rule T5).
func (c *Contact) Address() Address { return Address(c.core().Address()) }

// Custom returns the custom property key (Rule T2) as compact JSON text, exactly as it
// was sent, and whether it is set.
func (c *Contact) Custom(key string) (string, bool) { return c.core().Custom(key) }

// CustomKeys returns the keys of the custom properties that are set, sorted.
func (c *Contact) CustomKeys() []string { return c.core().CustomKeys() }

// Phone returns the primary phone in E.164 (Rule T9); empty when the contact has none.
func (c *Contact) Phone() string { return c.core().Phone() }

// Phones returns the contact's phones in E.164, sorted.
func (c *Contact) Phones() []string { return c.core().Phones() }

// PhoneLabel returns the label of a phone given in E.164 ("" when it has none).
func (c *Contact) PhoneLabel(e164 string) string { return c.core().PhoneLabel(e164) }

// InAudience reports whether the contact has a valid phone (Rule A1).
func (c *Contact) InAudience() bool { return c.core().InAudience() }

// Consent returns the contact's consent ledger: every record received (Rule C7).
func (c *Contact) Consent() optin.Ledger { return c.core().Consent() }

// ConsentView resolves the ledger against the contact's phones (Rule C5): each record's
// outcome and each phone's state per channel.
func (c *Contact) ConsentView() optin.View { return c.core().ConsentView() }

// Subscription returns the state of the primary phone on a channel (Rule A2); none when
// the contact has no phone. For the email channel it is the state of the email.
func (c *Contact) Subscription(ch optin.Channel) optin.State { return c.core().Subscription(ch) }

// Clone returns a copy of c: no change to one shows in the other (the copy shares
// memory with c until one of them is written, which only the Processor does). It is
// safe to call concurrently with other reads of c.
func (c *Contact) Clone() *Contact { return (*Contact)(c.core().Clone()) }

// shared returns c once it owns nothing (contactcore.Contact.Share), as every Contact
// this package hands out does, so that reads and clones of it never write it.
func shared(c *contactcore.Contact) *Contact {
	if c != nil {
		c.Share()
	}
	return (*Contact)(c)
}

// Export is a contact with its events, in the export format of RULES.md, X. The events
// live in the Store; the export shows them when the caller passes them in.
// json.Marshal of a *Contact is the Export without events. The export is for people:
// it holds no merge state (the "clocks" of the storage codec), and reads back as a
// contact whose fields are stamped at the zero time. To keep a contact, use
// [EncodeStorage].
type Export struct {
	Contact *Contact
	Events  []event.Record
}

// MarshalJSON writes the contact in the people format of RULES.md, X, without events
// and without merge clocks.
func (c *Contact) MarshalJSON() ([]byte, error) { return c.core().MarshalJSON() }

// UnmarshalJSON reads a contact export back: its identifiers, times and
// "consentHistory", and its documented fields applied as one message at the zero
// time. A document with "clocks" (one the storage codec wrote, or an export of a
// regalkit that still wrote them) is read exactly, from its clocks. Events, if present,
// are ignored: use [Export.UnmarshalJSON] to read them.
//
// UnmarshalJSON replaces the whole of *c, so it is not safe to call concurrently with
// any other use of c, and it must not be called on a contact handed to a Store's Put
// or Insert: the store may keep that contact, and would see the change (see [Store],
// "Copies"). A contact read from a Store is the caller's own copy.
func (c *Contact) UnmarshalJSON(b []byte) error {
	if err := c.core().UnmarshalJSON(b); err != nil {
		return err
	}
	shared(c.core())
	return nil
}

// MarshalJSON writes the contact with its events (RULES.md, X).
func (e Export) MarshalJSON() ([]byte, error) {
	return contactcore.Export{Contact: e.Contact.core(), Events: e.Events}.MarshalJSON()
}

// UnmarshalJSON reads a contact export with its events.
func (e *Export) UnmarshalJSON(b []byte) error {
	var x contactcore.Export
	if err := x.UnmarshalJSON(b); err != nil {
		return err
	}
	*e = Export{Contact: shared(x.Contact), Events: x.Events}
	return nil
}

// Trait limits (Rule T10): the Processor refuses the traits of a message beyond them,
// each with a trait.limit diagnostic.
const (
	MaxTraits   = 300 // traits a message may carry; the rest are refused
	MaxTraitKey = 255 // characters in a trait key; longer keys are refused
)

// The implementation's limits are these: the build fails when they differ.
const _ = uint(MaxTraits-contactcore.MaxTraits) + uint(contactcore.MaxTraits-MaxTraits) +
	uint(MaxTraitKey-contactcore.MaxTraitKey) + uint(contactcore.MaxTraitKey-MaxTraitKey)

// StorageVersion is the newest version of the document [EncodeStorage] writes, in its
// "storageVersion" key. A change that an older [DecodeStorage] would misread gets a
// new version; DecodeStorage reads every version up to this one. Version 2 added the
// links a delete keeps out of sight (Rule I7, [Contact.Hidden]); a contact without
// them is written as version 1, which older builds read.
const StorageVersion = 2

// The implementation's version is this one: the build fails when they differ.
const _ = uint(StorageVersion-contactcore.StorageVersion) + uint(contactcore.StorageVersion-StorageVersion)

// ErrStorageVersion is returned by [DecodeStorage] for a document of a version it does
// not know: one written by a newer regalkit. Test for it with errors.Is: the error
// says which version the document has and which this build reads up to.
var ErrStorageVersion = errors.New("contact: unknown storage version")

// versionError is the implementation's unknown-version error, reported as
// ErrStorageVersion.
type versionError struct{ err error }

func (e *versionError) Error() string        { return e.err.Error() }
func (e *versionError) Is(target error) bool { return target == ErrStorageVersion }
func (e *versionError) Unwrap() error        { return e.err }

// EncodeStorage writes c in the storage encoding (see [StorageVersion]), for a durable
// Store to keep: every field with the stamp that set it, removed fields included, the
// phone log, links, held messages, former External IDs with their messages, alias
// facts and the consent ledger. It is safe to call concurrently with reads of c. It
// refuses a contact whose id or lookup keys are not valid UTF-8, which the encoding
// (JSON) would write changed.
func EncodeStorage(c *Contact) ([]byte, error) { return contactcore.EncodeStorage(c.core()) }

// DecodeStorage reads a contact that [EncodeStorage] wrote, equal to the one written:
// it keeps merging exactly as the original would (Rule S3). A document without
// "storageVersion" is read as version 1 when it has "clocks": it is what regalkit's
// stores kept before the key existed (json.Marshal of a *Contact). It fails with
// [ErrStorageVersion] for a newer version, and with an error for a malformed document,
// one whose values no message could have made a contact hold (an age that is not one,
// an email without its '@', a phone not in E.164's shape) included; bad input never
// panics.
func DecodeStorage(b []byte) (*Contact, error) {
	c, err := contactcore.DecodeStorage(b)
	if errors.Is(err, contactcore.ErrStorageVersion) {
		return nil, &versionError{err}
	}
	if err != nil {
		return nil, err
	}
	return shared(c), nil
}
