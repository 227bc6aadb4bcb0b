package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// naive is the MapStore of the package example (example_store_test.go) with faults
// to inject: one mutex held for a whole transaction, which works on a copy of the
// state. Without faults it keeps the whole contract; each fault breaks one clause, so
// that the kit's own tests can check that the kit notices. Read MapStore to see the
// design; this copy is shaped by its faults.
type naive struct {
	faults fault
	mu     sync.Mutex
	state  *naiveState
	copies map[*contact.Contact]*contact.Contact // the one copy of each stored contact (faultOneReadCopy)
}

type fault uint64

const (
	faultWritesThrough      fault = 1 << iota // writes go straight to the stored state
	faultIgnoresCtx                           // commits and iterates whatever ctx says
	faultNoIsolation                          // fn runs on a snapshot, unlocked; its writes are applied unchecked
	faultAliasesIn                            // keeps the caller's event record
	faultAliasesOut                           // hands out the stored contact and record
	faultNoDedupe                             // AddEvent adds a messageId twice
	faultStaleIndex                           // Put does not re-index
	faultKeepsEvents                          // Delete leaves the events
	faultInsertionOrder                       // Events in the order added
	faultOldestFirst                          // Recent oldest first
	faultIgnoresLimit                         // q.Limit is ignored
	faultUnsorted                             // Contacts and Find in descending id order
	faultHalfVisible                          // a commit publishes one contact at a time
	faultInsertOverwrites                     // Insert replaces a stored contact
	faultPutCreates                           // Put of an unknown id creates it
	faultForgetsProcessed                     // MarkProcessed does nothing
	faultMissingIsNoError                     // a missing contact is not an error
	faultAcceptsEmptyID                       // Insert takes a contact without id
	faultTxReadsCommitted                     // reads in a transaction ignore its writes
	faultDropsLastWrite                       // the commit loses the last contact written
	faultFindNoneIsError                      // Find of an unknown key is ErrNotFound
	faultIndexNoPhones                        // phones are not indexed
	faultUnknownEventsError                   // Events of an unknown contact yields ErrNotFound
	faultCountsRequested                      // DeleteEvents counts the messageIds asked for
	faultLastTombstoneWins                    // PutTombstone replaces a later delete
	faultDeleteForgets                        // Delete forgets the user\'s tombstone and processed messageIds
	faultPhantomTombstone                     // Tombstone finds a delete for every userId
	faultNamedNewestFirst                     // Named newest first
	faultNamedEmptyAll                        // Named with an empty name yields every record
	faultChangesPut                           // Put and Insert change the contact they keep
	faultOneReadCopy                          // every read of a contact returns the same copy
	faultIDsCommitted                         // FindIDs answers from the committed state
	faultShowsHidden                          // the Store's own reads return hidden contacts
)

type naiveState struct {
	contacts  map[string]*contact.Contact
	keys      map[string][]identity.Key // by contact id: what Find looks at
	events    map[string][]event.Record // by contact id, in the order added
	processed map[string]bool
	deletes   map[string]contact.Tombstone
}

func newNaive(faults fault) *naive {
	return &naive{faults: faults, state: &naiveState{
		contacts: map[string]*contact.Contact{}, keys: map[string][]identity.Key{},
		events: map[string][]event.Record{}, processed: map[string]bool{}, deletes: map[string]contact.Tombstone{},
	}}
}

func (s *naive) has(f fault) bool { return s.faults&f != 0 }

func (st *naiveState) clone() *naiveState {
	c := &naiveState{
		contacts: maps.Clone(st.contacts), keys: maps.Clone(st.keys),
		events: maps.Clone(st.events), processed: maps.Clone(st.processed), deletes: maps.Clone(st.deletes),
	}
	for id, rs := range c.events {
		c.events[id] = slices.Clone(rs)
	}
	return c
}

// publish copies what the transaction wrote from src to dst.
func (st *naiveState) publish(src *naiveState, id string) {
	if c, ok := src.contacts[id]; ok {
		st.contacts[id] = c
		st.keys[id] = src.keys[id]
	} else {
		delete(st.contacts, id)
		delete(st.keys, id)
	}
	if rs, ok := src.events[id]; ok {
		st.events[id] = rs
	} else {
		delete(st.events, id)
	}
}

func (s *naive) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	if !s.has(faultIgnoresCtx) && ctx.Err() != nil {
		return ctx.Err()
	}
	if s.has(faultNoIsolation) {
		s.mu.Lock()
		work := s.state.clone()
		s.mu.Unlock()
		tx := &naiveTx{s: s, st: work, committed: work}
		if err := fn(tx); err != nil {
			return err
		}
		runtime.Gosched()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, id := range tx.touched {
			s.state.publish(work, id)
		}
		for m := range work.processed {
			s.state.processed[m] = true
		}
		for u, ts := range work.deletes {
			if old, ok := s.state.deletes[u]; !ok || ts.After(old) {
				s.state.deletes[u] = ts
			}
		}
		return nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	work := s.state
	if !s.has(faultWritesThrough) {
		work = s.state.clone()
	}
	tx := &naiveTx{s: s, st: work, committed: s.state}
	if err := fn(tx); err != nil {
		return err
	}
	if !s.has(faultIgnoresCtx) && ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case s.has(faultHalfVisible):
		for i, id := range tx.touched {
			s.state.publish(work, id)
			if i < len(tx.touched)-1 {
				s.mu.Unlock()
				time.Sleep(time.Millisecond)
				s.mu.Lock()
			}
		}
		s.state.processed = work.processed
		s.state.deletes = work.deletes
	case s.has(faultDropsLastWrite) && len(tx.touched) > 0:
		last := tx.touched[len(tx.touched)-1]
		work.publish(s.state, last)
		s.state = work
	default:
		s.state = work
	}
	return nil
}

func (s *naive) copyOut(c *contact.Contact) *contact.Contact {
	switch {
	case s.has(faultAliasesOut):
		return c
	case s.has(faultOneReadCopy):
		if s.copies == nil {
			s.copies = map[*contact.Contact]*contact.Contact{}
		}
		if s.copies[c] == nil {
			s.copies[c] = c.Clone()
		}
		return s.copies[c]
	}
	return c.Clone()
}

func (s *naive) copyRecordOut(r event.Record) event.Record {
	if s.has(faultAliasesOut) {
		return r
	}
	return r.Clone()
}

func (s *naive) Contact(ctx context.Context, id string) (*contact.Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.state.contacts[id]; c != nil && c.Hidden() && !s.has(faultShowsHidden) {
		return nil, fmt.Errorf("naive: %w", contact.ErrNotFound)
	}
	return s.contact(s.state, id)
}

// shown leaves out the hidden contacts, for the Store's own reads.
func (s *naive) shown(cs []*contact.Contact) []*contact.Contact {
	if s.has(faultShowsHidden) {
		return cs
	}
	return slices.DeleteFunc(cs, (*contact.Contact).Hidden)
}

func (s *naive) contact(st *naiveState, id string) (*contact.Contact, error) {
	c, ok := st.contacts[id]
	switch {
	case ok:
		return s.copyOut(c), nil
	case s.has(faultMissingIsNoError):
		return nil, nil
	}
	return nil, fmt.Errorf("naive: %w", contact.ErrNotFound)
}

func (s *naive) Find(ctx context.Context, k identity.Key) ([]*contact.Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.find(s.state, k)
	return s.shown(cs), err
}

func (s *naive) find(st *naiveState, k identity.Key) ([]*contact.Contact, error) {
	var out []*contact.Contact
	for id, keys := range st.keys {
		if slices.Contains(keys, k) {
			out = append(out, s.copyOut(st.contacts[id]))
		}
	}
	s.sortContacts(out)
	if len(out) == 0 && s.has(faultFindNoneIsError) {
		return nil, contact.ErrNotFound
	}
	return out, nil
}

func (s *naive) sortContacts(cs []*contact.Contact) {
	slices.SortFunc(cs, func(a, b *contact.Contact) int {
		if s.has(faultUnsorted) {
			return cmp.Compare(b.ID(), a.ID())
		}
		return cmp.Compare(a.ID(), b.ID())
	})
}

// seq yields items, stopping with ctx.Err() when ctx is done.
func seq[V any](s *naive, ctx context.Context, items []V) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		for _, v := range items {
			if !s.has(faultIgnoresCtx) && ctx.Err() != nil {
				yield(zero, ctx.Err())
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if !s.has(faultIgnoresCtx) && len(items) == 0 && ctx.Err() != nil {
			yield(zero, ctx.Err())
		}
	}
}

func (s *naive) limit(n int) int {
	if s.has(faultIgnoresLimit) {
		return 0
	}
	return n
}

func (s *naive) events(st *naiveState, id string, q contact.EventQuery) ([]event.Record, error) {
	if _, ok := st.contacts[id]; !ok && s.has(faultUnknownEventsError) {
		return nil, contact.ErrNotFound
	}
	rs := slices.Clone(st.events[id])
	if !s.has(faultInsertionOrder) {
		slices.SortFunc(rs, func(a, b event.Record) int { return contact.CompareEvents(&a, &b) })
	}
	var out []event.Record
	for _, r := range rs {
		if q.Match(&r) && (s.limit(q.Limit) <= 0 || len(out) < q.Limit) {
			out = append(out, s.copyRecordOut(r))
		}
	}
	return out, nil
}

func (s *naive) Events(ctx context.Context, id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	s.mu.Lock()
	rs, err := s.events(s.state, id, q)
	s.mu.Unlock()
	if err != nil {
		return func(yield func(event.Record, error) bool) { yield(event.Record{}, err) }
	}
	return seq(s, ctx, rs)
}

func (s *naive) Recent(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	s.mu.Lock()
	var all []contact.ContactEvent
	for id, rs := range s.state.events {
		for _, r := range rs {
			if q.Match(&r) {
				all = append(all, contact.ContactEvent{ContactID: id, Record: s.copyRecordOut(r)})
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b contact.ContactEvent) int {
		c := cmp.Or(contact.CompareEvents(&b.Record, &a.Record), cmp.Compare(b.ContactID, a.ContactID))
		if s.has(faultOldestFirst) {
			return -c
		}
		return c
	})
	if n := s.limit(q.Limit); n > 0 && len(all) > n {
		all = all[:n]
	}
	return seq(s, ctx, all)
}

func (s *naive) Contacts(ctx context.Context) iter.Seq2[*contact.Contact, error] {
	s.mu.Lock()
	var all []*contact.Contact
	for _, c := range s.state.contacts {
		all = append(all, s.copyOut(c))
	}
	s.mu.Unlock()
	s.sortContacts(all)
	return seq(s, ctx, s.shown(all))
}

// naiveTx works on st, a copy of the state (the state itself with
// faultWritesThrough).
type naiveTx struct {
	s         *naive
	st        *naiveState
	committed *naiveState // the state before the transaction, for faultTxReadsCommitted
	touched   []string    // contact ids written, in the order first written
}

func (t *naiveTx) reads() *naiveState {
	if t.s.has(faultTxReadsCommitted) {
		return t.committed
	}
	return t.st
}

func (t *naiveTx) touch(id string) {
	if !slices.Contains(t.touched, id) {
		t.touched = append(t.touched, id)
	}
}

func (t *naiveTx) missing(id string) error {
	if t.s.has(faultMissingIsNoError) {
		return nil
	}
	return fmt.Errorf("naive: %w", contact.ErrNotFound)
}

func (t *naiveTx) Contact(id string) (*contact.Contact, error) { return t.s.contact(t.reads(), id) }

func (t *naiveTx) Find(k identity.Key) ([]*contact.Contact, error) { return t.s.find(t.reads(), k) }

// FindIDs implements contact.IDFinder: the ids of Find's contacts.
func (t *naiveTx) FindIDs(k identity.Key) ([]string, error) {
	st := t.reads()
	if t.s.has(faultIDsCommitted) {
		st = t.s.state
	}
	cs, err := t.s.find(st, k)
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID()
	}
	return ids, err
}

// store keeps c itself, as the contract allows (contact.Store, "Copies").
func (t *naiveTx) store(c *contact.Contact) {
	if t.s.has(faultChangesPut) {
		(*contactcore.Contact)(c).AddAnonymousID("a-kept")
	}
	keys := c.Keys()
	if t.s.has(faultIndexNoPhones) {
		keys = slices.DeleteFunc(keys, func(k identity.Key) bool { return k.Kind == identity.Phone })
	}
	t.st.contacts[c.ID()] = c
	if _, indexed := t.st.keys[c.ID()]; !indexed || !t.s.has(faultStaleIndex) {
		t.st.keys[c.ID()] = keys
	}
	t.touch(c.ID())
}

func (t *naiveTx) Insert(c *contact.Contact) error {
	if c.ID() == "" && !t.s.has(faultAcceptsEmptyID) {
		return errors.New("naive: no id")
	}
	if _, ok := t.st.contacts[c.ID()]; ok && !t.s.has(faultInsertOverwrites) {
		return contact.ErrExists
	}
	delete(t.st.events, c.ID())
	t.store(c)
	return nil
}

func (t *naiveTx) Put(c *contact.Contact) error {
	if _, ok := t.st.contacts[c.ID()]; !ok && !t.s.has(faultPutCreates) {
		return t.missing(c.ID())
	}
	t.store(c)
	return nil
}

func (t *naiveTx) Delete(id string) error {
	if _, ok := t.st.contacts[id]; !ok {
		return t.missing(id)
	}
	if t.s.has(faultDeleteForgets) {
		delete(t.st.deletes, t.st.contacts[id].UserID())
		clear(t.st.processed)
	}
	delete(t.st.contacts, id)
	delete(t.st.keys, id)
	if !t.s.has(faultKeepsEvents) {
		delete(t.st.events, id)
	}
	t.touch(id)
	return nil
}

func (t *naiveTx) AddEvent(id string, r event.Record) (bool, error) {
	if _, ok := t.st.contacts[id]; !ok {
		return false, t.missing(id)
	}
	if !t.s.has(faultNoDedupe) && slices.ContainsFunc(t.st.events[id], func(o event.Record) bool { return o.MessageID == r.MessageID }) {
		return false, nil
	}
	if !t.s.has(faultAliasesIn) {
		r = r.Clone()
	}
	t.st.events[id] = append(t.st.events[id], r)
	t.touch(id)
	return true, nil
}

func (t *naiveTx) Events(id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	rs, err := t.s.events(t.reads(), id, q)
	if err != nil {
		return func(yield func(event.Record, error) bool) { yield(event.Record{}, err) }
	}
	return seq(t.s, context.Background(), rs)
}

func (t *naiveTx) DeleteEvents(id string, messageIDs ...string) (int, error) {
	if _, ok := t.st.contacts[id]; !ok {
		return 0, t.missing(id)
	}
	before := len(t.st.events[id])
	t.st.events[id] = slices.DeleteFunc(slices.Clone(t.st.events[id]), func(r event.Record) bool {
		return slices.Contains(messageIDs, r.MessageID)
	})
	t.touch(id)
	if t.s.has(faultCountsRequested) {
		return len(messageIDs), nil
	}
	return before - len(t.st.events[id]), nil
}

func (t *naiveTx) Processed(messageID string) (bool, error) {
	return t.reads().processed[messageID], nil
}

func (t *naiveTx) MarkProcessed(messageID string) error {
	if !t.s.has(faultForgetsProcessed) {
		t.st.processed[messageID] = true
	}
	return nil
}

func (t *naiveTx) Tombstone(userID string) (contact.Tombstone, bool, error) {
	ts, ok := t.reads().deletes[userID]
	return ts, ok || t.s.has(faultPhantomTombstone), nil
}

func (t *naiveTx) PutTombstone(ts contact.Tombstone) error {
	if old, ok := t.st.deletes[ts.UserID]; !ok || ts.After(old) || t.s.has(faultLastTombstoneWins) {
		t.st.deletes[ts.UserID] = ts
	}
	return nil
}
