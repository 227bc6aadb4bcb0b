package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/contact/storetest"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) contact.Store { return memstore.New() })
}

var t0 = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

func person(id, userID string, anonymousIDs ...string) *contact.Contact {
	c := contact.New(id)
	(*contactcore.Contact)(c).SetUserID(userID)
	for _, a := range anonymousIDs {
		(*contactcore.Contact)(c).AddAnonymousID(a)
	}
	return c
}

func insert(t *testing.T, s *memstore.Store, cs ...*contact.Contact) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error {
		for _, c := range cs {
			if err := tx.Insert(c); err != nil {
				return err
			}
		}
		return nil
	}))
}

// addAnonymousID adds an anonymous ID to a contact in tx.
func addAnonymousID(tx contact.Tx, id, anonymousID string) error {
	c, err := tx.Contact(id)
	if err != nil {
		return err
	}
	(*contactcore.Contact)(c).AddAnonymousID(anonymousID)
	return tx.Put(c)
}

// changeDuring runs an Update that reads c-1 and, in its first run only, lets another
// transaction change c-1 (and c-2) to completion before it goes on. It returns the
// number of runs of fn and Update's error.
func changeDuring(t *testing.T, s *memstore.Store, fn func(tx contact.Tx, interfere func()) error) (int, error) {
	t.Helper()
	runs := 0
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		runs++
		return fn(tx, func() {
			if runs > 1 {
				return
			}
			done := make(chan error)
			go func() {
				done <- s.Update(context.Background(), func(tx contact.Tx) error {
					if err := addAnonymousID(tx, "c-1", "a-inner"); err != nil {
						return err
					}
					return addAnonymousID(tx, "c-2", "a-inner")
				})
			}()
			require.NoError(t, <-done)
		})
	})
	return runs, err
}

func TestUpdateRunsFnAgainAfterAConflict(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	runs, err := changeDuring(t, s, func(tx contact.Tx, interfere func()) error {
		c, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		interfere()
		(*contactcore.Contact)(c).AddAnonymousID("a-outer")
		return tx.Put(c)
	})
	require.NoError(t, err)
	assert.Equal(t, 2, runs, "the first run read what the other transaction changed")
	c, err := s.Contact(context.Background(), "c-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a-inner", "a-outer"}, c.AnonymousIDs())
}

func TestUpdateGivesUpWithErrConflict(t *testing.T) {
	s := memstore.New()
	memstore.SetMaxAttempts(s, 1)
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	runs, err := changeDuring(t, s, func(tx contact.Tx, interfere func()) error {
		c, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		interfere()
		(*contactcore.Contact)(c).AddAnonymousID("a-outer")
		return tx.Put(c)
	})
	require.ErrorIs(t, err, contact.ErrConflict)
	assert.True(t, strings.HasPrefix(err.Error(), "memstore: "), err.Error())
	assert.Equal(t, 1, runs)
	c, err := s.Contact(context.Background(), "c-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a-inner"}, c.AnonymousIDs(), "nothing of the transaction that gave up")
}

// A transaction never sees part of another, even before its commit: a read that would
// mix two states fails with ErrConflict, and Update runs fn again, even when fn
// returned that error (or another).
func TestTxSeesOneStateThroughout(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	var firstErr error
	runs, err := changeDuring(t, s, func(tx contact.Tx, interfere func()) error {
		a, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		interfere() // changes c-1 and c-2 together
		b, err := tx.Contact("c-2")
		if firstErr == nil {
			firstErr = err
		}
		if err != nil {
			return fmt.Errorf("reading c-2: %w", err)
		}
		if len(a.AnonymousIDs()) != len(b.AnonymousIDs()) {
			return errors.New("saw half of a transaction")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, runs)
	assert.ErrorIs(t, firstErr, contact.ErrConflict, "the read that would have mixed two states")
}

func TestUpdateReturnsFnErrorWithoutRetry(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"))
	errFn := errors.New("refused")
	runs := 0
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		runs++
		if _, err := tx.Contact("c-1"); err != nil {
			return err
		}
		return errFn
	})
	assert.ErrorIs(t, err, errFn)
	assert.Equal(t, 1, runs)
}

func TestTxUnusableAfterUpdate(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"))
	var kept contact.Tx
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error {
		kept = tx
		return nil
	}))
	_, err := kept.Contact("c-1")
	assert.Error(t, err)
	assert.Error(t, kept.Put(person("c-1", "u-2")))
	_, err = kept.Processed("m-1")
	assert.Error(t, err)
	for _, err := range kept.Events("c-1", contact.EventQuery{}) {
		assert.Error(t, err)
	}
	c, err := s.Contact(context.Background(), "c-1")
	require.NoError(t, err)
	assert.Equal(t, "u-1", c.UserID())
}

func TestMisuseIsAnErrorNotAPanic(t *testing.T) {
	s := memstore.New()
	assert.Error(t, s.Update(context.Background(), nil))
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error {
		assert.Error(t, tx.Insert(nil))
		assert.Error(t, tx.Put(nil))
		return nil
	}))
}

// Transactions on different contacts run their functions at the same time: no lock is
// held while fn runs.
func TestDistinctContactsRunInParallel(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	var wg sync.WaitGroup
	for _, id := range []string{"c-1", "c-2"} {
		wg.Go(func() {
			err := s.Update(context.Background(), func(tx contact.Tx) error {
				if err := addAnonymousID(tx, id, "a-"+id); err != nil {
					return err
				}
				arrived.Done()
				select {
				case <-both:
					return nil
				case <-time.After(10 * time.Second):
					return errors.New("the other transaction never ran beside this one")
				}
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

// Commits on different contacts never conflict, even when the contacts share a stripe:
// versions are per item.
func TestDistinctContactsNeverConflict(t *testing.T) {
	const goroutines, updates = 4, 300
	s := memstore.New()
	for g := range goroutines {
		insert(t, s, person(fmt.Sprintf("c-%d", g), fmt.Sprintf("u-%d", g)))
	}
	var runs atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			id := fmt.Sprintf("c-%d", g)
			for i := range updates {
				err := s.Update(context.Background(), func(tx contact.Tx) error {
					runs.Add(1)
					cs, err := tx.Find(identity.UserKey(fmt.Sprintf("u-%d", g)))
					if err != nil {
						return err
					}
					c := cs[0]
					(*contactcore.Contact)(c).AddAnonymousID(fmt.Sprintf("a-%d-%d", g, i))
					if err := tx.Put(c); err != nil {
						return err
					}
					if _, err := tx.AddEvent(id, event.Record{Kind: event.Track, Time: t0, MessageID: fmt.Sprintf("m-%d", i)}); err != nil {
						return err
					}
					return tx.MarkProcessed(fmt.Sprintf("m-%d-%d", g, i))
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(goroutines*updates), runs.Load(), "no transaction ran twice")
}

// Many events on one contact: past the scan threshold, out of order, with duplicates
// and deletions.
func TestManyEventsOnOneContact(t *testing.T) {
	const n = 1000
	s := memstore.New()
	ctx := context.Background()
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	rng := rand.New(rand.NewPCG(1, 2))
	order := rng.Perm(n)
	for start := 0; start < n; start += 100 {
		require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
			for _, i := range order[start : start+100] {
				r := event.Record{Kind: event.Track, Name: "E", Time: t0.Add(time.Duration(i/2) * time.Second), MessageID: fmt.Sprintf("m-%04d", i)}
				added, err := tx.AddEvent("c-1", r)
				require.NoError(t, err)
				require.True(t, added)
				again, err := tx.AddEvent("c-1", r)
				require.NoError(t, err)
				require.False(t, again)
			}
			return nil
		}))
	}
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		for i := range n {
			added, err := tx.AddEvent("c-1", event.Record{Kind: event.Page, Time: t0, MessageID: fmt.Sprintf("m-%04d", i)})
			require.NoError(t, err)
			require.False(t, added, "m-%04d is there already", i)
		}
		var odd []string
		for i := 1; i < n; i += 2 {
			odd = append(odd, fmt.Sprintf("m-%04d", i))
		}
		deleted, err := tx.DeleteEvents("c-1", odd...)
		require.NoError(t, err)
		assert.Equal(t, n/2, deleted)
		_, err = tx.AddEvent("c-2", event.Record{Kind: event.Track, Time: t0.Add(time.Hour), MessageID: "m-c2"})
		return err
	}))

	i := 0
	for r, err := range s.Events(ctx, "c-1", contact.EventQuery{}) {
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m-%04d", i), r.MessageID)
		i += 2
	}
	assert.Equal(t, n, i)
	var recent []string
	for ce, err := range s.Recent(ctx, contact.EventQuery{Limit: 3}) {
		require.NoError(t, err)
		recent = append(recent, ce.ContactID+":"+ce.Record.MessageID)
	}
	assert.Equal(t, []string{"c-2:m-c2", "c-1:m-0998", "c-1:m-0996"}, recent)

	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Delete("c-1") }))
	recent = recent[:0]
	for ce, err := range s.Recent(ctx, contact.EventQuery{}) {
		require.NoError(t, err)
		recent = append(recent, ce.ContactID+":"+ce.Record.MessageID)
	}
	assert.Equal(t, []string{"c-2:m-c2"}, recent)
}

// The errors the store makes name it and wrap the contact sentinels.
func TestErrors(t *testing.T) {
	s := memstore.New()
	insert(t, s, person("c-1", "u-1"))
	_, err := s.Contact(context.Background(), "c-nobody")
	require.ErrorIs(t, err, contact.ErrNotFound)
	assert.Equal(t, `memstore: contact "c-nobody": contact: not found`, err.Error())
	require.NoError(t, s.Update(context.Background(), func(tx contact.Tx) error {
		err := tx.Insert(person("c-1", "u-1"))
		require.ErrorIs(t, err, contact.ErrExists)
		assert.Equal(t, `memstore: contact "c-1": contact: already exists`, err.Error())
		assert.EqualError(t, tx.Insert(contact.New("")), "memstore: contact has no id")
		return nil
	}))
}

// TestTxKeptPastUpdate: a Tx used after its Update returned fails with an error and
// neither reads nor changes anything, even though its bookkeeping went back to a pool
// and serves later transactions (issue 14).
func TestTxKeptPastUpdate(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	insert(t, s, person("c1", "u1"), person("c2", "u2"))
	var kept contact.Tx
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		kept = tx
		_, err := tx.Contact("c1")
		return err
	}))
	// Later transactions take the pooled state; one is open while the kept Tx is used.
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		assert.True(t, tx != kept, "a handle is never handed out twice")
		c, err := tx.Contact("c2")
		require.NoError(t, err)
		_, err = kept.Contact("c1")
		assert.Error(t, err)
		assert.Error(t, kept.Put(person("c1", "changed")))
		assert.Error(t, kept.Delete("c1"))
		_, err = kept.AddEvent("c1", event.Record{Kind: event.Track, Name: "x", Time: t0, MessageID: "m-kept"})
		assert.Error(t, err)
		assert.Error(t, kept.MarkProcessed("m-kept"))
		_, err = kept.Find(identity.UserKey("u1"))
		assert.Error(t, err)
		for _, err := range kept.Events("c1", contact.EventQuery{}) {
			assert.Error(t, err)
		}
		(*contactcore.Contact)(c).SetUserID("u2b")
		return tx.Put(c)
	}))
	got, err := s.Contact(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "u1", got.UserID())
	got, err = s.Contact(ctx, "c2")
	require.NoError(t, err)
	assert.Equal(t, "u2b", got.UserID())
	n := 0
	for _, err := range s.Events(ctx, "c1", contact.EventQuery{}) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
	var processed bool
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		var err error
		processed, err = tx.Processed("m-kept")
		return err
	}))
	assert.False(t, processed)
}

// TestDeletedContactIsNotKeptAlive: entries are cut from shared slabs (issue 14); a
// deleted contact's slot outlives it while another contact's entry keeps the slab, but
// the contact it held does not.
func TestDeletedContactIsNotKeptAlive(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	gone := make(chan struct{})
	func() {
		c1 := person("c1", "u1")
		runtime.AddCleanup(c1, func(ch chan struct{}) { close(ch) }, gone)
		insert(t, s, c1, person("c2", "u2")) // likely one slab: c2's entry keeps it alive
	}()
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Delete("c1") }))
	for range 20 {
		runtime.GC()
		select {
		case <-gone:
			_, err := s.Contact(ctx, "c2")
			require.NoError(t, err) // c2 and its slab are alive
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the deleted contact is still reachable from the store")
}
