package storetest_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// MapStore is the simplest [contact.Store] that keeps the whole contract: one mutex and
// a few maps. Start your own store from it. It passes [storetest.Run]:
//
//	func TestMapStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) contact.Store { return NewMapStore() })
//	}
//
// Update holds the mutex for the whole transaction and works on a copy of the state;
// the commit replaces the state with the copy. That one idea gives every clause of the
// Transactions section: readers never see half a transaction, a failed or cancelled
// transaction leaves nothing, and two transactions can never both commit as if the
// other had not run. The price is that transactions run one at a time and each copies
// the maps; a store for production (contact/memstore, a database) keeps the contract
// with finer locks or with conflict detection instead.
//
// Copies are the other half of the contract. Every read hands out a clone, which the
// caller may change. A contact handed to Insert or Put is kept as it is: the caller
// never changes it afterwards, and reading and cloning a contact is safe from many
// goroutines at once (contact.Store, "Copies"). Event records are cloned on the way in,
// since their JSON objects are slices the caller may change.
type MapStore struct {
	mu    sync.Mutex
	state *mapState // what the last transaction committed; never changed in place
}

// mapState is everything a store keeps.
type mapState struct {
	contacts  map[string]*contact.Contact // by contact id
	keys      map[string][]identity.Key   // by contact id: the keys Find matches, from the contact as last stored
	events    map[string][]event.Record   // by contact id, in the order added
	processed map[string]bool             // messageIds marked processed, kept when their contact goes
	deletes   map[string]contact.Tombstone
}

// NewMapStore returns an empty store.
func NewMapStore() *MapStore {
	return &MapStore{state: &mapState{
		contacts:  map[string]*contact.Contact{},
		keys:      map[string][]identity.Key{},
		events:    map[string][]event.Record{},
		processed: map[string]bool{},
		deletes:   map[string]contact.Tombstone{},
	}}
}

// clone copies the maps, and each event list so that appending to a copy never writes
// into the committed one. Contacts and records are not copied: the store never changes
// one in place, it replaces it.
func (st *mapState) clone() *mapState {
	c := &mapState{
		contacts:  maps.Clone(st.contacts),
		keys:      maps.Clone(st.keys),
		events:    maps.Clone(st.events),
		processed: maps.Clone(st.processed),
		deletes:   maps.Clone(st.deletes),
	}
	for id, rs := range c.events {
		c.events[id] = slices.Clone(rs)
	}
	return c
}

// Update runs fn on a copy of the state and commits the copy when fn and ctx allow.
func (s *MapStore) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	work := s.state.clone()
	if err := fn(&mapTx{st: work}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.state = work
	return nil
}

// committed returns the committed state. The caller may read it without the mutex: a
// committed state is never changed.
func (s *MapStore) committed() *mapState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Contact returns a copy of the committed contact with the id; a hidden contact is
// the transactions' alone (contact.Store, "Hidden contacts").
func (s *MapStore) Contact(ctx context.Context, id string) (*contact.Contact, error) {
	c, err := s.committed().contact(id)
	if err == nil && c.Hidden() {
		return nil, fmt.Errorf("mapstore: contact %q: %w", id, contact.ErrNotFound)
	}
	return c, err
}

// Find returns copies of the committed contacts key finds, sorted by id, but the
// hidden ones.
func (s *MapStore) Find(ctx context.Context, key identity.Key) ([]*contact.Contact, error) {
	return slices.DeleteFunc(s.committed().find(key), (*contact.Contact).Hidden), nil
}

// Events yields copies of the contact's committed records, by event time then messageId.
func (s *MapStore) Events(ctx context.Context, id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return yieldAll(ctx, s.committed().eventsOf(id, q))
}

// Recent yields copies of every contact's records that match q, newest first.
func (s *MapStore) Recent(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	st := s.committed()
	var all []contact.ContactEvent
	for id, rs := range st.events {
		for _, r := range rs {
			if q.Match(&r) {
				all = append(all, contact.ContactEvent{ContactID: id, Record: r.Clone()})
			}
		}
	}
	slices.SortFunc(all, func(a, b contact.ContactEvent) int { // newest first
		return cmp.Or(contact.CompareEvents(&b.Record, &a.Record), cmp.Compare(b.ContactID, a.ContactID))
	})
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return yieldAll(ctx, all)
}

// Named yields the committed records named q.Name that match q, oldest first: a scan,
// which a real store answers from an index by name and time instead.
func (s *MapStore) Named(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	if q.Name == "" {
		return yieldAll[contact.ContactEvent](ctx, nil)
	}
	st := s.committed()
	var all []contact.ContactEvent
	for id, rs := range st.events {
		for _, r := range rs {
			if r.Name == q.Name && q.Match(&r) {
				all = append(all, contact.ContactEvent{ContactID: id, Record: r.Clone()})
			}
		}
	}
	slices.SortFunc(all, func(a, b contact.ContactEvent) int { // oldest first
		return cmp.Or(contact.CompareEvents(&a.Record, &b.Record), cmp.Compare(a.ContactID, b.ContactID))
	})
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return yieldAll(ctx, all)
}

// Contacts yields a copy of every committed contact but the hidden ones, sorted by id.
func (s *MapStore) Contacts(ctx context.Context) iter.Seq2[*contact.Contact, error] {
	st := s.committed()
	var all []*contact.Contact
	for _, c := range st.contacts {
		if !c.Hidden() {
			all = append(all, c.Clone())
		}
	}
	slices.SortFunc(all, func(a, b *contact.Contact) int { return cmp.Compare(a.ID(), b.ID()) })
	return yieldAll(ctx, all)
}

func (st *mapState) contact(id string) (*contact.Contact, error) {
	c, ok := st.contacts[id]
	if !ok {
		return nil, fmt.Errorf("mapstore: contact %q: %w", id, contact.ErrNotFound)
	}
	return c.Clone(), nil
}

func (st *mapState) find(key identity.Key) []*contact.Contact {
	var out []*contact.Contact
	for id, keys := range st.keys {
		if slices.Contains(keys, key) {
			out = append(out, st.contacts[id].Clone())
		}
	}
	slices.SortFunc(out, func(a, b *contact.Contact) int { return cmp.Compare(a.ID(), b.ID()) })
	return out
}

func (st *mapState) eventsOf(id string, q contact.EventQuery) []event.Record {
	rs := slices.Clone(st.events[id])
	slices.SortFunc(rs, func(a, b event.Record) int { return contact.CompareEvents(&a, &b) })
	var out []event.Record
	for _, r := range rs {
		if q.Match(&r) && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, r.Clone())
		}
	}
	return out
}

// yieldAll yields items, and stops with ctx.Err() once ctx is done.
func yieldAll[V any](ctx context.Context, items []V) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		for _, v := range items {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil && len(items) == 0 {
			yield(zero, err)
		}
	}
}

// mapTx is a transaction: it reads and writes st, the copy Update commits.
type mapTx struct{ st *mapState }

func (t *mapTx) Contact(id string) (*contact.Contact, error) { return t.st.contact(id) }

func (t *mapTx) Find(key identity.Key) ([]*contact.Contact, error) { return t.st.find(key), nil }

func (t *mapTx) Insert(c *contact.Contact) error {
	if c.ID() == "" {
		return errors.New("mapstore: insert of a contact without id")
	}
	if _, ok := t.st.contacts[c.ID()]; ok {
		return fmt.Errorf("mapstore: contact %q: %w", c.ID(), contact.ErrExists)
	}
	t.store(c)
	return nil
}

func (t *mapTx) Put(c *contact.Contact) error {
	if _, ok := t.st.contacts[c.ID()]; !ok {
		return fmt.Errorf("mapstore: contact %q: %w", c.ID(), contact.ErrNotFound)
	}
	t.store(c)
	return nil
}

// store keeps c itself, which its caller no longer changes, and indexes it by its keys.
func (t *mapTx) store(c *contact.Contact) {
	t.st.contacts[c.ID()] = c
	t.st.keys[c.ID()] = c.Keys()
}

func (t *mapTx) Delete(id string) error {
	if _, ok := t.st.contacts[id]; !ok {
		return fmt.Errorf("mapstore: contact %q: %w", id, contact.ErrNotFound)
	}
	delete(t.st.contacts, id)
	delete(t.st.keys, id)
	delete(t.st.events, id)
	return nil
}

func (t *mapTx) AddEvent(id string, r event.Record) (bool, error) {
	if _, ok := t.st.contacts[id]; !ok {
		return false, fmt.Errorf("mapstore: contact %q: %w", id, contact.ErrNotFound)
	}
	if slices.ContainsFunc(t.st.events[id], func(o event.Record) bool { return o.MessageID == r.MessageID }) {
		return false, nil
	}
	t.st.events[id] = append(t.st.events[id], r.Clone())
	return true, nil
}

func (t *mapTx) Events(id string, q contact.EventQuery) iter.Seq2[event.Record, error] {
	return yieldAll(context.Background(), t.st.eventsOf(id, q))
}

func (t *mapTx) DeleteEvents(id string, messageIDs ...string) (int, error) {
	if _, ok := t.st.contacts[id]; !ok {
		return 0, fmt.Errorf("mapstore: contact %q: %w", id, contact.ErrNotFound)
	}
	before := len(t.st.events[id])
	t.st.events[id] = slices.DeleteFunc(t.st.events[id], func(r event.Record) bool {
		return slices.Contains(messageIDs, r.MessageID)
	})
	return before - len(t.st.events[id]), nil
}

func (t *mapTx) Processed(messageID string) (bool, error) { return t.st.processed[messageID], nil }

func (t *mapTx) MarkProcessed(messageID string) error {
	t.st.processed[messageID] = true
	return nil
}

func (t *mapTx) Tombstone(userID string) (contact.Tombstone, bool, error) {
	ts, ok := t.st.deletes[userID]
	return ts, ok, nil
}

func (t *mapTx) PutTombstone(ts contact.Tombstone) error {
	if old, ok := t.st.deletes[ts.UserID]; !ok || ts.After(old) {
		t.st.deletes[ts.UserID] = ts
	}
	return nil
}

// A Processor runs on a MapStore as on any other store: here an anonymous track, then
// the identify that stitches it to a user (Rule I3).
func Example_mapStore() {
	ctx := context.Background()
	store := NewMapStore()
	p := regalkit.New(store, nil)
	_, err := p.ProcessBytes(ctx, []byte(`
{"type":"track","anonymousId":"a-1","messageId":"m-1","event":"Signed Up","timestamp":"2024-03-01T12:00:00Z"}
{"type":"identify","userId":"u-42","anonymousId":"a-1","messageId":"m-2","timestamp":"2024-03-01T12:05:00Z","traits":{"firstName":"Ann"}}`))
	if err != nil {
		panic(err)
	}
	found, _ := store.Find(ctx, identity.UserKey("u-42"))
	fmt.Println(len(found), found[0].UserID(), found[0].AnonymousIDs())
	for r, err := range store.Events(ctx, found[0].ID(), contact.EventQuery{}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(r.Kind, r.Name, r.MessageID)
	}
	// Output:
	// 1 u-42 [a-1]
	// track Signed Up m-1
}
