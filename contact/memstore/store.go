package memstore

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// maxAttempts is the number of times Update runs a transaction that keeps meeting
// conflicts before it gives up. With the backoff between attempts, reaching it takes
// about 50ms of constant collisions.
const maxAttempts = 100

// Store is the in-memory contact.Store. The zero Store is not usable; call [New]. A
// Store is safe for concurrent use by multiple goroutines.
type Store struct {
	hash        hasher
	maxAttempts int // maxAttempts, but for tests
	// commits counts the commits that wrote something; a transaction that finds it
	// unchanged skips checking its earlier reads (tx.addRead). Padded to a cache line
	// of its own, as it changes with every commit.
	_       [64]byte
	commits atomic.Uint64
	_       [56]byte
	stripes [numStripes]stripe
	outbox  outbox // see outbox.go
}

var _ contact.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{hash: hasher{seed: maphash.MakeSeed(), keyMask: ^uint64(0)}, maxAttempts: maxAttempts}
}

// Errors of the store's own. Misuse errors are plain; the others wrap the sentinels of
// package contact.
var (
	errStale      = fmt.Errorf("memstore: %w: a concurrent transaction changed what this one read", contact.ErrConflict)
	errClosed     = errors.New("memstore: transaction used after its Update returned")
	errNilContact = errors.New("memstore: nil contact")
	errNoID       = errors.New("memstore: contact has no id")
	errNilFunc    = errors.New("memstore: nil transaction function")
)

func notFound(id string) error {
	return fmt.Errorf("memstore: contact %q: %w", id, contact.ErrNotFound)
}

func existsError(id string) error {
	return fmt.Errorf("memstore: contact %q: %w", id, contact.ErrExists)
}

// Update implements contact.Store. fn runs without any lock held; the commit locks the
// stripes of what fn read and wrote, checks that what it read is unchanged, and applies
// the writes. When a concurrent commit got there first, Update runs fn again, after a
// short randomized wait, up to 100 times.
func (s *Store) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	if fn == nil {
		return errNilFunc
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if done, err := s.attempt(ctx, fn); done {
			return err
		}
		if attempt >= s.maxAttempts {
			return fmt.Errorf("memstore: gave up after %d attempts: %w", attempt, contact.ErrConflict)
		}
		backoff(attempt)
	}
}

// attempt runs fn in a transaction once, and commits it. It reports done unless the
// transaction met a conflict and must run again.
func (s *Store) attempt(ctx context.Context, fn func(tx contact.Tx) error) (done bool, err error) {
	t := newTx(s, ctx)
	defer t.release()
	err = fn(t)
	t.closed = true
	if t.stale {
		return false, nil
	}
	if err != nil {
		// fn saw one state of the store throughout (see tx.addRead), so its error is
		// a real answer, not an artefact of a concurrent commit.
		return true, err
	}
	err = s.commit(t)
	return !errors.Is(err, errStale), err
}

// backoff waits before attempt+1: first only yielding the processor, then sleeping a
// random time that doubles with each attempt up to about a millisecond, so that
// transactions that keep colliding spread out.
func backoff(attempt int) {
	if attempt <= 2 {
		runtime.Gosched()
		return
	}
	limit := time.Microsecond << min(attempt, 10)
	time.Sleep(rand.N(limit))
}

// valid reports whether every read still has its version. With locked, the caller
// holds the locks of the reads' stripes.
func (s *Store) valid(reads []read, locked bool) bool {
	for i := range reads {
		r := &reads[i]
		st := &s.stripes[r.stripe]
		if !locked {
			st.mu.RLock()
		}
		v := r.versionIn(st)
		if !locked {
			st.mu.RUnlock()
		}
		if v != r.version {
			return false
		}
	}
	return true
}

// indexDelta is one change to the index: a contact id added to or removed from the
// contacts a key finds.
type indexDelta struct {
	keyHash uint64
	id      string
	add     bool
}

// commit applies t's writes if nothing t read has changed, and returns errStale if
// something has.
func (s *Store) commit(t *tx) error {
	if len(t.changes) == 0 && len(t.processed) == 0 && len(t.tombstones) == 0 && len(t.outbox) == 0 {
		// Read-only: its reads were one state of the store, and there is nothing to
		// apply.
		return t.ctx.Err()
	}
	var locked, written stripeSet
	for i := range t.reads {
		locked.add(t.reads[i].stripe)
	}
	var deltaBuf [8]indexDelta // a new contact's keys, without allocating
	deltas := deltaBuf[:0]
	for _, ch := range t.changes {
		written.add(ch.stripe)
		if ch.final != nil && !ch.put {
			continue // only events changed: the keys are the stored contact's
		}
		// The index counts an id once for each of its keys with a hash, so the
		// change to it is the difference of the key hashes as multisets: the
		// stored contact's, kept in its entry, and the new ones.
		var afterBuf [8]uint64
		after := afterBuf[:0]
		for _, k := range ch.finalKeys() {
			after = append(after, s.hash.key(k))
		}
		slices.Sort(after)
		before := ch.baseKeys.get()
		i, j := 0, 0
		for i < len(before) || j < len(after) {
			switch {
			case j == len(after) || (i < len(before) && before[i] < after[j]):
				deltas = append(deltas, indexDelta{keyHash: before[i], id: ch.id})
				i++
			case i == len(before) || after[j] < before[i]:
				deltas = append(deltas, indexDelta{keyHash: after[j], id: ch.id, add: true})
				j++
			default:
				i++
				j++
			}
		}
		if slices.Equal(before, after) {
			ch.keyHashes = ch.baseKeys
		} else {
			ch.keyHashes = makeKeyHashes(after)
		}
	}
	for _, d := range deltas {
		written.add(stripeOf(d.keyHash))
	}
	var hashBuf [4]uint64
	processedHashes := hashBuf[:0]
	for _, m := range t.processed {
		h := s.hash.processedHash(m)
		processedHashes = append(processedHashes, h)
		written.add(processedStripe(h))
	}
	for _, ts := range t.tombstones {
		written.add(s.hash.tombstone(ts.UserID))
	}
	for i := range locked {
		locked[i] |= written[i]
	}

	locked.each(func(i uint8) {
		if written.has(i) {
			s.stripes[i].mu.Lock()
		} else {
			s.stripes[i].mu.RLock()
		}
	})
	defer locked.each(func(i uint8) {
		if written.has(i) {
			s.stripes[i].mu.Unlock()
		} else {
			s.stripes[i].mu.RUnlock()
		}
	})
	// The last moment to give up: from here on the commit cannot fail.
	if err := t.ctx.Err(); err != nil {
		return err
	}
	// With the locks of every read held, a commit that changed one has counted itself
	// (see tx.addRead): an unchanged count means there is nothing to check.
	if s.commits.Load() != t.seen && !s.valid(t.reads, true) {
		return errStale
	}

	for _, ch := range t.changes {
		st := &s.stripes[ch.stripe]
		e := st.contacts[ch.id]
		if ch.final == nil {
			if e != nil {
				st.removeAllEvents(e)
				delete(st.contacts, ch.id)
				*e = entry{} // its slab may outlive it: keep the contact alive no longer
				st.contactsGone++
			}
			continue
		}
		switch {
		case e == nil:
			e = newEntry()
			if st.contacts == nil {
				st.contacts = make(map[string]*entry)
			}
			st.contacts[ch.id] = e
		case ch.reset:
			st.removeAllEvents(e)
		}
		e.c = ch.final
		if ch.put {
			e.keys = ch.keyHashes
		}
		for _, m := range ch.removed {
			if ev := e.event(m); ev != nil {
				st.removeEvent(e, ev)
			}
		}
		for _, ev := range ch.added {
			st.addEvent(e, ev, ch.pending)
		}
		e.version = st.next()
	}
	for _, d := range deltas {
		st := &s.stripes[stripeOf(d.keyHash)]
		if d.add {
			st.indexAdd(d.keyHash, d.id)
		} else {
			st.indexRemove(d.keyHash, d.id)
		}
	}
	for i, m := range t.processed {
		h := processedHashes[i]
		s.stripes[processedStripe(h)].processed.add(h, m)
	}
	for _, ts := range t.tombstones {
		s.stripes[s.hash.tombstone(ts.UserID)].putTombstone(ts)
	}
	s.outbox.add(t.outbox)
	// Counted after the writes and before the locks are released: see tx.addRead.
	s.commits.Add(1)
	return nil
}

// entrySlab is an array that new contacts' entries are cut from, a slot each and never
// again, so that a new contact does not allocate its entry on its own (issue 14). An
// entry keeps its slab alive (a deleted contact's slot stays until its slab's other
// entries go); 18 entries of 112 bytes fill a 2 KB size class.
type entrySlab struct {
	next    int
	entries [18]entry
}

var entrySlabs = sync.Pool{New: func() any { return new(entrySlab) }}

// newEntry returns an empty entry no one else holds.
func newEntry() *entry {
	sl := entrySlabs.Get().(*entrySlab)
	e := &sl.entries[sl.next]
	if sl.next++; sl.next < len(sl.entries) {
		entrySlabs.Put(sl)
	}
	return e
}

// Contact implements contact.Store.
func (s *Store) Contact(ctx context.Context, id string) (*contact.Contact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &s.stripes[s.hash.contact(id)]
	st.mu.RLock()
	var c *contact.Contact
	if e := st.contacts[id]; e != nil {
		c = e.c
	}
	st.mu.RUnlock()
	if c == nil || c.Hidden() { // a hidden contact is the transactions' alone (contact.Store)
		return nil, notFound(id)
	}
	// Stored contacts are never changed, so the copy can be made outside the lock.
	return c.Clone(), nil
}

// Find implements contact.Store. It reads the index entry and the contacts it names as
// a read-only transaction, so that it sees them as one transaction left them.
func (s *Store) Find(ctx context.Context, k identity.Key) ([]*contact.Contact, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := newTx(s, ctx)
		cs, err := t.Find(k)
		stale := t.stale
		t.release()
		if !stale {
			// A hidden contact is the transactions' alone (contact.Store).
			return slices.DeleteFunc(cs, (*contact.Contact).Hidden), err
		}
		if attempt >= s.maxAttempts {
			return nil, fmt.Errorf("memstore: gave up after %d attempts: %w", attempt, contact.ErrConflict)
		}
		backoff(attempt)
	}
}

// Events implements contact.Store. The matching records are gathered under the lock of
// the contact's stripe when the iteration starts; they are copied as they are yielded.
func (s *Store) Events(ctx context.Context, contactID string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(event.Record{}, err)
			return
		}
		var (
			recs   []heldEvent
			shared []string
		)
		st := &s.stripes[s.hash.contact(contactID)]
		st.mu.RLock()
		if e := st.contacts[contactID]; e != nil {
			e.ascend(q.Since, q.Until, func(ev *storedEvent) bool {
				if ev.matches(&q) {
					var h heldEvent
					h, shared = st.dict.hold(ev, shared)
					recs = append(recs, h)
				}
				return q.Limit <= 0 || len(recs) < q.Limit
			})
		}
		st.mu.RUnlock()
		for _, ev := range recs {
			if err := ctx.Err(); err != nil {
				yield(event.Record{}, err)
				return
			}
			if !yield(ev.record(), nil) {
				return
			}
		}
	}
}

// rLockAll read-locks every stripe, in order, and returns the function that unlocks
// them: a snapshot of the whole store. Commits wait while it is held.
func (s *Store) rLockAll() (unlock func()) {
	for i := range s.stripes {
		s.stripes[i].mu.RLock()
	}
	return func() {
		for i := range s.stripes {
			s.stripes[i].mu.RUnlock()
		}
	}
}

// Recent implements contact.Store. It read-locks every stripe while it merges the
// stripes' timelines, newest first, into the matching records it will yield (at most
// q.Limit of them); the records are copied as they are yielded.
func (s *Store) Recent(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	return yieldContactEvents(ctx, func() []heldEvent { return s.recent(q) })
}

// yieldContactEvents yields the events gather returns, each copied as it is yielded with its
// contact's id; it checks ctx before gathering and before each event. Recent and Named
// read this way.
func yieldContactEvents(ctx context.Context, gather func() []heldEvent) iter.Seq2[contact.ContactEvent, error] {
	return func(yield func(contact.ContactEvent, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(contact.ContactEvent{}, err)
			return
		}
		for _, ev := range gather() {
			if err := ctx.Err(); err != nil {
				yield(contact.ContactEvent{}, err)
				return
			}
			if !yield(contact.ContactEvent{ContactID: ev.ev.contactID(), Record: ev.record()}, nil) {
				return
			}
		}
	}
}

func (s *Store) recent(q contact.EventQuery) []heldEvent {
	unlock := s.rLockAll()
	defer unlock()
	var h newestFirst
	for i := range s.stripes {
		if d := s.stripes[i].timeline.descend(q.Until); d.peek() != nil {
			d.stripe = uint8(i)
			h = append(h, d)
		}
	}
	heap.Init(&h)
	var (
		out    []heldEvent
		shared []string
	)
	for len(h) > 0 && (q.Limit <= 0 || len(out) < q.Limit) {
		ev := h[0].peek()
		if !q.Since.IsZero() && ev.rec.Time.Before(q.Since) {
			break // the newest left is too old, and so is every other
		}
		if ev.matches(&q) {
			var held heldEvent
			held, shared = s.stripes[h[0].stripe].dict.hold(ev, shared)
			out = append(out, held)
		}
		h[0].back()
		if h[0].peek() == nil {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return out
}

// newestFirst is a heap of timeline walks whose top is the walk at the newest event.
type newestFirst []descender

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return byTimelineOrder(h[i].peek(), h[j].peek()) > 0 }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(descender)) }
func (h *newestFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Contacts implements contact.Store. It read-locks every stripe while it gathers the
// stored contacts (pointers only), then sorts them and copies each as it is yielded.
func (s *Store) Contacts(ctx context.Context) iter.Seq2[*contact.Contact, error] {
	return func(yield func(*contact.Contact, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		var all []*contact.Contact
		unlock := s.rLockAll()
		n := 0
		for i := range s.stripes {
			n += len(s.stripes[i].contacts)
		}
		all = make([]*contact.Contact, 0, n)
		for i := range s.stripes {
			for _, e := range s.stripes[i].contacts {
				if !e.c.Hidden() { // the transactions' alone (contact.Store)
					all = append(all, e.c)
				}
			}
		}
		unlock()
		slices.SortFunc(all, func(a, b *contact.Contact) int { return cmp.Compare(a.ID(), b.ID()) })
		for _, c := range all {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(c.Clone(), nil) {
				return
			}
		}
	}
}
