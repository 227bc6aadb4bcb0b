package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// checkInvariants checks the store's internal state: every item in the stripe its
// hash names; the index exactly the keys of the stored contacts; each contact's events
// sorted, unique by messageId and findable through byID; each stripe's timeline exactly
// the events of its contacts.
func checkInvariants(t require.TestingT, s *Store) {
	unlock := s.rLockAll()
	defer unlock()
	wantIndex := map[uint64][]string{}
	gotIndex := map[uint64][]string{}
	for si := range s.stripes {
		st := &s.stripes[si]
		var stripeEvents []*storedEvent
		for id, e := range st.contacts {
			require.Equal(t, uint8(si), s.hash.contact(id), "contact %s in the wrong stripe", id)
			require.Equal(t, id, e.c.ID())
			require.NotZero(t, e.version)
			require.Less(t, e.version, uint64(absent))
			require.LessOrEqual(t, e.version, st.clock)
			var hashes []uint64
			for _, k := range e.c.Keys() {
				wantIndex[s.hash.key(k)] = append(wantIndex[s.hash.key(k)], id)
				hashes = append(hashes, s.hash.key(k))
			}
			slices.Sort(hashes)
			require.True(t, slices.Equal(hashes, e.keys.get()), "the entry's key hashes of %s: %x, want %x", id, e.keys.get(), hashes)
			require.Equal(t, len(hashes) > len(e.keys.small), e.keys.big != nil, "inline up to %d", len(e.keys.small))
			var evs []*storedEvent
			if e.events.list.chunks != nil {
				evs = checkList(t, &e.events.list, byContactOrder)
				require.NotEmpty(t, evs, "an empty event list is nil")
			}
			ids := map[string]bool{}
			for _, ev := range evs {
				require.Equal(t, id, ev.contactID())
				require.False(t, ids[ev.messageID()], "messageId %s twice on %s", ev.messageID(), id)
				ids[ev.messageID()] = true
				require.Same(t, ev, e.event(ev.messageID()))
			}
			if e.events.byID != nil {
				require.Len(t, e.events.byID, len(evs))
			} else {
				require.LessOrEqual(t, len(evs), linearLookup)
			}
			stripeEvents = append(stripeEvents, evs...)
		}
		slices.SortFunc(stripeEvents, byTimelineOrder)
		require.Equal(t, fmt.Sprint(stripeEvents), fmt.Sprint(checkList(t, &st.timeline, byTimelineOrder)), "timeline of stripe %d", si)
		for h, e := range st.keys {
			require.Equal(t, uint8(si), stripeOf(h), "key hash %x in the wrong stripe", h)
			require.NotZero(t, e.version)
			require.True(t, (e.one == "") != (e.more == nil), "key hash %x: one id inline or a list, not both", h)
			if e.more != nil {
				require.Greater(t, len(*e.more), 1, "key hash %x: a list of one", h)
			}
			ids := e.ids()
			require.NotEmpty(t, ids)
			require.True(t, slices.IsSorted(ids))
			gotIndex[h] = ids
		}
		for m := range st.processed.all() {
			require.Equal(t, uint8(si), s.hash.processed(m), "messageId %s in the wrong stripe", m)
		}
		for u, te := range st.tombstones {
			require.Equal(t, uint8(si), s.hash.tombstone(u), "tombstone %s in the wrong stripe", u)
			require.Equal(t, u, te.ts.UserID)
			require.NotZero(t, te.version)
		}
	}
	for _, ids := range wantIndex {
		slices.Sort(ids)
	}
	require.Equal(t, wantIndex, gotIndex, "the index is the keys of the stored contacts")
}

// model is what the store should hold, kept the obvious way.
type model struct {
	contacts  map[string]*contact.Contact
	events    map[string][]event.Record
	processed map[string]bool
	deletes   map[string]contact.Tombstone
}

func (m *model) clone() *model {
	c := &model{contacts: maps.Clone(m.contacts), events: maps.Clone(m.events), processed: maps.Clone(m.processed), deletes: maps.Clone(m.deletes)}
	for id, rs := range c.events {
		c.events[id] = slices.Clone(rs)
	}
	return c
}

func (m *model) find(k identity.Key) []string {
	ids := []string{}
	for id, c := range m.contacts {
		if slices.Contains(c.Keys(), k) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (m *model) list(id string, q contact.EventQuery) []string {
	rs := slices.Clone(m.events[id])
	slices.SortFunc(rs, func(a, b event.Record) int { return contact.CompareEvents(&a, &b) })
	out := []string{}
	for _, r := range rs {
		if q.Match(&r) && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, r.MessageID+"@"+r.Name)
		}
	}
	return out
}

func (m *model) recent(q contact.EventQuery) []string {
	var all []contact.ContactEvent
	for id, rs := range m.events {
		for _, r := range rs {
			if q.Match(&r) {
				all = append(all, contact.ContactEvent{ContactID: id, Record: r})
			}
		}
	}
	slices.SortFunc(all, func(a, b contact.ContactEvent) int {
		return cmp.Or(contact.CompareEvents(&b.Record, &a.Record), cmp.Compare(b.ContactID, a.ContactID))
	})
	out := []string{}
	for _, ce := range all {
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
		out = append(out, ce.ContactID+":"+ce.Record.MessageID)
	}
	return out
}

func names(seq func(yield func(event.Record, error) bool)) ([]string, error) {
	out := []string{}
	for r, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, r.MessageID+"@"+r.Name)
	}
	return out, nil
}

// exportOf returns the contact in the storage encoding, clocks included, for comparing
// contacts exactly.
func exportOf(t require.TestingT, c *contact.Contact) string {
	b, err := contact.EncodeStorage(c)
	require.NoError(t, err)
	return string(b)
}

var (
	modelIDs  = []string{"c-0", "c-1", "c-2", "c-3"}
	modelKeys = []identity.Key{
		identity.UserKey("u-0"), identity.UserKey("u-1"), identity.UserKey("u-2"),
		identity.AnonymousKey("a-0"), identity.AnonymousKey("a-1"), identity.AnonymousKey("a-2"),
	}
	errRollback = errors.New("rollback")
)

func drawContact(t *rapid.T, id string) *contact.Contact {
	c := contact.New(id)
	if u := rapid.IntRange(-1, 2).Draw(t, "user"); u >= 0 {
		(*contactcore.Contact)(c).SetUserID(fmt.Sprintf("u-%d", u))
	}
	for a := range 3 {
		if rapid.Bool().Draw(t, "anon") {
			(*contactcore.Contact)(c).AddAnonymousID(fmt.Sprintf("a-%d", a))
		}
	}
	return c
}

func drawQuery(t *rapid.T) contact.EventQuery {
	var q contact.EventQuery
	if rapid.Bool().Draw(t, "filter") {
		q.Name = rapid.SampledFrom([]string{"", "A", "B"}).Draw(t, "name")
		if rapid.Bool().Draw(t, "since") {
			q.Since = t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "sinceMin")) * time.Minute)
		}
		if rapid.Bool().Draw(t, "until") {
			q.Until = t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "untilMin")) * time.Minute)
		}
		q.Limit = rapid.IntRange(0, 3).Draw(t, "limit")
	}
	return q
}

// errorIs reports whether err and want agree: both nil, or err matching want.
func errorIs(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// Random transactions of random operations, some rolled back, against the model:
// every result in the transaction, and the committed state after it, must agree, and
// the store's internals must stay consistent.
func TestStoreAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New()
		if rapid.Bool().Draw(t, "colliding") {
			s = newColliding()
		}
		m := &model{contacts: map[string]*contact.Contact{}, events: map[string][]event.Record{}, processed: map[string]bool{}, deletes: map[string]contact.Tombstone{}}
		ctx := context.Background()
		for range rapid.IntRange(1, 12).Draw(t, "transactions") {
			work := m.clone()
			ops := rapid.IntRange(1, 8).Draw(t, "ops")
			rollback := rapid.IntRange(0, 4).Draw(t, "rollback") == 0
			// The draws happen in the first run of fn; a store this test runs alone
			// never runs fn twice.
			runs := 0
			err := s.Update(ctx, func(tx contact.Tx) error {
				runs++
				require.Equal(t, 1, runs)
				for range ops {
					id := rapid.SampledFrom(modelIDs).Draw(t, "id")
					_, exists := work.contacts[id]
					notFound := error(nil)
					if !exists {
						notFound = contact.ErrNotFound
					}
					switch op := rapid.IntRange(0, 11).Draw(t, "op"); op {
					case 0, 1:
						c := drawContact(t, id)
						err := tx.Insert(c)
						if exists {
							require.ErrorIs(t, err, contact.ErrExists)
						} else {
							require.NoError(t, err)
							work.contacts[id] = c.Clone()
							delete(work.events, id)
						}
					case 2:
						c := drawContact(t, id)
						require.True(t, errorIs(tx.Put(c), notFound), "Put")
						if exists {
							work.contacts[id] = c.Clone()
						}
					case 3:
						require.True(t, errorIs(tx.Delete(id), notFound), "Delete")
						delete(work.contacts, id)
						delete(work.events, id)
					case 4, 5:
						r := event.Record{
							Kind: event.Track, Name: rapid.SampledFrom([]string{"A", "B"}).Draw(t, "name"),
							Time:      t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "minute")) * time.Minute),
							MessageID: fmt.Sprintf("m-%d", rapid.IntRange(0, 4).Draw(t, "message")),
						}
						added, err := tx.AddEvent(id, r)
						require.True(t, errorIs(err, notFound), "AddEvent")
						dup := slices.ContainsFunc(work.events[id], func(o event.Record) bool { return o.MessageID == r.MessageID })
						require.Equal(t, exists && !dup, added, "AddEvent added")
						if added {
							work.events[id] = append(work.events[id], r)
						}
					case 6:
						ms := []string{fmt.Sprintf("m-%d", rapid.IntRange(0, 4).Draw(t, "message")), fmt.Sprintf("m-%d", rapid.IntRange(0, 4).Draw(t, "message"))}
						n, err := tx.DeleteEvents(id, ms...)
						require.True(t, errorIs(err, notFound), "DeleteEvents")
						before := len(work.events[id])
						work.events[id] = slices.DeleteFunc(work.events[id], func(r event.Record) bool { return slices.Contains(ms, r.MessageID) })
						require.Equal(t, before-len(work.events[id]), n, "DeleteEvents count")
					case 7:
						msg := fmt.Sprintf("m-%d", rapid.IntRange(0, 3).Draw(t, "message"))
						done, err := tx.Processed(msg)
						require.NoError(t, err)
						require.Equal(t, work.processed[msg], done)
						require.NoError(t, tx.MarkProcessed(msg))
						work.processed[msg] = true
					case 8:
						k := rapid.SampledFrom(modelKeys).Draw(t, "key")
						cs, err := tx.Find(k)
						require.NoError(t, err)
						ids := []string{}
						for _, c := range cs {
							ids = append(ids, c.ID())
							require.Equal(t, exportOf(t, work.contacts[c.ID()]), exportOf(t, c))
						}
						require.Equal(t, work.find(k), ids, "Tx.Find(%v)", k)
					case 10:
						ts := contact.Tombstone{
							UserID:    fmt.Sprintf("u-%d", rapid.IntRange(0, 2).Draw(t, "user")),
							Time:      t0.Add(time.Duration(rapid.IntRange(0, 3).Draw(t, "minute")) * time.Minute),
							MessageID: fmt.Sprintf("m-%d", rapid.IntRange(0, 4).Draw(t, "message")),
						}
						require.NoError(t, tx.PutTombstone(ts))
						if old, ok := work.deletes[ts.UserID]; !ok || ts.After(old) {
							work.deletes[ts.UserID] = ts
						}
					case 11:
						u := fmt.Sprintf("u-%d", rapid.IntRange(0, 2).Draw(t, "user"))
						ts, ok, err := tx.Tombstone(u)
						require.NoError(t, err)
						want, wantOK := work.deletes[u]
						require.Equal(t, wantOK, ok, "Tombstone(%s) found", u)
						require.Equal(t, want, ts, "Tombstone(%s)", u)
					case 9:
						q := drawQuery(t)
						got, err := names(tx.Events(id, q))
						require.NoError(t, err)
						require.Equal(t, work.list(id, q), got, "Tx.Events(%s, %+v)", id, q)
					}
				}
				if rollback {
					return errRollback
				}
				return nil
			})
			if rollback {
				require.ErrorIs(t, err, errRollback)
			} else {
				require.NoError(t, err)
				m = work
			}

			checkInvariants(t, s)
			var got []string
			for c, err := range s.Contacts(ctx) {
				require.NoError(t, err)
				got = append(got, exportOf(t, c))
			}
			var want []string
			for _, id := range slices.Sorted(maps.Keys(m.contacts)) {
				want = append(want, exportOf(t, m.contacts[id]))
			}
			require.Equal(t, want, got, "Contacts")
			for _, k := range modelKeys {
				cs, err := s.Find(ctx, k)
				require.NoError(t, err)
				ids := []string{}
				for _, c := range cs {
					ids = append(ids, c.ID())
				}
				require.Equal(t, m.find(k), ids, "Find(%v)", k)
			}
			for _, id := range modelIDs {
				got, err := names(s.Events(ctx, id, contact.EventQuery{}))
				require.NoError(t, err)
				require.Equal(t, m.list(id, contact.EventQuery{}), got, "Events(%s)", id)
			}
			require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
				for u := range 3 {
					user := fmt.Sprintf("u-%d", u)
					ts, ok, err := tx.Tombstone(user)
					require.NoError(t, err)
					want, wantOK := m.deletes[user]
					require.Equal(t, wantOK, ok, "committed Tombstone(%s) found", user)
					require.Equal(t, want, ts, "committed Tombstone(%s)", user)
				}
				return nil
			}))
			q := drawQuery(t)
			var recent []string
			for ce, err := range s.Recent(ctx, q) {
				require.NoError(t, err)
				recent = append(recent, ce.ContactID+":"+ce.Record.MessageID)
			}
			if recent == nil {
				recent = []string{}
			}
			require.Equal(t, m.recent(q), recent, "Recent(%+v)", q)
		}
	})
}
