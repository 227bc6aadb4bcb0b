package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"
	testIPv6  = "2001:0db8:85a3:0000:0000:8a2e:0370:7334" // long and repeated: still never shared
)

var dictT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// browserRecord returns a page-like track record with the context a browser sends.
func browserRecord(messageID string, minute int, page string) event.Record {
	return event.Record{
		Kind: event.Track, Name: "Viewed", MessageID: messageID,
		Time:       dictT0.Add(time.Duration(minute) * time.Minute),
		Properties: event.Object{{Key: "plan", Value: []byte(`"gold"`)}},
		Context: event.RecordContext{
			IP: testIPv6, UserAgent: testAgent, Locale: "en-US",
			Library: event.Library{Name: "analytics.js", Version: "5.2.0"},
			Page: event.WebPage{Path: "/" + page, URL: "https://example.com/" + page, Title: "Example site: " + page,
				Referrer: "https://search.example.org/", Search: "?utm_source=newsletter-2024"},
		},
	}
}

// checkDict checks every stripe's dictionary against its stored events: each entry is
// counted exactly as often as stored events refer to it, no entry is left without a
// reference, and no entry holds a string that is not one of sharedFields. It returns the
// number of entries in the store.
func checkDict(t *testing.T, s *Store) int {
	t.Helper()
	total := 0
	for i := range s.stripes {
		st := &s.stripes[i]
		st.mu.RLock()
		want := map[uint32]uint32{}
		for _, c := range st.timeline.chunks {
			for _, ev := range c {
				rd := objectReader{b: ev.rest()}
				n := uint8(0)
				for k := range numRestStrings {
					if len(ev.rest()) == 0 {
						break
					}
					if rs := rd.nextString(); rs.ref {
						assert.True(t, sharedFields[k], "field %d refers to the dictionary", k)
						want[rs.i]++
						n++
					}
				}
				assert.Equal(t, ev.rec.refs, n, "event %s counts its references", ev.messageID())
			}
		}
		assert.Len(t, st.dict.ids, len(want), "stripe %d: one entry per string referred to", i)
		for s, id := range st.dict.ids {
			assert.Equal(t, s, st.dict.slots[id].s)
			assert.Equal(t, want[id], st.dict.slots[id].refs, "stripe %d: references of %q", i, s)
			assert.NotEqual(t, testIPv6, s, "an IP address is never shared")
		}
		total += st.dict.len()
		st.mu.RUnlock()
	}
	return total
}

// dictStrings returns every string held by the store's dictionaries.
func dictStrings(s *Store) []string {
	var out []string
	for i := range s.stripes {
		st := &s.stripes[i]
		st.mu.RLock()
		for s := range st.dict.ids {
			out = append(out, s)
		}
		for _, sl := range st.dict.slots {
			if sl.s != "" {
				out = append(out, sl.s)
			}
		}
		st.mu.RUnlock()
	}
	return out
}

func update(t *testing.T, s *Store, fn func(tx contact.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

func TestDictRoundTripsAndSharesOnlySoftwareAndPages(t *testing.T) {
	s := New()
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Insert(contact.New("c-1")); err != nil {
			return err
		}
		for i := range 3 {
			if _, err := tx.AddEvent("c-1", browserRecord(fmt.Sprint("m-", i), i, "Pricing")); err != nil {
				return err
			}
		}
		return nil
	})
	// userAgent, url, title and referrer are shared; the 5-byte version, the 12-byte
	// library name, "en-US", "/Pricing", the query string and the IP are not.
	assert.Equal(t, 4, checkDict(t, s))
	assert.ElementsMatch(t, []string{testAgent, "https://example.com/Pricing", "Example site: Pricing", "https://search.example.org/",
		testAgent, "https://example.com/Pricing", "Example site: Pricing", "https://search.example.org/"}, dictStrings(s))

	i := 0
	for got, err := range s.Events(context.Background(), "c-1", contact.EventQuery{}) {
		require.NoError(t, err)
		assert.Equal(t, browserRecord(fmt.Sprint("m-", i), i, "Pricing"), got)
		i++
	}
	assert.Equal(t, 3, i)
	for got, err := range s.Recent(context.Background(), contact.EventQuery{Limit: 1}) {
		require.NoError(t, err)
		assert.Equal(t, browserRecord("m-2", 2, "Pricing"), got.Record)
	}
	for got, err := range s.Named(context.Background(), contact.EventQuery{Name: "Viewed", Since: dictT0.Add(time.Minute)}) {
		require.NoError(t, err)
		assert.Equal(t, "Example site: Pricing", got.Record.Context.Page.Title)
		assert.Equal(t, testAgent, got.Record.Context.UserAgent)
	}
	update(t, s, func(tx contact.Tx) error {
		// Stored events as the transaction reads them, and one it added itself.
		if _, err := tx.AddEvent("c-1", browserRecord("m-3", 3, "Pricing")); err != nil {
			return err
		}
		i := 0
		for got, err := range tx.Events("c-1", contact.EventQuery{}) {
			require.NoError(t, err)
			assert.Equal(t, browserRecord(fmt.Sprint("m-", i), i, "Pricing"), got)
			assert.NotSame(t, unsafe.StringData(testAgent), unsafe.StringData(got.Context.UserAgent),
				"not even an event the transaction added shares the caller's strings")
			i++
		}
		assert.Equal(t, 4, i)
		return nil
	})
}

func TestDeletedUserLeavesNoDictionaryEntry(t *testing.T) {
	// Rule I7: a user's events go with their delete, and so do the strings they alone
	// used.
	s := New()
	update(t, s, func(tx contact.Tx) error {
		for _, id := range []string{"alice", "bob"} {
			if err := tx.Insert(contact.New(id)); err != nil {
				return err
			}
		}
		for i := range 5 {
			if _, err := tx.AddEvent("alice", browserRecord(fmt.Sprint("a-", i), i, "Alice-private-page")); err != nil {
				return err
			}
			if _, err := tx.AddEvent("bob", browserRecord(fmt.Sprint("b-", i), i, "Pricing")); err != nil {
				return err
			}
		}
		return nil
	})
	before := checkDict(t, s)
	require.Positive(t, before)
	update(t, s, func(tx contact.Tx) error { return tx.Delete("alice") })
	after := checkDict(t, s)
	assert.Less(t, after, before)
	for _, str := range dictStrings(s) {
		assert.NotContains(t, str, "Alice-private-page")
	}
	update(t, s, func(tx contact.Tx) error { return tx.Delete("bob") })
	assert.Zero(t, checkDict(t, s), "no event left, no entry left")
	assert.Empty(t, dictStrings(s))
}

func TestDictCountsFollowMovesDeletesAndResets(t *testing.T) {
	s := New()
	ids := []string{"c-1", "c-2", "c-3", "c-4"}
	update(t, s, func(tx contact.Tx) error {
		for _, id := range ids {
			if err := tx.Insert(contact.New(id)); err != nil {
				return err
			}
		}
		for i := range 40 {
			id := ids[i%len(ids)]
			if _, err := tx.AddEvent(id, browserRecord(fmt.Sprint(id, "-", i), i, fmt.Sprint("page-", i%3))); err != nil {
				return err
			}
		}
		return nil
	})
	checkDict(t, s)

	// Move every event of c-1 to c-2 (as an alias merge does): delete, add elsewhere.
	update(t, s, func(tx contact.Tx) error {
		var moved []event.Record
		for r, err := range tx.Events("c-1", contact.EventQuery{}) {
			if err != nil {
				return err
			}
			moved = append(moved, r)
		}
		for _, r := range moved {
			if _, err := tx.DeleteEvents("c-1", r.MessageID); err != nil {
				return err
			}
			if _, err := tx.AddEvent("c-2", r); err != nil {
				return err
			}
		}
		return tx.Delete("c-1")
	})
	checkDict(t, s)

	// Delete single events, and reset a contact (delete and insert again in one
	// transaction), adding an event to it afterwards.
	update(t, s, func(tx contact.Tx) error {
		if _, err := tx.DeleteEvents("c-3", "c-3-2", "c-3-6"); err != nil {
			return err
		}
		if err := tx.Delete("c-4"); err != nil {
			return err
		}
		if err := tx.Insert(contact.New("c-4")); err != nil {
			return err
		}
		_, err := tx.AddEvent("c-4", browserRecord("c-4-new", 100, "page-new"))
		return err
	})
	n := checkDict(t, s)
	assert.Positive(t, n)

	// An event added and removed in one transaction, and a transaction that fails,
	// leave no count behind.
	update(t, s, func(tx contact.Tx) error {
		if _, err := tx.AddEvent("c-3", browserRecord("c-3-tmp", 200, "page-tmp")); err != nil {
			return err
		}
		_, err := tx.DeleteEvents("c-3", "c-3-tmp")
		return err
	})
	assert.Error(t, s.Update(context.Background(), func(tx contact.Tx) error {
		if _, err := tx.AddEvent("c-3", browserRecord("c-3-fail", 201, "page-fail")); err != nil {
			return err
		}
		return fmt.Errorf("memstore test: fail on purpose")
	}))
	assert.Equal(t, n, checkDict(t, s))

	update(t, s, func(tx contact.Tx) error {
		for _, id := range []string{"c-2", "c-3", "c-4"} {
			if err := tx.Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
	assert.Zero(t, checkDict(t, s))
}

func TestDictWhenFullStoresInline(t *testing.T) {
	var d dict
	for i := range maxDictEntries {
		_, ok := d.acquire(fmt.Sprintf("https://example.com/%06d", i))
		require.True(t, ok)
	}
	_, ok := d.acquire("https://example.com/one-too-many")
	assert.False(t, ok)
	assert.Equal(t, maxDictEntries, d.len())

	r := browserRecord("m-1", 1, "Not-in-the-full-dictionary")
	ev := newStoredEvent(r, "c-1")
	d.share(ev, nil)
	assert.Zero(t, ev.rec.refs, "no room: every string stays in the event")
	assert.Equal(t, r, ev.record())

	// A string already there is still shared, and counted.
	d.release(0)
	_, ok = d.acquire(testAgent)
	require.True(t, ok)
	ev = newStoredEvent(r, "c-1")
	d.share(ev, nil)
	assert.Equal(t, uint8(1), ev.rec.refs)
	assert.Equal(t, r, copyRecord(ev, d.resolve(ev, nil)))
	d.unshare(ev)
	assert.Equal(t, uint32(1), d.slots[d.ids[testAgent]].refs)
}

func TestDictConcurrentWritersAndReaders(t *testing.T) {
	// Writers add, move and delete events of their own contacts, all with the same
	// context strings, while readers read them: run with -race. Every record read must
	// be the one written, however its entries were dropped or reused meanwhile.
	s := New()
	const writers, rounds = 4, 60
	var wg sync.WaitGroup
	stop := make(chan struct{})
	page := func(id string) string { return "page-of-" + id }
	check := func(r event.Record) {
		// The page was chosen by the contact the event was first written to,
		// which its messageId names.
		owner, _, _ := strings.Cut(r.MessageID, "/")
		assert.Equal(t, "https://example.com/"+page(owner), r.Context.Page.URL)
		assert.Equal(t, testAgent, r.Context.UserAgent)
	}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for r, err := range s.Recent(context.Background(), contact.EventQuery{Limit: 50}) {
					if err == nil {
						check(r.Record)
					}
				}
				for r, err := range s.Named(context.Background(), contact.EventQuery{Name: "Viewed", Limit: 50}) {
					if err == nil {
						check(r.Record)
					}
				}
				for r, err := range s.Events(context.Background(), "w-0-a", contact.EventQuery{}) {
					if err == nil {
						check(r)
					}
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			a, b := fmt.Sprintf("w-%d-a", w), fmt.Sprintf("w-%d-b", w)
			for round := range rounds {
				err := s.Update(context.Background(), func(tx contact.Tx) error {
					for _, id := range []string{a, b} {
						if _, err := tx.Contact(id); err != nil {
							if err := tx.Insert(contact.New(id)); err != nil {
								return err
							}
						}
					}
					for i := range 3 {
						mid := fmt.Sprintf("%s/%d-%d", a, round, i)
						if _, err := tx.AddEvent(a, browserRecord(mid, round*3+i, page(a))); err != nil {
							return err
						}
					}
					// Move an older event from a to b, and read them as the
					// transaction sees them.
					if round > 0 {
						mid := fmt.Sprintf("%s/%d-0", a, round-1)
						var moved []event.Record
						for r, err := range tx.Events(a, contact.EventQuery{}) {
							if err != nil {
								return err
							}
							check(r)
							if r.MessageID == mid {
								moved = append(moved, r)
							}
						}
						for _, r := range moved {
							if _, err := tx.DeleteEvents(a, r.MessageID); err != nil {
								return err
							}
							if _, err := tx.AddEvent(b, r); err != nil {
								return err
							}
						}
					}
					if round%10 == 9 {
						return tx.Delete(b) // drops entries other writers' stripes may share
					}
					return nil
				})
				assert.NoError(t, err)
			}
		})
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()
	assert.Positive(t, checkDict(t, s))
	update(t, s, func(tx contact.Tx) error {
		for w := range writers {
			for _, id := range []string{fmt.Sprintf("w-%d-a", w), fmt.Sprintf("w-%d-b", w)} {
				if _, err := tx.Contact(id); err == nil {
					if err := tx.Delete(id); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	assert.Zero(t, checkDict(t, s))
}

// sameStripe returns an id other than id whose contact shares id's stripe.
func sameStripe(s *Store, id string) string {
	for n := 0; ; n++ {
		other := fmt.Sprint("other-", n)
		if s.hash.contact(other) == s.hash.contact(id) {
			return other
		}
	}
}

// neighbourWithEvent stores contact id and another contact of its stripe, which it
// returns, with an event of browser context strings: the stripe's dictionary then has
// their entries.
func neighbourWithEvent(t *testing.T, s *Store, id string) string {
	t.Helper()
	z := sameStripe(s, id)
	update(t, s, func(tx contact.Tx) error {
		for _, id := range []string{id, z} {
			if err := tx.Insert(contact.New(id)); err != nil {
				return err
			}
		}
		_, err := tx.AddEvent(z, browserRecord("z-1", 1, "Pricing"))
		return err
	})
	return z
}

func TestDictStoresAnEventOnceWhenItsEntriesExist(t *testing.T) {
	s := New()
	neighbourWithEvent(t, s, "x")
	var packed *byte
	update(t, s, func(ctx contact.Tx) error {
		if _, err := ctx.AddEvent("x", browserRecord("x-1", 2, "Pricing")); err != nil {
			return err
		}
		ev := ctx.(*tx).change("x").added[0]
		assert.Equal(t, uint8(4), ev.rec.refs, "packed with the entries the stripe has")
		packed = &ev.text[0]
		return nil
	})
	st := &s.stripes[s.hash.contact("x")]
	ev := st.contacts["x"].event("x-1")
	require.NotNil(t, ev)
	assert.Same(t, packed, &ev.text[0], "stored as packed, without a second copy")
	assert.Equal(t, 4, checkDict(t, s))
}

func TestDictRepairsReferencesToEntriesDroppedBeforeTheCommit(t *testing.T) {
	s := New()
	z := neighbourWithEvent(t, s, "x")
	interfered := false
	update(t, s, func(tx contact.Tx) error {
		if _, err := tx.AddEvent("x", browserRecord("x-1", 2, "Pricing")); err != nil {
			return err
		}
		if !interfered {
			interfered = true
			// Another transaction drops the entries x-1 refers to, and gives
			// their numbers to other strings, before this one commits: it read
			// nothing that changed, so it commits.
			update(t, s, func(tx2 contact.Tx) error {
				if err := tx2.Delete(z); err != nil {
					return err
				}
				if err := tx2.Insert(contact.New(z)); err != nil {
					return err
				}
				_, err := tx2.AddEvent(z, browserRecord("z-2", 3, "Checkout-and-more"))
				return err
			})
		}
		return nil
	})
	for got, err := range s.Events(context.Background(), "x", contact.EventQuery{}) {
		require.NoError(t, err)
		assert.Equal(t, browserRecord("x-1", 2, "Pricing"), got)
	}
	for got, err := range s.Events(context.Background(), z, contact.EventQuery{}) {
		require.NoError(t, err)
		assert.Equal(t, browserRecord("z-2", 3, "Checkout-and-more"), got)
	}
	// x-1's url and title; z-2's path, url and title; the userAgent and referrer.
	assert.Equal(t, 7, checkDict(t, s))
}

func TestStoredEventStaysInItsSizeClass(t *testing.T) {
	// The dictionary's fields (eventHead.refs, storedEvent.pendingAt) fit in what the
	// 96-byte allocation of a stored event had spare.
	assert.LessOrEqual(t, unsafe.Sizeof(storedEvent{}), uintptr(96))
}

// TestTxEventsKeepTheirStringsWhenTheContactIsDeleted: tx.Events gathers the records
// when the iteration starts, so a record yielded after the contact is deleted in the
// same transaction is still whole, its shared strings (user agent, page) included:
// for an event added in the transaction they lived in the change, which Delete clears.
func TestTxEventsKeepTheirStringsWhenTheContactIsDeleted(t *testing.T) {
	s := New()
	neighbourWithEvent(t, s, "x") // the stripe's dictionary has the browser strings
	want := browserRecord("x-2", 2, "Pricing")
	errRollBack := errors.New("roll back")
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		bare := event.Record{Kind: event.Track, Name: "Bare", MessageID: "x-1", Time: dictT0.Add(time.Minute)}
		for _, r := range []event.Record{bare, want} {
			if _, err := tx.AddEvent("x", r); err != nil {
				return err
			}
		}
		var got []event.Record
		for r, err := range tx.Events("x", contact.EventQuery{}) {
			if err != nil {
				return err
			}
			if len(got) == 0 {
				if err := tx.Delete("x"); err != nil {
					return err
				}
			}
			got = append(got, r)
		}
		require.Len(t, got, 2)
		assert.Equal(t, want.Context, got[1].Context, "the record lost its shared strings with the deleted contact")
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)
}

// TestSharedFieldsAreSoftwareAndPages_RuleI7: the dictionary may hold only the strings that
// describe software and pages; the IP, the page's search string (where links carry
// emails and tokens), the category and the groupId stay in their events (Rule I7).
func TestSharedFieldsAreSoftwareAndPages_RuleI7(t *testing.T) {
	var r event.Record
	strs := restStrings(&r)
	index := func(p *string) int {
		i := slices.Index(strs[:], p)
		require.GreaterOrEqual(t, i, 0, "restStrings has every string field")
		return i
	}
	c := &r.Context
	for _, p := range []*string{&c.IP, &c.Page.Search, &r.Category, &r.GroupID} {
		assert.False(t, sharedFields[index(p)], "field %d is shared", index(p))
	}
	n := 0
	for _, p := range []*string{&c.UserAgent, &c.Locale, &c.Library.Name, &c.Library.Version, &c.Page.Path, &c.Page.Referrer, &c.Page.Title, &c.Page.URL} {
		assert.True(t, sharedFields[index(p)], "field %d is not shared", index(p))
		n++
	}
	assert.Equal(t, numRestStrings, n+4, "every field of restStrings is named above")
}
