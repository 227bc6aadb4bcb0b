package memstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
