package contact

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/msgorder"
)

// Errors a Store returns. Implementations return these sentinels (or errors that wrap
// them) so that callers can use errors.Is whatever the store.
var (
	// ErrNotFound: no contact has the id asked for.
	ErrNotFound = errors.New("contact: not found")
	// ErrConflict: a concurrent transaction changed what this one read. Update retries
	// the transaction itself; a store returns ErrConflict from Update only when it gave
	// up retrying.
	ErrConflict = errors.New("contact: conflict")
	// ErrExists: Insert was given an id that a contact already has.
	ErrExists = errors.New("contact: already exists")
)

// Store keeps contacts, their events and the messageIds already processed. regalkit
// ships an in-memory Store (package contact/memstore); package contact/storetest checks
// any implementation against every clause below, one named subtest per clause.
//
// # Transactions
//
// All changes go through Update, which runs fn in a transaction: fn reads and writes
// through the [Tx], and when fn returns nil the transaction commits: all of its writes
// become visible at once, and no reader ever sees part of them. When fn returns an
// error, or ctx is done before the commit, nothing fn wrote is kept and Update returns
// that error (ctx.Err() for a done context). Two transactions that touch the same
// contact, messageId, lookup key or userId tombstone never both commit as if the other
// had not run: the store serializes them (by locking, or by detecting the conflict and
// running fn again). So Update may call fn more than once; fn must have no effects
// outside tx that a repeat would double. Transactions over different contacts should
// run in parallel.
//
// # Copies
//
// Insert and Put take the contact they are given: the store may keep it as it is, and
// the caller must not change it afterwards, in the transaction or after it. That costs
// callers nothing, because nothing outside this module can change a [Contact]: it has
// no mutators (the Processor changes contacts through an internal package, and never
// changes one once it has handed it to Insert or Put). The one method that changes a
// Contact, [Contact.UnmarshalJSON], replaces it whole and must not be called on a
// contact given to a store (nor may a caller assign to *c). Every Contact is safe for
// concurrent reads, Clone included, so a store may hand the contact it keeps to many
// readers at once and copy it for each.
//
// Every read returns a copy the caller owns: Contact, Find and Contacts, in a
// transaction or not, and the event records of Events, Recent and Named. The Processor
// changes the contacts it reads, and changing a read copy never changes stored state
// nor another caller's copy; a later read returns what was last put. AddEvent copies
// the record it is given: changing the record afterwards never changes stored state
// (the Processor reuses the memory of a streamed message's properties once the
// message is processed).
//
// Why Insert and Put do not copy: a Contact has no methods that change it, and a copy
// of the whole contact on every write was 12% of the bytes the Processor allocated per
// message when stores made it (BenchmarkPipeline on memstore, at the time: 6,551 B and
// 42.65 allocations a message with the copy, 5,753 B and 41.44 without). A store keeps
// the contact as it is given; it needs to call nothing on it.
//
// # Lookups
//
// A contact is found by every key in [Contact.Keys]: its External ID and former
// External IDs, its anonymous IDs, its phones and its email (Rule I6), and, for one
// that keeps what a delete left (see "Hidden contacts"), the deleted users' userIds as
// keys of kind identity.DeletedUserID. A store indexes every kind alike. The store keeps
// that index itself, from the contact as last Put. One key may find several contacts
// (an anonymous ID shared by two users, Rule I4; a phone two people share).
//
// # Hidden contacts
//
// A contact whose [Contact.Hidden] is true shows nothing: it keeps, out of sight, what
// a delete must go on hiding whatever arrives later (Rule I7). A store keeps and indexes
// it like any other, and a transaction's reads (Tx.Contact, Tx.Find, an IDFinder's
// FindIDs) find it; the Store's own reads (Contact, Find, Contacts) skip it, as if it
// were not there. Whether a contact is hidden is read from the contact as last Put.
//
// # Events
//
// Each contact has a list of event records (Rule E1), at most one per messageId
// (Rule E2). Deleting a contact deletes its events (Rule I7).
//
// # Processed messages and tombstones
//
// The store remembers every messageId marked processed (Rule E2) and the latest delete
// of each userId (Rule I7), independently of contacts: deleting a contact forgets
// neither.
//
// # Reads outside transactions
//
// Contact, Find, Events, Recent, Contacts and Named read committed state. Each call sees a
// state some transaction committed; iterators may reflect transactions that commit
// while they run, but never part of one transaction. An iterator stops with ctx.Err()
// when ctx is done.
//
// # Concurrency
//
// A Store is safe for concurrent use by multiple goroutines.
type Store interface {
	// Update runs fn in a transaction, as described above. It returns fn's error, the
	// context's error, or an error of the store's own (which matches ErrConflict when
	// it gave up retrying a conflict).
	Update(ctx context.Context, fn func(tx Tx) error) error

	// Contact returns a copy of the contact with the id, or ErrNotFound; ErrNotFound for
	// a hidden contact too (see "Hidden contacts").
	Contact(ctx context.Context, id string) (*Contact, error)

	// Find returns copies of the contacts that key finds, sorted by id, hidden contacts
	// left out; none is an empty result, not an error.
	Find(ctx context.Context, key identity.Key) ([]*Contact, error)

	// Events yields the contact's event records that match q, in event-time order, then
	// messageId (Rule E4). An unknown contact yields nothing.
	Events(ctx context.Context, contactID string, q EventQuery) iter.Seq2[event.Record, error]

	// Recent yields the event records of all contacts that match q, newest first (event
	// time, then messageId, descending), with the id of the contact each belongs to:
	// Regal's Recent Activity (Rule E4). q.Limit bounds the count.
	Recent(ctx context.Context, q EventQuery) iter.Seq2[ContactEvent, error]

	// Contacts yields a copy of every contact but the hidden ones, sorted by id.
	Contacts(ctx context.Context) iter.Seq2[*Contact, error]

	// Named yields the event records of all contacts whose name is q.Name and that
	// match the rest of q, oldest first (event time, then messageId, then contact id),
	// with the id of the contact each belongs to: the query of journey triggers
	// (package trigger, Rule J2). q.Limit bounds the count. An empty q.Name yields
	// nothing. A store answers it from an index by event name and time, so that its
	// cost follows the records in the range, not every event stored.
	Named(ctx context.Context, q EventQuery) iter.Seq2[ContactEvent, error]
}

// Tx is a transaction of a [Store]. It is valid only inside the function given to
// Update, and only for the goroutine running it.
//
// Reads in a transaction see the transaction's own writes.
type Tx interface {
	// Contact returns a copy of the contact with the id, or ErrNotFound.
	Contact(id string) (*Contact, error)

	// Find returns copies of the contacts key finds, sorted by id.
	Find(key identity.Key) ([]*Contact, error)

	// Insert stores a new contact under c.ID(), indexed by c.Keys(). It returns
	// ErrExists when the id is taken, and an error when the id is empty. The store may
	// keep c itself: the caller must not change c afterwards (see Store, "Copies").
	Insert(c *Contact) error

	// Put replaces the stored contact with the same id, re-indexing it by c.Keys(). It
	// returns ErrNotFound when there is no such contact. The store may keep c itself:
	// the caller must not change c afterwards (see Store, "Copies").
	Put(c *Contact) error

	// Delete removes the contact, its index entries and its events (Rule I7). It
	// returns ErrNotFound when there is no such contact.
	Delete(id string) error

	// AddEvent adds an event record to the contact's list. A record whose messageId the
	// contact already has is not added, and AddEvent reports false (Rule E2). It
	// returns ErrNotFound when there is no such contact.
	//
	// The record must be one a message could give, as the Processor's always are: a
	// valid kind, a time within the years 1677 to 2262, and objects that can be written
	// as JSON and read back the same (event.Message.CheckJSON's rules). A store may
	// refuse another with an error (contact/pgstore does, for its objects); one that
	// keeps it (contact/memstore does not check, to keep the check off every message's
	// path) may then fail to export it.
	AddEvent(contactID string, r event.Record) (added bool, err error)

	// Events yields the contact's event records that match q, as Store.Events does.
	Events(contactID string, q EventQuery) iter.Seq2[event.Record, error]

	// DeleteEvents removes the contact's event records with the given messageIds, and
	// reports how many there were. Unknown messageIds are not an error. It returns
	// ErrNotFound when there is no such contact.
	DeleteEvents(contactID string, messageIDs ...string) (int, error)

	// Processed reports whether a messageId was marked processed (Rule E2).
	Processed(messageID string) (bool, error)

	// MarkProcessed records that a messageId was processed. Marking it again is not an
	// error.
	MarkProcessed(messageID string) error

	// Tombstone returns the latest delete recorded for a userId (Rule I7), and false
	// when there is none.
	Tombstone(userID string) (Tombstone, bool, error)

	// PutTombstone records a delete. Of two deletes of the same userId the later one
	// (by Time, then MessageID) stands, whatever order they are put in. Tombstones
	// outlive the contact they deleted.
	PutTombstone(t Tombstone) error
}

// IDFinder is what a [Tx] may offer beyond the interface: the ids of the contacts
// Tx.Find would return for key, sorted by id, without copying them, for a caller that
// reads the contacts it needs through Tx.Contact anyway (the Processor does, and so
// skips one contact copy a lookup). The answer is the Tx's, own writes included, and
// the same as the ids of Find's contacts at that moment. The slice may be the Tx's own
// memory: it stays valid at least until the next call on the Tx, and the caller does
// not change it. contact/memstore and contact/pgstore offer it; the kit checks it
// (storetest, Find/IDsAreFindsIDs) when a store's Tx does.
type IDFinder interface {
	FindIDs(key identity.Key) ([]string, error)
}

// Tombstone is what a delete leaves (Rule I7): the userId and the delete message's
// event time and messageId. A message for that user that happened before it is
// discarded; one that happened after it starts a fresh contact.
type Tombstone struct {
	UserID    string
	Time      time.Time
	MessageID string
}

// Covers reports whether a message at (t, messageID) happened before the delete, and
// so is discarded (Rule I7). Equal times are ordered by messageId.
func (ts Tombstone) Covers(t time.Time, messageID string) bool {
	return contactcore.CompareStamps(t, messageID, ts.Time, ts.MessageID) < 0
}

// After reports whether ts is a later delete than o: by time, then messageId.
func (ts Tombstone) After(o Tombstone) bool {
	return contactcore.CompareStamps(ts.Time, ts.MessageID, o.Time, o.MessageID) > 0
}

// EventQuery filters event records (Rule E4). The zero EventQuery matches every record.
type EventQuery struct {
	Kind  event.Kind // only records of this kind; zero for all
	Name  string     // only records with this name; empty for all
	Since time.Time  // only records at or after this event time; zero for no bound
	Until time.Time  // only records before this event time; zero for no bound
	Limit int        // at most this many records, the first in listing order; zero or less for all
}

// Match reports whether r passes the filters of q (all but Limit).
func (q EventQuery) Match(r *event.Record) bool {
	return (q.Kind == 0 || r.Kind == q.Kind) &&
		(q.Name == "" || r.Name == q.Name) &&
		(q.Since.IsZero() || !r.Time.Before(q.Since)) &&
		(q.Until.IsZero() || r.Time.Before(q.Until))
}

// ContactEvent is an event record with the id of the contact it belongs to.
type ContactEvent struct {
	ContactID string
	Record    event.Record
}

// CompareEvents orders event records as Events yields them: by event time, then
// messageId.
func CompareEvents(a, b *event.Record) int {
	return msgorder.Compare(a.Time, a.MessageID, b.Time, b.MessageID)
}
