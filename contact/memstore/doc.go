// Package memstore is the in-memory [contact.Store]: the reference implementation of
// the interface, checked clause by clause by package contact/storetest, and the store
// regalkit's examples and tests run on.
//
// A Store is safe for concurrent use. Everything it keeps lives in the process and is
// lost with it.
//
//	store := memstore.New()
//	p := regalkit.New(store, nil) // then p.ProcessBytes, p.Guard, ...
//	cs, err := store.Find(ctx, identity.UserKey("u-1")) // read contacts back
//
// # Transactions
//
// Update runs optimistic transactions. The function given to Update runs without any
// lock held: each read takes the read lock of one stripe (below) just long enough to
// fetch one item, and remembers the item's version; writes are buffered in the
// transaction. When the function returns nil, the commit locks the stripes of
// everything the transaction read or wrote, in ascending stripe order (so that two
// commits never wait for each other), checks that every item read still has the
// version it had, applies the writes and unlocks. If an item changed, a concurrent
// transaction committed first: Update runs the function again, after a short randomized
// wait, and after 100 attempts returns an error matching contact.ErrConflict.
//
// Each new read also checks the items read before it. So the function always sees one
// state of the store, never part of another transaction, even in a run that will not
// commit; and when it returns an error, that error is a real answer, which Update
// returns without running the function again.
//
// Why optimistic: the function applies a whole Segment message (trait merging, consent
// rules, phone parsing), which takes microseconds, while a commit takes a fraction of
// that. Locks held only for the commit keep readers and other writers waiting for the
// short part only, and the function cannot deadlock whatever order it reads contacts
// in. Messages for one contact conflict and run again; messages for different contacts
// do not conflict even when their items share a stripe (versions are per item), and run
// in parallel on every core. No lock or list is shared by all transactions; one atomic
// counter of writing commits is, so that a transaction re-checks its reads only when a
// commit happened since it made them.
//
// # Data layout
//
// The state is split into 256 stripes by a seeded hash. A stripe has one read-write
// lock and holds:
//
//   - the contacts whose id hashes to it, each with its events;
//   - the index entries (Rule I6) of the lookup keys that hash to it: by the key's
//     64-bit hash, the sorted ids of the contacts with such a key. A lookup checks the
//     keys of the contacts it finds, so two keys with one hash cannot mix;
//   - the processed messageIds that hash to it (Rule E2);
//   - a timeline of the events of its contacts, for Recent;
//   - a dictionary of the context strings its events repeat (userAgent, library,
//     locale, page address and title), each kept once with a count of the events that
//     refer to it (dict.go).
//
// A contact, its events and their timeline entries share a stripe; its index entries
// and its messageIds are usually in others, and a commit locks those too.
//
// Every item has a version that changes whenever the item does and never comes back: a
// number from the stripe's counter for a contact; for an index entry, which is never
// changed but replaced, the address of its array (kept alive by any transaction that
// read it); for an absent item, a count of the stripe's removals. So an item removed and
// added back between a read and a commit is still seen to have changed.
//
// Stored contacts are never changed: Put and Insert keep the contact they are given,
// which its caller no longer changes (contact.Store, "Copies"), after making it own
// nothing (contactcore.Contact.Share), and a read copies the stored one after the lock
// is released; the copy shares the contact's memory until it writes (copy-on-write),
// and never writes the stored one. Event records are stored once,
// shared by the contact's list and the timeline, packed into three allocations (the
// record, its text, its JSON object members), so that a stored record never keeps alive
// the buffer it was decoded from; a read copies their JSON objects into two
// allocations and shares their strings. A record's context strings that describe
// software or pages (never its IP address) are, from 16 bytes, kept in its stripe's
// dictionary and referred to by number; an entry goes as soon as no stored event refers
// to it, so deleting a user's events (Rule I7) leaves none of their strings behind. A
// reader resolves the numbers under the stripe's lock, with the events it gathers. Event lists are chunked: inserting a late event or
// removing one moves at most one chunk. Past a few events, a contact also finds its
// events by messageId through a map.
//
// # Reads
//
// Contact reads one stripe. Find is a read-only transaction over the key's index entry
// and the contacts it names. Events gathers the contact's matching records under its
// stripe's lock. Recent and Contacts need one state of the whole store: they read-lock
// every stripe, in order, while they gather pointers (Recent: a merge of the stripes'
// timelines, newest first, up to the query's limit; Contacts: every contact), then
// release the locks and sort and copy. Commits wait while that gathering runs, which
// for Contacts takes some milliseconds per hundred thousand contacts.
//
// # Outbox
//
// The Store implements contact.Outbox (Rules O1, O3): a transaction's Tx takes outbox
// entries, and its commit stores them, while it still holds the locks of what it wrote,
// so that the entries of one contact get increasing Seqs in commit order. One mutex
// guards the outbox: a queue of pending entries per contact, the dead entries, and the
// count of sent ones (a sent entry is not kept), with a heap of the contacts whose first
// entry is due, by due time: Claim takes what it returns off the top, so its cost
// follows the entries it returns, not the contacts waiting. The outbox is lost with the
// process, as everything else is.
//
// # Memory
//
// Beyond the contacts themselves, the store costs per contact a map slot and a 112-byte
// entry (cut from a slab of 18) that holds its event list and key hashes, and per lookup key an 8-byte-keyed map slot holding
// the id (a list only when a key finds several contacts); per event, a 96-byte head and
// one byte array with its strings (but those in the dictionary, about 130 bytes an
// event for a browser's) and packed objects, a slot in the contact's list,
// one in the timeline and one in the index by name, and past a few events a map slot;
// per processed messageId, its bytes with two or three bytes of framing in a block of
// the stripe's and a pointer-free map slot (idset.go). BenchmarkMemoryPerContact
// measures it at a million contacts with the seed's profile.
package memstore
