package memstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Writers on a few overlapping contacts (moving keys, adding and deleting events,
// deleting and re-creating contacts, failing on purpose) beside readers of every kind;
// afterwards the internals must be consistent. Run with -race.
func TestConcurrentWorkloadKeepsInvariants(t *testing.T) {
	const writers, steps, contacts = 4, 150, 6
	s := New()
	ctx := context.Background()
	errFail := errors.New("fail on purpose")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range steps {
				id := fmt.Sprintf("c-%d", rng.IntN(contacts))
				op := rng.IntN(6)
				err := s.Update(ctx, func(tx contact.Tx) error {
					c, err := tx.Contact(id)
					if errors.Is(err, contact.ErrNotFound) {
						c = contact.New(id)
						(*contactcore.Contact)(c).SetUserID("u-" + id)
						if err := tx.Insert(c); err != nil {
							return err
						}
					} else if err != nil {
						return err
					}
					switch op {
					case 0: // move a shared anonymous ID here from whoever holds it
						holders, err := tx.Find(identity.AnonymousKey("a-shared"))
						if err != nil {
							return err
						}
						for _, h := range holders {
							if h.ID() != id {
								(*contactcore.Contact)(h).RemoveAnonymousID("a-shared")
								if err := tx.Put(h); err != nil {
									return err
								}
							}
						}
						(*contactcore.Contact)(c).AddAnonymousID("a-shared")
						(*contactcore.Contact)(c).AddAnonymousID(fmt.Sprintf("a-%d-%d", w, i))
						return tx.Put(c)
					case 1, 2:
						_, err := tx.AddEvent(id, event.Record{Kind: event.Track, Name: "E",
							Time: t0.Add(time.Duration(rng.IntN(50)) * time.Minute), MessageID: fmt.Sprintf("m-%d", rng.IntN(40))})
						return err
					case 3:
						_, err := tx.DeleteEvents(id, fmt.Sprintf("m-%d", rng.IntN(40)), fmt.Sprintf("m-%d", rng.IntN(40)))
						return err
					case 4:
						return tx.Delete(id)
					}
					_, err = tx.AddEvent(id, event.Record{Kind: event.Page, Time: t0, MessageID: "m-failed"})
					if err != nil {
						return err
					}
					return errFail
				})
				if op == 5 {
					assert.ErrorIs(t, err, errFail)
				} else {
					assert.NoError(t, err)
				}
			}
		})
	}
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			cs, err := s.Find(ctx, identity.AnonymousKey("a-shared"))
			assert.NoError(t, err)
			assert.LessOrEqual(t, len(cs), 1, "a-shared is on one contact at most")
			for ce, err := range s.Recent(ctx, contact.EventQuery{Limit: 10}) {
				assert.NoError(t, err)
				assert.NotEqual(t, "m-failed", ce.Record.MessageID)
			}
			for _, err := range s.Contacts(ctx) {
				assert.NoError(t, err)
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	checkInvariants(t, s)
}

// An item removed and added back between a read and a commit has a new version: the
// version of absence counts removals.
func TestVersionsNeverRepeat(t *testing.T) {
	s := New()
	ctx := context.Background()
	st := &s.stripes[s.hash.contact("c-1")]
	kh := s.hash.key(identity.UserKey("u-1"))
	ks := &s.stripes[stripeOf(kh)]
	seen := map[string]bool{}
	observe := func() {
		st.mu.RLock()
		cv := st.contactVersion("c-1")
		st.mu.RUnlock()
		ks.mu.RLock()
		kv := ks.keyVersion(kh)
		ks.mu.RUnlock()
		v := fmt.Sprint(cv, "/", kv)
		require.False(t, seen[v], "version %s seen before", v)
		seen[v] = true
	}
	observe()
	for range 3 {
		require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
			c := contact.New("c-1")
			(*contactcore.Contact)(c).SetUserID("u-1")
			return tx.Insert(c)
		}))
		observe()
		require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Delete("c-1") }))
		observe()
	}
}

// TestConcurrentReadsOfAPutContact: Put keeps the contact it is given, which here owns
// its memory (it was changed through contactcore, as the Processor changes contacts),
// and readers of every kind clone it at once, each changing its copy, while a writer
// keeps putting new versions. Put must make the contact own nothing before readers can
// see it, or their clones would write it concurrently: run with -race.
func TestConcurrentReadsOfAPutContact(t *testing.T) {
	const readers, versions = 4, 40
	s := New()
	ctx := context.Background()
	version := func(i int) *contact.Contact {
		c := contactcore.New("c-1")
		c.SetUserID("u-1")
		c.AddAnonymousID("a-1")
		c.AddAnonymousID(fmt.Sprintf("a-v%03d", i))
		c.ApplyTraits(&event.Message{Kind: event.Identify, UserID: "u-1", MessageID: fmt.Sprintf("m-%03d", i),
			Time: time.Date(2024, 3, 1, 12, i, 0, 0, time.UTC),
			Traits: event.Object{
				{Key: "firstName", Value: []byte(fmt.Sprintf(`"V%03d"`, i))},
				{Key: "phone", Value: []byte(`"+19545552399"`)},
				{Key: "plan", Value: []byte(fmt.Sprintf(`"p%d"`, i))},
			}}, nil)
		return (*contact.Contact)(c)
	}
	first := version(0)
	require.False(t, (*contactcore.Contact)(first).Shared(), "the fixture must own memory for the test to mean anything")
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Insert(first) }))
	assert.True(t, (*contactcore.Contact)(first).Shared(), "Insert kept a contact that owns memory")

	scribble := func(c *contact.Contact) {
		cc := (*contactcore.Contact)(c)
		cc.SetUserID("u-scribbled")
		cc.AddAnonymousID("a-scribbled")
		cc.RemoveAnonymousID("a-1")
		cc.ApplyTraits(&event.Message{Kind: event.Identify, UserID: "u-scribbled", MessageID: "m-scribble",
			Time:   time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Traits: event.Object{{Key: "firstName", Value: []byte(`"Scribbled"`)}, {Key: "plan", Value: []byte(`null`)}}}, nil)
	}
	clean := func(c *contact.Contact, how string) {
		if c.UserID() != "u-1" || c.FirstName() == "Scribbled" || slices.Contains(c.AnonymousIDs(), "a-scribbled") {
			t.Errorf("%s read a contact another reader changed: %s %s %v", how, c.UserID(), c.FirstName(), c.AnonymousIDs())
		}
	}

	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= versions; i++ {
			v := version(i)
			assert.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Put(v) }))
			assert.True(t, (*contactcore.Contact)(v).Shared(), "Put kept a contact that owns memory")
		}
	})
	for r := range readers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				switch (n + r) % 4 {
				case 0:
					c, err := s.Contact(ctx, "c-1")
					if assert.NoError(t, err) {
						clean(c, "Contact")
						scribble(c)
					}
				case 1:
					cs, err := s.Find(ctx, identity.AnonymousKey("a-1"))
					if assert.NoError(t, err) && assert.Len(t, cs, 1) {
						clean(cs[0], "Find")
						scribble(cs[0])
					}
				case 2:
					for c, err := range s.Contacts(ctx) {
						if assert.NoError(t, err) {
							clean(c, "Contacts")
							scribble(c)
						}
					}
				default:
					assert.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
						c, err := tx.Contact("c-1")
						if err != nil {
							return err
						}
						clean(c, "Tx.Contact")
						scribble(c)
						return tx.MarkProcessed(fmt.Sprintf("r-%d-%d", r, n))
					}))
				}
			}
		})
	}
	wg.Wait()
	last, err := s.Contact(ctx, "c-1")
	require.NoError(t, err)
	assert.Equal(t, "V040", last.FirstName())
	clean(last, "the final Contact")
}
