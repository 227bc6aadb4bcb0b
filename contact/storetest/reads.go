package storetest

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
)

// Clause: no reader ever sees part of a transaction: Find, Contacts and Recent each see
// a state some transaction committed, and so does every transaction (Rule S2).
//
// A writer moves an anonymous ID back and forth between two contacts and gives both the
// same new event in each transaction, while readers check that exactly one contact
// holds the ID and that no event has only one of its pair.
func readsNeverSeeHalfATransaction(t tb, s contact.Store) {
	const moves = 150
	token := identity.AnonymousKey("a-token")
	insert(t, s, person("c-a", "u-a", token.Value), person("c-b", "u-b"))

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer stop.Store(true)
		for i := range moves {
			m := fmt.Sprintf("mv-%03d", i)
			err := s.Update(context.Background(), func(tx contact.Tx) error {
				a, err := tx.Contact("c-a")
				if err != nil {
					return err
				}
				b, err := tx.Contact("c-b")
				if err != nil {
					return err
				}
				from, to := a, b
				if !slices.Contains(a.AnonymousIDs(), token.Value) {
					from, to = b, a
				}
				(*contactcore.Contact)(from).RemoveAnonymousID(token.Value)
				(*contactcore.Contact)(to).AddAnonymousID(token.Value)
				for _, c := range []*contact.Contact{a, b} {
					if err := tx.Put(handOver(c)); err != nil {
						return err
					}
					if _, err := tx.AddEvent(c.ID(), record(event.Track, "Moved", i, m)); err != nil {
						return err
					}
				}
				return nil
			})
			assert.NoError(t, err, "move %d", i)
		}
	})
	holders := func(cs []*contact.Contact) int {
		n := 0
		for _, c := range cs {
			if slices.Contains(c.AnonymousIDs(), token.Value) {
				n++
			}
		}
		return n
	}
	readers := []func() bool{
		func() bool {
			cs, err := s.Find(context.Background(), token)
			return assert.NoError(t, err) && assert.Len(t, cs, 1, "Find sees the ID on exactly one contact")
		},
		func() bool {
			var cs []*contact.Contact
			for c, err := range s.Contacts(context.Background()) {
				if !assert.NoError(t, err) {
					return false
				}
				cs = append(cs, c)
			}
			return assert.Equal(t, 1, holders(cs), "Contacts sees the ID on exactly one contact")
		},
		func() bool {
			count := map[string]int{}
			for ce, err := range s.Recent(context.Background(), contact.EventQuery{}) {
				if !assert.NoError(t, err) {
					return false
				}
				count[ce.Record.MessageID]++
			}
			for m, n := range count {
				if !assert.Equal(t, 2, n, "Recent sees both events of %s", m) {
					return false
				}
			}
			return true
		},
		func() bool {
			// In a transaction: what the committed run saw must be one state.
			var held, na, nb int
			err := s.Update(context.Background(), func(tx contact.Tx) error {
				var cs []*contact.Contact
				for _, id := range []string{"c-a", "c-b"} {
					c, err := tx.Contact(id)
					if err != nil {
						return err
					}
					cs = append(cs, c)
				}
				held = holders(cs)
				na = len(slices.Collect(values(tx.Events("c-a", contact.EventQuery{}))))
				nb = len(slices.Collect(values(tx.Events("c-b", contact.EventQuery{}))))
				return nil
			})
			return assert.NoError(t, err) &&
				assert.Equal(t, 1, held, "a transaction sees the ID on exactly one contact") &&
				assert.Equal(t, na, nb, "a transaction sees both events of every move")
		},
	}
	for _, read := range readers {
		wg.Go(func() {
			for !stop.Load() {
				if !read() {
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Len(t, events(t, s, "c-a", contact.EventQuery{}), moves)
}

// values drops the errors of an iterator; the caller checks the count.
func values[V any](seq iter.Seq2[V, error]) iter.Seq[V] {
	return func(yield func(V) bool) {
		for v, err := range seq {
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// Clause: an iterator stops with ctx.Err() when ctx is done: a done context yields the
// error and nothing else; a context cancelled during the iteration makes the next
// yield the error, and the iteration ends there.
func contextCancelledIterators(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"), person("c-3", "u-3"))
	addEvents(t, s, "c-1", record(event.Track, "A", 0, "m-1"), record(event.Track, "B", 1, "m-2"), record(event.Track, "C", 2, "m-3"))
	addEvents(t, s, "c-2", record(event.Track, "A", 3, "m-4")) // a second "A", for Named

	iterators := map[string]func(ctx context.Context) iter.Seq2[any, error]{
		"Events": func(ctx context.Context) iter.Seq2[any, error] {
			return anySeq(s.Events(ctx, "c-1", contact.EventQuery{}))
		},
		"Recent": func(ctx context.Context) iter.Seq2[any, error] {
			return anySeq(s.Recent(ctx, contact.EventQuery{}))
		},
		"Contacts": func(ctx context.Context) iter.Seq2[any, error] { return anySeq(s.Contacts(ctx)) },
		"Named": func(ctx context.Context) iter.Seq2[any, error] {
			return anySeq(s.Named(ctx, contact.EventQuery{Name: "A"}))
		},
	}
	for name, seq := range iterators {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var items, errs int
		for _, err := range seq(ctx) {
			if err != nil {
				assert.ErrorIs(t, err, context.Canceled, "%s with a done context", name)
				errs++
			} else {
				items++
			}
		}
		assert.Zero(t, items, "%s with a done context yields no item", name)
		assert.Equal(t, 1, errs, "%s with a done context yields the error once", name)

		ctx, cancel = context.WithCancel(context.Background())
		items, errs = 0, 0
		afterErr := 0
		for _, err := range seq(ctx) {
			if errs > 0 {
				afterErr++
			}
			if err != nil {
				assert.ErrorIs(t, err, context.Canceled, "%s cancelled during the iteration", name)
				errs++
				continue
			}
			items++
			cancel()
		}
		cancel()
		assert.Equal(t, 1, items, "%s yields no item after the cancellation", name)
		assert.Equal(t, 1, errs, "%s cancelled during the iteration yields the error", name)
		assert.Zero(t, afterErr, "%s stops after the error", name)
	}
}

func anySeq[V any](seq iter.Seq2[V, error]) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for v, err := range seq {
			if !yield(v, err) {
				return
			}
		}
	}
}
