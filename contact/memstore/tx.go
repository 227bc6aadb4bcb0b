package memstore

import (
	"context"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// itemKind is the kind of a stored item a transaction reads.
type itemKind uint8

const (
	itemContact   itemKind = iota + 1 // a contact with its events, by id
	itemKey                           // an index key with the ids it finds
	itemProcessed                     // a processed messageId
	itemTombstone                     // the latest delete of a userId
)

// read is one item a transaction has read, with the version it had. The transaction
// uses the value it read for every later read of the item, and commits only if every
// item still has that version.
type read struct {
	kind    itemKind
	stripe  uint8
	version uint64
	id      string             // itemContact: contact id; itemProcessed: messageId; itemTombstone: userId; itemKey: the one id the key finds, if one
	keyHash uint64             // itemKey: the hash of the key; itemProcessed: hasher.processedHash
	c       *contact.Contact   // itemContact: the stored contact; nil when absent
	keys    keyHashes          // itemContact: the stored contact's key hashes (entry.keys), copied
	ts      *contact.Tombstone // itemTombstone: the stored tombstone; nil when none
	ids     []string           // itemKey: the ids the key finds, when more than one
}

// readKey is what a read is of: a contact, a processed messageId or a tombstone by
// id, an index entry by key hash.
type readKey struct {
	kind itemKind
	id   string
	hash uint64
}

// key returns what r is a read of.
func (r *read) key() readKey {
	if r.kind == itemKey {
		return readKey{kind: itemKey, hash: r.keyHash}
	}
	return readKey{kind: r.kind, id: r.id}
}

// minReadIndex is the number of reads from which a transaction finds them by an
// index rather than by a scan: a message reads about five.
const minReadIndex = 32

// findRead returns the transaction's read of k, if it made one.
func (t *tx) findRead(k readKey) (read, bool) {
	if t.readIndex != nil {
		i, ok := t.readIndex[k]
		if !ok {
			return read{}, false
		}
		return t.reads[i], true
	}
	for i := range t.reads {
		if r := &t.reads[i]; r.key() == k {
			return *r, true
		}
	}
	return read{}, false
}

// versionIn returns the item's version now. The caller holds the stripe's lock.
func (r *read) versionIn(st *stripe) uint64 {
	switch r.kind {
	case itemContact:
		return st.contactVersion(r.id)
	case itemKey:
		return st.keyVersion(r.keyHash)
	case itemTombstone:
		return st.tombstoneVersion(r.id)
	}
	return st.processedVersion(r.keyHash, r.id)
}

// change is what a transaction does to one contact. It exists once the transaction has
// written the contact (Insert, Put, Delete, AddEvent or DeleteEvents that removed
// something).
type change struct {
	id     string
	stripe uint8
	base   *contact.Contact // as stored when read; nil when absent
	// baseKeys are the stored entry's key hashes (entry.keys) when read; keyHashes
	// are the ones the commit stores (computed by the commit, when put).
	baseKeys, keyHashes keyHashes
	final               *contact.Contact // as the transaction leaves it, never changed; nil when deleted
	put                 bool             // final was set by Insert or Put, so its keys may differ from base's
	reset               bool             // the stored events are dropped (the contact was deleted)
	keys                []identity.Key   // final's keys, once computed; its memory is kept for the next transaction
	keysOK              bool             // keys is computed
	// keySet holds keys too, when there are many and they were scanned a few times:
	// Tx.Find looks at every changed contact's keys, and a user may have thousands of
	// anonymous IDs (issue 14's hostile-sender review). nil otherwise.
	keySet   map[identity.Key]struct{}
	keyScans int // scans of keys since they were computed

	added     []*storedEvent          // events added, in the order added
	addedByID map[string]*storedEvent // the added events by messageId, once there are many
	pending   []string                // the dictionary strings the added events' references stand for (Store.newEvent)
	// pendingBuf holds pending while it is short: no allocation for it in most
	// transactions, even when the pool of changes was just emptied by the GC.
	pendingBuf [4]string
	removed    []string // messageIds of stored events removed (never when reset)
	// removedSet holds removed too once it is long: a transaction that moves thousands
	// of an anonymous ID's events (a link, Rule I4) looked each one up in the list
	// (issue 14's hostile-sender review).
	removedSet map[string]struct{}
}

// isRemoved reports whether the transaction removed the stored event with the messageId.
func (ch *change) isRemoved(messageID string) bool {
	if ch.removedSet != nil {
		_, ok := ch.removedSet[messageID]
		return ok
	}
	return slices.Contains(ch.removed, messageID)
}

// remove notes that the transaction removed the stored event with the messageId.
func (ch *change) remove(messageID string) {
	ch.removed = append(ch.removed, messageID)
	switch {
	case ch.removedSet != nil:
		ch.removedSet[messageID] = struct{}{}
	case len(ch.removed) > 32:
		ch.removedSet = make(map[string]struct{}, 2*len(ch.removed))
		for _, m := range ch.removed {
			ch.removedSet[m] = struct{}{}
		}
	}
}

// finalKeys returns the keys the contact is indexed by when the transaction commits.
func (ch *change) finalKeys() []identity.Key {
	if ch.final == nil {
		return nil
	}
	if !ch.keysOK {
		// Into the change's own slice, kept with the change between transactions.
		clear(ch.keys) // what a longer list left past the new one's end
		ch.keys, ch.keysOK = (*contactcore.Contact)(ch.final).AppendKeys(ch.keys[:0]), true
		ch.keySet, ch.keyScans = nil, 0
	}
	return ch.keys
}

// A change keeps its keys in a set too once they number minKeySet or more and were
// scanned maxKeyScans times: a transaction that looks up a few keys scans them, one
// that looks up thousands (a regroup's every anonymous ID) builds the set once.
const (
	minKeySet   = 32
	maxKeyScans = 8
)

// hasFinalKey reports whether k is one of finalKeys.
func (ch *change) hasFinalKey(k identity.Key) bool {
	keys := ch.finalKeys()
	if ch.keySet == nil && (len(keys) < minKeySet || ch.keyScans < maxKeyScans) {
		ch.keyScans++
		return slices.Contains(keys, k)
	}
	if ch.keySet == nil {
		ch.keySet = make(map[identity.Key]struct{}, len(keys))
		for _, key := range keys {
			ch.keySet[key] = struct{}{}
		}
	}
	_, ok := ch.keySet[k]
	return ok
}

// setFinal sets the contact as the transaction leaves it, from Insert or Put. The store
// keeps c itself, which the caller no longer changes (contact.Store, "Copies"), once
// it owns nothing: readers in other goroutines clone it after the commit, and a clone
// of a contact that owns nothing never writes it (contactcore.Contact.Share). Contacts
// from outside the module already own nothing; Share then only reads.
func (ch *change) setFinal(c *contact.Contact) {
	(*contactcore.Contact)(c).Share()
	ch.final = c
	ch.put = true
	ch.keysOK = false
}

func (ch *change) addedEvent(messageID string) (int, bool) {
	if ch.addedByID != nil {
		ev, ok := ch.addedByID[messageID]
		if !ok {
			return 0, false
		}
		return slices.Index(ch.added, ev), true
	}
	i := slices.IndexFunc(ch.added, func(ev *storedEvent) bool { return ev.messageID() == messageID })
	return i, i >= 0
}

// tx is the store's contact.Tx: an optimistic transaction. It reads committed state
// without holding any lock, keeps what it read with its version, and buffers its writes;
// the commit applies them only if nothing it read has changed since.
//
// The tx itself is a small handle that lives as long as a caller keeps it; what it
// read and wrote is in a txState taken from a pool and put back when Update returns
// (release), so that a transaction allocates its bookkeeping only when it outgrows
// what earlier ones left (issue 14: newTx was 5% of the bytes a message allocates).
// Every method checks usable first, so a handle kept past its Update never touches a
// state that another transaction now uses.
type tx struct {
	s   *Store
	ctx context.Context

	// seen is a count of commits (Store.commits) at which every read so far was known
	// to hold; see addRead.
	seen uint64

	closed bool // Update has returned: the Tx may no longer be used
	// stale is set when a read finds that an earlier read no longer holds: the
	// transaction's view is no longer one state of the store, so it cannot commit and
	// Update runs fn again. Every method fails from then on.
	stale bool

	*txState // nil once released
}

// txState is what a transaction read and wrote.
type txState struct {
	reads []read
	// readIndex finds a read in reads by what it read, once there are many: a
	// transaction that reads every anonymous ID of a user (a regroup, Rule I5) read
	// each one after scanning all the earlier reads (issue 14's hostile-sender review).
	readIndex  map[readKey]int
	changes    []*change
	processed  []string              // messageIds marked processed
	tombstones []contact.Tombstone   // tombstones put, the latest of each userId
	outbox     []contact.OutboxEntry // outbox entries enqueued (see outbox.go)
	foundIDs   []string              // backs the results of FindIDs
	packBuf    []byte                // the scratch buffer events are packed in (packEventRefs)

	spare []*change // changes of earlier transactions, to reuse
}

var txStates = sync.Pool{New: func() any {
	// Room for a typical transaction (a messageId, a key, a contact or two).
	return &txState{reads: make([]read, 0, 8), changes: make([]*change, 0, 2), processed: make([]string, 0, 1), foundIDs: make([]string, 0, 4)}
}}

// maxPooled bounds the length of a slice a txState keeps for the next transaction, so
// that one huge transaction does not pin its bookkeeping in the pool.
const maxPooled = 64

// txSlab is an array that tx handles are cut from, a slot each, so that a transaction
// does not allocate its handle on its own (issue 14: it was one allocation a message).
// A slot is handed out once and never reused: a handle kept past its Update stays
// closed, and only keeps its slab alive; release drops a handle's Store and context,
// so that a slab keeps neither alive. 42 handles of 48 bytes fill a 2 KB size class.
type txSlab struct {
	next int
	txs  [42]tx
}

var txSlabs = sync.Pool{New: func() any { return new(txSlab) }}

// newTx returns a transaction of s under ctx.
func newTx(s *Store, ctx context.Context) *tx {
	sl := txSlabs.Get().(*txSlab)
	t := &sl.txs[sl.next]
	if sl.next++; sl.next < len(sl.txs) {
		txSlabs.Put(sl)
	}
	// seen is loaded before the first read.
	*t = tx{s: s, ctx: ctx, seen: s.commits.Load(), txState: txStates.Get().(*txState)}
	return t
}

// release closes the transaction and puts its state back in the pool, cleared so that
// the pool keeps no stored contact or event alive.
func (t *tx) release() {
	st := t.txState
	// Every method checks usable, which fails on closed before it looks at ctx.
	t.closed, t.txState, t.s, t.ctx = true, nil, nil, nil
	if st == nil {
		return
	}
	for _, ch := range st.changes {
		if len(st.spare) < maxPooled {
			added, removed, keys, pending := reuse(ch.added), reuse(ch.removed), reuse(ch.keys), reuse(ch.pending)
			*ch = change{added: added, removed: removed, keys: keys, pending: pending}
			st.spare = append(st.spare, ch)
		}
	}
	st.reads = reuse(st.reads)
	st.readIndex = nil
	st.changes = reuse(st.changes)
	st.processed = reuse(st.processed)
	st.tombstones = reuse(st.tombstones)
	st.outbox = reuse(st.outbox)
	st.foundIDs = reuse(st.foundIDs)
	txStates.Put(st)
}

// reuse returns s cleared and emptied, or nil when it is too big to keep.
func reuse[S ~[]E, E any](s S) S {
	if cap(s) > maxPooled {
		return nil
	}
	clear(s)
	return s[:0]
}

var _ contact.Tx = (*tx)(nil)

// usable returns the error every method returns when the transaction can no longer be
// used.
func (t *tx) usable() error {
	switch {
	case t.closed:
		return errClosed
	case t.stale:
		return errStale
	}
	return t.ctx.Err()
}

// addRead records r and checks that every read, r included, still holds. Since r was read
// before the check, all the reads then hold at the moment r was read: the transaction
// always sees one state of the store (no transaction sees half of another, even before
// it commits). Versions never repeat, so "still holds" means "held throughout".
//
// The check is skipped when no commit has completed since the last one (Store.commits
// is still t.seen): a commit that changed an earlier read counts itself, while it still
// holds the locks of what it wrote, before anyone can read what it wrote; so with the
// count unchanged, r and every earlier read are of one state. With one writer at a
// time this skips every check (issue 14: each read re-checked all earlier ones).
func (t *tx) addRead(r read) (read, error) {
	// r is recorded first, so that the check covers it too: a commit counted in c may
	// have changed r's item after r was read, and once t.seen is c nothing would check
	// r again (a lost update).
	t.reads = append(t.reads, r)
	switch {
	case t.readIndex != nil:
		t.readIndex[r.key()] = len(t.reads) - 1
	case len(t.reads) == minReadIndex:
		t.readIndex = make(map[readKey]int, 2*minReadIndex)
		for i := range t.reads {
			t.readIndex[t.reads[i].key()] = i
		}
	}
	if c := t.s.commits.Load(); c != t.seen {
		// Loaded before the check: commits it counts wrote before it, so the check
		// sees them, and later ones change the count again.
		if !t.s.valid(t.reads, false) {
			t.stale = true
			return read{}, errStale
		}
		t.seen = c
	}
	return r, nil
}

// readContact returns the read of the contact with the id, reading it if this
// transaction has not yet.
func (t *tx) readContact(id string) (read, error) {
	if r, ok := t.findRead(readKey{kind: itemContact, id: id}); ok {
		return r, nil
	}
	r := read{kind: itemContact, stripe: t.s.hash.contact(id), id: id}
	st := &t.s.stripes[r.stripe]
	st.mu.RLock()
	e, version := st.contactEntry(id)
	r.version = version
	if e != nil {
		r.c, r.keys = e.c, e.keys
	}
	st.mu.RUnlock()
	return t.addRead(r)
}

// readKey returns the read of the index entry of k's hash.
func (t *tx) readKey(k identity.Key) (read, error) {
	h := t.s.hash.key(k)
	if r, ok := t.findRead(readKey{kind: itemKey, hash: h}); ok {
		return r, nil
	}
	r := read{kind: itemKey, stripe: stripeOf(h), keyHash: h}
	st := &t.s.stripes[r.stripe]
	st.mu.RLock()
	switch e, ok := st.keys[h]; { // one lookup for the version and the ids
	case !ok:
		r.version = st.keysGone | absent
	case e.more != nil:
		r.version, r.ids = e.version, *e.more
	default:
		r.version, r.id = e.version, e.one
	}
	st.mu.RUnlock()
	return t.addRead(r)
}

func (t *tx) readProcessed(messageID string) (read, error) {
	if r, ok := t.findRead(readKey{kind: itemProcessed, id: messageID}); ok {
		return r, nil
	}
	h := t.s.hash.processedHash(messageID)
	r := read{kind: itemProcessed, stripe: processedStripe(h), id: messageID, keyHash: h}
	st := &t.s.stripes[r.stripe]
	st.mu.RLock()
	r.version = st.processedVersion(h, messageID)
	st.mu.RUnlock()
	return t.addRead(r)
}

func (t *tx) readTombstone(userID string) (read, error) {
	if r, ok := t.findRead(readKey{kind: itemTombstone, id: userID}); ok {
		return r, nil
	}
	r := read{kind: itemTombstone, stripe: t.s.hash.tombstone(userID), id: userID}
	st := &t.s.stripes[r.stripe]
	st.mu.RLock()
	te, ok := st.tombstones[userID]
	st.mu.RUnlock()
	if ok {
		ts := te.ts // only a found tombstone moves to the heap
		r.version, r.ts = te.version, &ts
	}
	return t.addRead(r)
}

// storedEvents calls fn with the stored entry of the contact, under its stripe's read
// lock, if the contact is still as this transaction read it: its events are part of it.
func (t *tx) storedEvents(id string, fn func(e *entry)) error {
	r, err := t.readContact(id)
	if err != nil {
		return err
	}
	st := &t.s.stripes[r.stripe]
	st.mu.RLock()
	defer st.mu.RUnlock()
	e, version := st.contactEntry(r.id)
	if version != r.version {
		t.stale = true
		return errStale
	}
	if e != nil {
		fn(e)
	}
	return nil
}

// hasStored reports whether the stored contact has an event with the messageId.
func (t *tx) hasStored(id, messageID string) (bool, error) {
	var stored bool
	err := t.storedEvents(id, func(e *entry) { stored = e.event(messageID) != nil })
	return stored, err
}

func (t *tx) change(id string) *change {
	for _, ch := range t.changes {
		if ch.id == id {
			return ch
		}
	}
	return nil
}

// current returns the contact with the id as this transaction sees it (nil when there
// is none), its change if it has one, and its read.
func (t *tx) current(id string) (*contact.Contact, *change, read, error) {
	if ch := t.change(id); ch != nil {
		return ch.final, ch, read{}, nil
	}
	r, err := t.readContact(id)
	return r.c, nil, r, err
}

// newChange starts the change of a contact read as r.
func (t *tx) newChange(r read) *change {
	var ch *change
	if n := len(t.spare); n > 0 {
		ch = t.spare[n-1]
		t.spare[n-1] = nil
		t.spare = t.spare[:n-1]
	} else {
		ch = new(change)
	}
	*ch = change{id: r.id, stripe: r.stripe, base: r.c, baseKeys: r.keys, final: r.c, added: ch.added, removed: ch.removed, keys: ch.keys, pending: ch.pending}
	t.changes = append(t.changes, ch)
	return ch
}

// Contact implements contact.Tx.
func (t *tx) Contact(id string) (*contact.Contact, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	c, _, _, err := t.current(id)
	switch {
	case err != nil:
		return nil, err
	case c == nil:
		return nil, notFound(id)
	}
	return c.Clone(), nil
}

// Find implements contact.Tx.
func (t *tx) Find(k identity.Key) ([]*contact.Contact, error) {
	var buf [4]*contact.Contact
	found, err := t.find(k, buf[:0])
	if err != nil {
		return nil, err
	}
	out := make([]*contact.Contact, len(found))
	for i, c := range found {
		out[i] = c.Clone()
	}
	return out, nil
}

// FindIDs implements [contact.IDFinder]: the ids of the contacts Find would return, in
// the same order, without copying the contacts. A caller that goes on to read some of them with
// Contact saves a copy of each (package regalkit's Processor does, through an
// interface assertion).
//
// The slice is the transaction's own memory, valid until Update returns: the caller
// reads it and does not keep it. Each call appends to the transaction's pooled
// foundIDs, so the result of an earlier call stays as it was (issue 14: the result was
// three quarters of an allocation a message).
func (t *tx) FindIDs(k identity.Key) ([]string, error) {
	var buf [4]*contact.Contact
	found, err := t.find(k, buf[:0])
	if err != nil || len(found) == 0 {
		return nil, err
	}
	start := len(t.foundIDs)
	for _, c := range found {
		t.foundIDs = append(t.foundIDs, c.ID())
	}
	return t.foundIDs[start:len(t.foundIDs):len(t.foundIDs)], nil
}

// find appends to dst the contacts k finds, as this transaction sees them (not
// copies), sorted by id.
func (t *tx) find(k identity.Key, dst []*contact.Contact) ([]*contact.Contact, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	kr, err := t.readKey(k)
	if err != nil {
		return nil, err
	}
	var buf [4]string
	ids := buf[:0]
	if kr.id != "" && t.change(kr.id) == nil {
		ids = append(ids, kr.id)
	}
	for _, id := range kr.ids {
		if t.change(id) == nil {
			ids = append(ids, id)
		}
	}
	for _, ch := range t.changes {
		if ch.hasFinalKey(k) {
			ids = append(ids, ch.id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids) // an id is in an entry once for each of its keys with the hash
	for _, id := range ids {
		c, ch, _, err := t.current(id)
		if err != nil {
			return nil, err
		}
		if c == nil {
			// The index and the contacts are changed together, so a snapshot cannot
			// show a key finding a missing contact.
			t.stale = true
			return nil, errStale
		}
		if ch == nil && !c.HasKey(k) {
			continue // another key with the same hash
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// Insert implements contact.Tx.
func (t *tx) Insert(c *contact.Contact) error {
	if err := t.usable(); err != nil {
		return err
	}
	if c == nil {
		return errNilContact
	}
	id := c.ID()
	if id == "" {
		return errNoID
	}
	cur, ch, r, err := t.current(id)
	switch {
	case err != nil:
		return err
	case cur != nil:
		return existsError(id)
	case ch == nil:
		ch = t.newChange(r)
	}
	ch.setFinal(c)
	return nil
}

// Put implements contact.Tx.
func (t *tx) Put(c *contact.Contact) error {
	if err := t.usable(); err != nil {
		return err
	}
	if c == nil {
		return errNilContact
	}
	id := c.ID()
	cur, ch, r, err := t.current(id)
	switch {
	case err != nil:
		return err
	case cur == nil:
		return notFound(id)
	case ch == nil:
		ch = t.newChange(r)
	}
	ch.setFinal(c)
	return nil
}

// Delete implements contact.Tx.
func (t *tx) Delete(id string) error {
	if err := t.usable(); err != nil {
		return err
	}
	cur, ch, r, err := t.current(id)
	switch {
	case err != nil:
		return err
	case cur == nil:
		return notFound(id)
	case ch == nil:
		ch = t.newChange(r)
	}
	*ch = change{id: ch.id, stripe: ch.stripe, base: ch.base, baseKeys: ch.baseKeys, reset: true}
	return nil
}

// AddEvent implements contact.Tx.
func (t *tx) AddEvent(id string, rec event.Record) (bool, error) {
	if err := t.usable(); err != nil {
		return false, err
	}
	cur, ch, r, err := t.current(id)
	switch {
	case err != nil:
		return false, err
	case cur == nil:
		return false, notFound(id)
	}
	if ch != nil {
		if _, ok := ch.addedEvent(rec.MessageID); ok {
			return false, nil
		}
	}
	// A contact this transaction inserted (no base) has no stored events to look through.
	if ch == nil || (ch.base != nil && !ch.reset && !ch.isRemoved(rec.MessageID)) {
		stored, err := t.hasStored(id, rec.MessageID)
		if err != nil || stored {
			return false, err
		}
	}
	if ch == nil {
		ch = t.newChange(r)
	}
	ev := t.s.newEvent(rec, ch, &t.packBuf)
	ch.added = append(ch.added, ev)
	if ch.addedByID != nil {
		ch.addedByID[ev.messageID()] = ev
	} else if len(ch.added) > linearLookup {
		ch.addedByID = make(map[string]*storedEvent, len(ch.added))
		for _, ev := range ch.added {
			ch.addedByID[ev.messageID()] = ev
		}
	}
	return true, nil
}

// DeleteEvents implements contact.Tx.
func (t *tx) DeleteEvents(id string, messageIDs ...string) (int, error) {
	if err := t.usable(); err != nil {
		return 0, err
	}
	cur, ch, r, err := t.current(id)
	switch {
	case err != nil:
		return 0, err
	case cur == nil:
		return 0, notFound(id)
	}
	n := 0
	for _, m := range messageIDs {
		if ch != nil {
			if i, ok := ch.addedEvent(m); ok {
				ch.added = slices.Delete(ch.added, i, i+1)
				if ch.addedByID != nil {
					delete(ch.addedByID, m)
				}
				n++
				continue
			}
			if ch.reset || ch.isRemoved(m) {
				continue
			}
		}
		stored, err := t.hasStored(id, m)
		if err != nil {
			return 0, err
		}
		if stored {
			if ch == nil {
				ch = t.newChange(r)
			}
			ch.remove(m)
			n++
		}
	}
	return n, nil
}

// Events implements contact.Tx. The records are gathered when the iteration starts.
func (t *tx) Events(id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		recs, err := t.events(id, q)
		if err != nil {
			yield(event.Record{}, err)
			return
		}
		for _, ev := range recs {
			if err := t.usable(); err != nil {
				yield(event.Record{}, err)
				return
			}
			if !yield(ev.record(), nil) {
				return
			}
		}
	}
}

func (t *tx) events(id string, q contact.EventQuery) ([]heldEvent, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	cur, ch, _, err := t.current(id)
	if err != nil || cur == nil {
		return nil, err
	}
	var (
		out    []heldEvent
		shared []string // the strings out's events refer to, copied: see below
	)
	if ch == nil || !ch.reset {
		d := &t.s.stripes[t.s.hash.contact(id)].dict // read under the lock storedEvents holds
		err := t.storedEvents(id, func(e *entry) {
			e.ascend(q.Since, q.Until, func(ev *storedEvent) bool {
				if ev.matches(&q) && (ch == nil || !ch.isRemoved(ev.messageID())) {
					var h heldEvent
					h, shared = d.hold(ev, shared)
					out = append(out, h)
				}
				// Without changes of its own, the stored order is the answer.
				return ch != nil || q.Limit <= 0 || len(out) < q.Limit
			})
		})
		if err != nil {
			return nil, err
		}
	}
	if ch != nil {
		for _, ev := range ch.added {
			if ev.matches(&q) {
				// The change's strings are copied: the records are made as they are
				// yielded, and fn may delete the contact in between, which clears
				// the change.
				h := ch.held(ev)
				if len(h.shared) > 0 {
					start := len(shared)
					shared = append(shared, h.shared...)
					h.shared = shared[start:len(shared):len(shared)]
				}
				out = append(out, h)
			}
		}
		slices.SortFunc(out, func(a, b heldEvent) int { return byContactOrder(a.ev, b.ev) })
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	return out, nil
}

// Processed implements contact.Tx.
func (t *tx) Processed(messageID string) (bool, error) {
	if err := t.usable(); err != nil {
		return false, err
	}
	if slices.Contains(t.processed, messageID) {
		return true, nil
	}
	r, err := t.readProcessed(messageID)
	return r.version != 0, err
}

// MarkProcessed implements contact.Tx.
func (t *tx) MarkProcessed(messageID string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if !slices.Contains(t.processed, messageID) {
		// No copy: the commit copies the bytes into the stripe's idSet, and the
		// transaction's hold on the buffer the id was cut from ends with Update.
		t.processed = append(t.processed, messageID)
	}
	return nil
}

// Tombstone implements contact.Tx.
func (t *tx) Tombstone(userID string) (contact.Tombstone, bool, error) {
	if err := t.usable(); err != nil {
		return contact.Tombstone{}, false, err
	}
	r, err := t.readTombstone(userID)
	if err != nil {
		return contact.Tombstone{}, false, err
	}
	var ts contact.Tombstone
	ok := r.ts != nil
	if ok {
		ts = *r.ts
	}
	for _, p := range t.tombstones {
		if p.UserID == userID && (!ok || p.After(ts)) {
			ts, ok = p, true
		}
	}
	return ts, ok, nil
}

// PutTombstone implements contact.Tx. It reads nothing: the commit keeps the later of
// the stored delete and this one, so two transactions putting tombstones for one
// userId do not conflict.
func (t *tx) PutTombstone(ts contact.Tombstone) error {
	if err := t.usable(); err != nil {
		return err
	}
	// Copies, so that the store never keeps alive the buffers the strings were cut from.
	ts.UserID, ts.MessageID = strings.Clone(ts.UserID), strings.Clone(ts.MessageID)
	for i, p := range t.tombstones {
		if p.UserID == ts.UserID {
			if ts.After(p) {
				t.tombstones[i] = ts
			}
			return nil
		}
	}
	t.tombstones = append(t.tombstones, ts)
	return nil
}
