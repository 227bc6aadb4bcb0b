package contact

import (
	"context"
	"errors"
	"time"

	"github.com/regalkit/regalkit/event"
)

// Errors of an [Outbox]. Implementations return these sentinels, or errors that wrap
// them.
var (
	// ErrLeaseLost: the entry is no longer leased under the token given: its lease
	// expired and another claim took it, or it was already settled.
	ErrLeaseLost = errors.New("contact: outbox lease lost")
)

// OutboxState is where an outbox entry stands.
type OutboxState uint8

// The states of an outbox entry.
const (
	// OutboxPending: not yet delivered; due at NextAttempt.
	OutboxPending OutboxState = iota
	// OutboxSent: delivered (or found to have nothing to deliver). Final.
	OutboxSent
	// OutboxDead: refused for good, with its reason. Final, and it blocks nothing.
	OutboxDead
)

// String returns "pending", "sent" or "dead".
func (s OutboxState) String() string {
	switch s {
	case OutboxSent:
		return "sent"
	case OutboxDead:
		return "dead"
	}
	return "pending"
}

// OutboxEntry is one thing a message asks to be sent to Regal: the contact whose
// current state changed, and the event the message recorded, if any. What is sent is
// read at send time: the contact as it is then, with the entry's event.
type OutboxEntry struct {
	// Seq is the store-assigned position of the entry: entries of one contact get
	// increasing Seqs in the order their transactions commit. Zero until stored.
	Seq int64
	// ContactID is the contact the entry is about.
	ContactID string
	// MessageID is the message that made the entry.
	MessageID string
	// Event is the event record the message recorded, when it recorded one to send;
	// nil for a change of traits, phones or consent only.
	Event *event.Record
	// Created is when the entry was made (the processor's clock).
	Created time.Time

	// The fields below are the store's: Enqueue ignores them.

	// State is where the entry stands.
	State OutboxState
	// Attempts counts the claims of the entry so far.
	Attempts int
	// NextAttempt is when a pending entry is next due; zero means at once.
	NextAttempt time.Time
	// Lease is the token of the claim that holds the entry; LeaseUntil is when that
	// claim expires. Empty and zero when no claim holds it.
	Lease      string
	LeaseUntil time.Time
	// Reason is why the last attempt failed, or why the entry is dead.
	Reason string
}

// OutboxTx is the part of a [Tx] that writes to an [Outbox] (Rule O1): the Tx of a
// store that implements Outbox implements it too.
type OutboxTx interface {
	// Enqueue adds an entry, as part of the transaction: it is stored if and only if
	// the transaction commits, and becomes claimable when it does. The store assigns
	// Seq and sets the entry pending and due at once. It returns an error when
	// ContactID or MessageID is empty. It copies the entry, its event included:
	// changing them afterwards never changes what is stored (the Processor reuses the
	// memory of a streamed message's properties once the message is processed).
	Enqueue(e OutboxEntry) error
}

// OutboxStats counts the entries of an outbox, for a health check.
type OutboxStats struct {
	Pending int // entries not yet delivered, leased ones included
	Sent    int // entries delivered since the store was created
	Dead    int // entries refused for good
	// OldestPending is the Created time of the oldest pending entry; zero when none.
	OldestPending time.Time
}

// Outbox is an optional interface of a [Store]: a transactional outbox (Rules O1, O3;
// see RULES.md). The Processor
// adds entries inside the transaction that applies a message (through [OutboxTx]), so
// a change is never committed without its entry nor an entry without its change; a
// forwarder claims them and sends them. Package contact/storetest checks every clause
// below, one named subtest per clause, for a store that implements it.
//
// # Order per contact
//
// Entries of one contact are delivered in Seq order: Claim returns at most one entry
// per contact, the pending entry of that contact with the smallest Seq, and none of a
// contact whose first pending entry is leased or not yet due. A dead entry blocks
// nothing: the contact's next entry becomes its first.
//
// # Leases
//
// Claim leases each entry it returns under a fresh token until now + lease. Until
// then no other claim returns the entry, nor any other entry of its contact; after
// then the entry can be claimed again (its first claimer crashed, or is too slow).
// Settling the entry (Ack, Retry, Park) needs the token of the latest claim of it, and
// returns ErrLeaseLost otherwise: a claimer whose lease expired and was taken by another
// claim learns that the entry may be sent twice. A token stays good past its LeaseUntil
// as long as no other claim took the entry. Retry ends the lease early and makes the
// entry due again at the time it names.
//
// # Sharing
//
// Several claimers, in one process or many, may call Claim at once: no entry is
// returned to two of them under live leases.
//
// # Concurrency
//
// The methods are safe for concurrent use, as the Store's are.
type Outbox interface {
	// Claim leases and returns up to max pending entries that are due at now (their
	// NextAttempt is zero or not after now) and whose lease, if any, has expired, at
	// most one per contact as described above: first the entries not tried yet, by Seq,
	// then the others in the order they became due (a retried one at its NextAttempt,
	// one whose lease expired at its LeaseUntil), then by Seq. Each returned entry
	// has its Attempts increased by one, Lease set to a fresh token and LeaseUntil to
	// now + lease. No entry due is an empty result, not an error.
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]OutboxEntry, error)

	// Ack marks the entry with the Seq as sent: it is never claimed again. It returns
	// ErrLeaseLost unless the entry is pending and leased under token.
	Ack(ctx context.Context, seq int64, token string) error

	// Retry ends the lease and leaves the entry pending, due at next, with reason kept
	// as its Reason. It returns ErrLeaseLost unless the entry is pending and leased
	// under token.
	Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error

	// Park marks the entry dead with reason: it is never claimed again, and the
	// contact's next entry becomes due. It returns ErrLeaseLost unless the entry is
	// pending and leased under token.
	Park(ctx context.Context, seq int64, token string, reason string) error

	// OutboxStats counts the entries by state.
	OutboxStats(ctx context.Context) (OutboxStats, error)

	// DeadEntries yields the dead entries, by Seq, with their reasons.
	DeadEntries(ctx context.Context) ([]OutboxEntry, error)
}
