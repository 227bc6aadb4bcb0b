// Package memstore is the in-memory [contact.Store]: the reference implementation of
// the interface, checked clause by clause by package contact/storetest, and the store
// regalkit's examples and tests run on.
//
// A Store is safe for concurrent use. Everything it keeps lives in the process and is
// lost with it.
//
// # Transactions
//
// Update runs optimistic transactions. The function given to Update runs without any
// lock held: each read takes the read lock of one stripe (below) for as long as it takes
// to fetch one item, and remembers the item's version; writes are buffered in the
// transaction. When the function returns nil, the commit locks the stripes of
// everything the transaction read or wrote, in ascending stripe order (so two commits
// never wait for each other), checks that every item read still has the version it had,
// applies the writes and unlocks. If an item changed, a concurrent transaction
// committed first: Update runs the function again, after a short randomized wait, and
// after [Options.MaxAttempts] attempts returns an error matching contact.ErrConflict.
//
// Each new read also checks the items read before it. So the function always sees one
// state of the store, never part of another transaction, and when it returns an error
// that error is a real answer: Update returns it without running the function again.
//
// Why optimistic: the function applies a whole Segment message (trait merging, consent
// rules, phone parsing), which takes microseconds, while a commit takes a fraction of
// that. Locks held only for the commit keep readers and other writers of the same
// stripe waiting for the short part only, and the function cannot deadlock whatever
// order it reads contacts in. Messages for one contact conflict and retry; messages for
// different contacts almost never share a stripe, so they run in parallel on every core.
//
// # Data layout
//
// The state is split into 256 stripes by a seeded hash of each item's identity. A
// stripe has one read-write lock and holds: the contacts whose id hashes to it, each
// with its events; the index entries of the lookup keys that hash to it, each with the
// sorted ids of the contacts the key finds (Rule I6); the processed messageIds that hash
// to it (Rule E2); and a timeline of the events of its contacts, newest last, for
// Recent. A contact, its events and its timeline entries are in one stripe; its index
// keys are usually in others, and a commit locks those too.
//
// Every item has a version: a number from its stripe's counter, new at each change. An
// absent item's version comes from a count of the stripe's removals, so an item removed
// and added back between a read and a commit is still seen to have changed.
//
// Stored contacts are copies and are never changed: Put stores a new one. A read copies
// the stored contact after the lock is released. Events are stored once, shared by the
// contact's list and the timeline, with all their strings and property values packed in
// one allocation; lists are chunked so that inserting a late event or removing one moves
// at most a chunk. A contact with more than a few events also finds them by messageId
// through a map.
//
// # Reads
//
// Contact reads one stripe. Find is a read-only transaction over the key's index entry
// and the contacts it names. Events gathers the contact's matching records under its
// stripe's lock. Recent and Contacts need one state of the whole store: they read-lock
// all stripes in order while they gather pointers (Recent: a merge of the stripes'
// timelines, newest first, up to the query's limit; Contacts: every contact), release
// them, and then sort and copy. Commits wait for that gathering, which takes about a
// millisecond per hundred thousand contacts for Contacts.
//
// # Memory
//
// Beyond the contacts themselves, the store costs per contact a map slot and a small
// entry, and per lookup key a map slot with a one-element slice; per event the record
// (one allocation for its text, one for its property list), two list slots and, past a
// few events, a map slot; and per processed messageId a copy of the id and a map slot.
// BenchmarkMemoryPerContact measures it at a million contacts.
package memstore
