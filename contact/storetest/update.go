package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clause: when fn returns nil, the transaction commits: all of its writes become
// visible (Rule S2).
func updateCommitsAllWrites(t tb, s contact.Store) {
	insert(t, s, person("c-2", "u-2"))
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Insert(handOver(person("c-1", "u-1", "a-1"))); err != nil {
			return err
		}
		c2, err := tx.Contact("c-2")
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c2).AddAnonymousID("a-2")
		if err := tx.Put(handOver(c2)); err != nil {
			return err
		}
		if _, err := tx.AddEvent("c-1", record(event.Track, "Signed Up", 1, "m-1")); err != nil {
			return err
		}
		if _, err := tx.AddEvent("c-2", record(event.Page, "Home", 2, "m-2")); err != nil {
			return err
		}
		if err := tx.PutTombstone(tombstone("u-9", 0, "m-9")); err != nil {
			return err
		}
		return tx.MarkProcessed("m-1")
	})

	assert.Equal(t, []string{"c-1", "c-2"}, idsOf(allContacts(t, s)))
	_, deleted := readTombstone(t, s, "u-9")
	assert.True(t, deleted, "tombstone put in a committed transaction")
	assert.Equal(t, []string{"c-1"}, idsOf(find(t, s, identity.AnonymousKey("a-1"))))
	assert.Equal(t, []string{"c-2"}, idsOf(find(t, s, identity.AnonymousKey("a-2"))))
	assert.Equal(t, []string{describe(record(event.Track, "Signed Up", 1, "m-1"))},
		describeAll(events(t, s, "c-1", contact.EventQuery{})))
	assert.Equal(t, []string{describe(record(event.Page, "Home", 2, "m-2"))},
		describeAll(events(t, s, "c-2", contact.EventQuery{})))
	assert.True(t, processed(t, s, "m-1"), "messageId marked in a committed transaction")
}

// Clause (Tx): reads in a transaction see the transaction's own writes.
func updateReadsOwnWrites(t tb, s contact.Store) {
	old := person("c-old", "u-old")
	insert(t, s, old)
	addEvents(t, s, "c-old", record(event.Track, "Old", 0, "m-old"))

	update(t, s, func(tx contact.Tx) error {
		c := person("c-1", "u-1", "a-1")
		require.NoError(t, tx.Insert(handOver(c)))
		got, err := tx.Contact("c-1")
		require.NoError(t, err)
		assert.Equal(t, exportOf(t, c), exportOf(t, got), "Contact after Insert")
		found, err := tx.Find(identity.UserKey("u-1"))
		require.NoError(t, err)
		assert.Equal(t, []string{"c-1"}, idsOf(found), "Find after Insert")

		r := record(event.Track, "Signed Up", 1, "m-1")
		_, err = tx.AddEvent("c-1", r)
		require.NoError(t, err)
		assert.Equal(t, []string{describe(r)}, describeAll(collect(t, tx.Events("c-1", contact.EventQuery{}))),
			"Events after AddEvent")
		n, err := tx.DeleteEvents("c-1", "m-1")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Empty(t, collect(t, tx.Events("c-1", contact.EventQuery{})), "Events after DeleteEvents")

		done, err := tx.Processed("m-1")
		require.NoError(t, err)
		assert.False(t, done)
		require.NoError(t, tx.MarkProcessed("m-1"))
		done, err = tx.Processed("m-1")
		require.NoError(t, err)
		assert.True(t, done, "Processed after MarkProcessed")

		require.NoError(t, tx.PutTombstone(tombstone("u-gone", 0, "m-delete")))
		ts, ok, err := tx.Tombstone("u-gone")
		require.NoError(t, err)
		assert.True(t, ok, "Tombstone after PutTombstone")
		sameTombstone(t, tombstone("u-gone", 0, "m-delete"), ts, "Tombstone after PutTombstone")

		(*contactcore.Contact)(c).RemoveAnonymousID("a-1")
		(*contactcore.Contact)(c).AddAnonymousID("a-2")
		require.NoError(t, tx.Put(handOver(c)))
		found, err = tx.Find(identity.AnonymousKey("a-1"))
		require.NoError(t, err)
		assert.Empty(t, found, "Find by a key the Put removed")
		found, err = tx.Find(identity.AnonymousKey("a-2"))
		require.NoError(t, err)
		assert.Equal(t, []string{"c-1"}, idsOf(found), "Find by a key the Put added")

		require.NoError(t, tx.Delete("c-1"))
		_, err = tx.Contact("c-1")
		assert.ErrorIs(t, err, contact.ErrNotFound, "Contact after Delete")
		found, err = tx.Find(identity.UserKey("u-1"))
		require.NoError(t, err)
		assert.Empty(t, found, "Find after Delete")

		// A contact deleted and inserted again in one transaction starts without the
		// events of the one deleted (Rule I7).
		require.NoError(t, tx.Delete("c-old"))
		require.NoError(t, tx.Insert(handOver(person("c-old", "u-new"))))
		assert.Empty(t, collect(t, tx.Events("c-old", contact.EventQuery{})), "Events of a contact deleted and inserted again")
		return nil
	})

	_, err := s.Contact(context.Background(), "c-1")
	assert.ErrorIs(t, err, contact.ErrNotFound)
	assert.Equal(t, "u-new", get(t, s, "c-old").UserID())
	assert.Empty(t, events(t, s, "c-old", contact.EventQuery{}))
	assert.Empty(t, find(t, s, identity.UserKey("u-old")))
	assert.True(t, processed(t, s, "m-1"))
	_, ok := readTombstone(t, s, "u-gone")
	assert.True(t, ok)
}

// fixtureForNothing stores two contacts, one with an event, and returns what to compare
// before and after a transaction that must change nothing.
func fixtureForNothing(t tb, s contact.Store) func() state {
	insert(t, s, person("c-1", "u-1", "a-1"), person("c-2", "u-2"))
	addEvents(t, s, "c-1", record(event.Track, "Signed Up", 0, "m-0"))
	keys := []identity.Key{
		identity.UserKey("u-1"), identity.UserKey("u-2"), identity.UserKey("u-3"),
		identity.AnonymousKey("a-1"), identity.AnonymousKey("a-9"),
	}
	return func() state {
		return stateOf(t, s, []string{"c-1", "c-2", "c-3"}, keys, []string{"m-0", "m-1"})
	}
}

// writeEverything makes one write of every kind.
func writeEverything(tx contact.Tx) error {
	if err := tx.Insert(handOver(person("c-3", "u-3"))); err != nil {
		return err
	}
	c1, err := tx.Contact("c-1")
	if err != nil {
		return err
	}
	(*contactcore.Contact)(c1).AddAnonymousID("a-9")
	if err := tx.Put(handOver(c1)); err != nil {
		return err
	}
	if _, err := tx.AddEvent("c-1", record(event.Track, "Again", 1, "m-1")); err != nil {
		return err
	}
	if _, err := tx.DeleteEvents("c-1", "m-0"); err != nil {
		return err
	}
	if err := tx.Delete("c-2"); err != nil {
		return err
	}
	if err := tx.PutTombstone(tombstone("u-2", 1, "m-1")); err != nil {
		return err
	}
	return tx.MarkProcessed("m-1")
}

var errFromFn = errors.New("storetest: the transaction function failed")

// Clause: when fn returns an error, nothing fn wrote is kept and Update returns that
// error (Rule S2: a failed message changes nothing).
func updateErrorLeavesNothing(t tb, s contact.Store) {
	snapshot := fixtureForNothing(t, s)
	before := snapshot()
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		if err := writeEverything(tx); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errFromFn)
	})
	assert.ErrorIs(t, err, errFromFn, "Update returns fn's error")
	assert.Equal(t, before, snapshot(), "a failed transaction left writes behind")
}

// Clause: when ctx is done before the commit, nothing fn wrote is kept and Update
// returns ctx.Err() (Rule S2: a cancelled message changes nothing).
func updateCancelledContextLeavesNothing(t tb, s contact.Store) {
	snapshot := fixtureForNothing(t, s)
	before := snapshot()

	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx contact.Tx) error {
		err := writeEverything(tx)
		cancel() // done after the writes, before the commit
		return err
	})
	assert.ErrorIs(t, err, context.Canceled, "cancelled during fn")
	assert.Equal(t, before, snapshot(), "a transaction cancelled during fn left writes behind")

	err = s.Update(ctx, writeEverything)
	assert.ErrorIs(t, err, context.Canceled, "cancelled before Update")
	assert.Equal(t, before, snapshot(), "a transaction cancelled before Update left writes behind")
}

// Clause: two transactions that touch the same contact are serialized; many messages
// for one contact processed at once lose no update (Rule S2).
func updateNoLostUpdates(t tb, s contact.Store) {
	const goroutines, updates = 8, 16
	insert(t, s, person("c-1", "u-1"))
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range updates {
				tag := fmt.Sprintf("g%d-%02d", g, i)
				err := s.Update(context.Background(), func(tx contact.Tx) error {
					c, err := tx.Contact("c-1")
					if err != nil {
						return err
					}
					(*contactcore.Contact)(c).AddAnonymousID(tag)
					if err := tx.Put(handOver(c)); err != nil {
						return err
					}
					_, err = tx.AddEvent("c-1", record(event.Track, "Tick", i, tag))
					return err
				})
				assert.NoError(t, err, tag)
			}
		})
	}
	wg.Wait()

	c := get(t, s, "c-1")
	assert.Len(t, c.AnonymousIDs(), goroutines*updates, "every anonymous ID added lands")
	assert.Len(t, events(t, s, "c-1", contact.EventQuery{}), goroutines*updates, "every event added lands")
	for _, a := range c.AnonymousIDs() {
		assert.Equal(t, []string{"c-1"}, idsOf(find(t, s, identity.AnonymousKey(a))), "index of %s", a)
	}
}

// interleaveWait is how long the first run of the outer transaction waits for the inner
// one to finish. A store that serializes by locking makes the inner transaction wait
// for the outer one instead; the wait then simply runs out.
const interleaveWait = 200 * time.Millisecond

// interleave runs outer in a transaction. When outer first calls mid, inner runs in
// another transaction on another goroutine, and outer waits for it (see
// interleaveWait). Whatever the store does, the result must be as if one transaction
// ran entirely before the other. interleave reports whether inner finished first,
// while outer waited; otherwise the store made it wait for outer.
func interleave(t tb, s contact.Store, outer func(tx contact.Tx, mid func()) error, inner func(tx contact.Tx) error) (innerFirst bool) {
	t.Helper()
	innerDone := make(chan error, 1)
	started := false
	mid := func() {
		if started {
			return
		}
		started = true
		go func() { innerDone <- s.Update(context.Background(), inner) }()
		select {
		case err := <-innerDone:
			innerDone <- err
			innerFirst = true
		case <-time.After(interleaveWait):
		}
	}
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error { return outer(tx, mid) }))
	require.True(t, started, "outer transaction called mid")
	require.NoError(t, <-innerDone)
	return innerFirst
}

// Clause: two transactions that touch the same contact never both commit as if the
// other had not run (Rule S2).
func updateSerializesContactConflicts(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	addTo := func(tx contact.Tx, tag string) error {
		c, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID(tag)
		return tx.Put(handOver(c))
	}
	interleave(t, s,
		func(tx contact.Tx, mid func()) error {
			c, err := tx.Contact("c-1")
			if err != nil {
				return err
			}
			mid() // another transaction changes c-1 after this one read it
			(*contactcore.Contact)(c).AddAnonymousID("outer")
			return tx.Put(handOver(c))
		},
		func(tx contact.Tx) error { return addTo(tx, "inner") })
	assert.Equal(t, []string{"inner", "outer"}, get(t, s, "c-1").AnonymousIDs(), "both updates land")
}

// Clause: two transactions that touch the same messageId never both commit as if the
// other had not run: a message is applied once (Rule E2).
func updateSerializesMessageIDConflicts(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	apply := func(tx contact.Tx, id string, mid func()) error {
		done, err := tx.Processed("m-1")
		if err != nil {
			return err
		}
		mid()
		if done {
			return nil // a duplicate
		}
		c, err := tx.Contact(id)
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID("applied")
		if err := tx.Put(handOver(c)); err != nil {
			return err
		}
		return tx.MarkProcessed("m-1")
	}
	interleave(t, s,
		func(tx contact.Tx, mid func()) error { return apply(tx, "c-1", mid) },
		func(tx contact.Tx) error { return apply(tx, "c-2", func() {}) })
	applied := 0
	for _, id := range []string{"c-1", "c-2"} {
		if slices.Contains(get(t, s, id).AnonymousIDs(), "applied") {
			applied++
		}
	}
	assert.Equal(t, 1, applied, "the message was applied once, not by both transactions")
}

// Clause: two transactions that touch the same lookup key never both commit as if the
// other had not run: two messages for a new user create one contact (Rule I1).
func updateSerializesLookupKeyConflicts(t tb, s contact.Store) {
	create := func(tx contact.Tx, id string, mid func()) error {
		found, err := tx.Find(identity.UserKey("u-new"))
		if err != nil {
			return err
		}
		mid()
		if len(found) > 0 {
			return nil
		}
		return tx.Insert(handOver(person(id, "u-new")))
	}
	interleave(t, s,
		func(tx contact.Tx, mid func()) error { return create(tx, "c-outer", mid) },
		func(tx contact.Tx) error { return create(tx, "c-inner", func() {}) })
	assert.Len(t, find(t, s, identity.UserKey("u-new")), 1, "one contact for the new user")
	assert.Len(t, allContacts(t, s), 1)
}
