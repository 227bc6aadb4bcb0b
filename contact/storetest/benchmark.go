package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/require"
)

// Sizes of the benchmark stores.
const (
	benchContacts       = 10_240 // a multiple of parallelStride
	benchEventContacts  = 1_000
	benchEventsEach     = 20
	parallelStride      = 64 // goroutine g of a parallel benchmark owns the contacts i ≡ g mod 64
	benchInsertsPerTx   = 256
	benchRecentLimit    = 20
	benchSeedTraitsJSON = `{"firstName":"Rebecca","lastName":"Greene","email":"rebecca%d@example.com","phone":"+1954555%04d","age":23,"gender":"other","salaryBracket":"$100k-$500k","address":{"AddressLine1":"201 Maiden Lane.","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US"}}`
)

// Benchmark measures the store that newStore returns, on fresh stores:
//
//   - Contact: read a contact by id;
//   - Find: look a contact up by userId;
//   - Apply: an Update that checks the messageId, finds the contact by userId, changes
//     it, puts it back and marks the messageId processed — the store's part of applying
//     one message;
//   - AddEvent: an Update that appends one event;
//   - Events: list a contact's 20 events;
//   - Recent: the 20 newest events of 20,000;
//   - ParallelApply and ParallelFind: Apply and Find from GOMAXPROCS goroutines, each on
//     contacts of its own (b.RunParallel).
//
// Contacts have the seed's traits (Regal's Segment guide), each with its own phone and
// email. Every benchmark reports allocations.
func Benchmark(b *testing.B, newStore func(b *testing.B) contact.Store) {
	ctx := context.Background()
	b.Run("Contact", func(b *testing.B) {
		s := newStore(b)
		ids, _ := loadContacts(b, s, benchContacts)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Contact(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Find", func(b *testing.B) {
		s := newStore(b)
		_, keys := loadContacts(b, s, benchContacts)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if cs, err := s.Find(ctx, keys[i%len(keys)]); err != nil || len(cs) != 1 {
				b.Fatal(len(cs), err)
			}
		}
	})
	b.Run("Apply", func(b *testing.B) {
		s := newStore(b)
		_, keys := loadContacts(b, s, benchContacts)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			applyOne(b, s, keys[i%len(keys)], "bm-"+strconv.Itoa(i), i)
		}
	})
	b.Run("AddEvent", func(b *testing.B) {
		s := newStore(b)
		ids, _ := loadContacts(b, s, benchContacts)
		r := record(event.Track, "Loan Application Approved", 0, "")
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r.MessageID = "bm-" + strconv.Itoa(i)
			r.Time = t0.Add(time.Duration(i) * time.Second)
			err := s.Update(ctx, func(tx contact.Tx) error {
				_, err := tx.AddEvent(ids[i%len(ids)], r)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Events", func(b *testing.B) {
		s := newStore(b)
		ids := loadEvents(b, s)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			n := 0
			for _, err := range s.Events(ctx, ids[i%len(ids)], contact.EventQuery{}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchEventsEach {
				b.Fatal(n)
			}
		}
	})
	b.Run("Recent", func(b *testing.B) {
		s := newStore(b)
		loadEvents(b, s)
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, err := range s.Recent(ctx, contact.EventQuery{Limit: benchRecentLimit}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchRecentLimit {
				b.Fatal(n)
			}
		}
	})
	b.Run("ParallelApply", func(b *testing.B) {
		s := newStore(b)
		_, keys := loadContacts(b, s, benchContacts)
		var goroutines atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			g := int(goroutines.Add(1) - 1)
			prefix := "bm-" + strconv.Itoa(g) + "-"
			for i := 0; pb.Next(); i++ {
				k := (g%parallelStride + i*parallelStride) % len(keys)
				applyOne(b, s, keys[k], prefix+strconv.Itoa(i), i)
			}
		})
	})
	b.Run("ParallelFind", func(b *testing.B) {
		s := newStore(b)
		_, keys := loadContacts(b, s, benchContacts)
		var goroutines atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			g := int(goroutines.Add(1) - 1)
			for i := 0; pb.Next(); i++ {
				k := (g%parallelStride + i*parallelStride) % len(keys)
				if cs, err := s.Find(ctx, keys[k]); err != nil || len(cs) != 1 {
					b.Error(len(cs), err)
					return
				}
			}
		})
	})
}

// applyOne does the store's part of applying a message to the contact key finds.
func applyOne(b *testing.B, s contact.Store, key identity.Key, messageID string, i int) {
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		if done, err := tx.Processed(messageID); err != nil || done {
			return err
		}
		cs, err := tx.Find(key)
		if err != nil {
			return err
		}
		if len(cs) != 1 {
			return fmt.Errorf("found %d contacts", len(cs))
		}
		c := cs[0]
		(*contactcore.Contact)(c).SetTimes(time.Time{}, t0.Add(time.Duration(i)*time.Second))
		if err := tx.Put(handOver(c)); err != nil {
			return err
		}
		return tx.MarkProcessed(messageID)
	})
	if err != nil {
		b.Error(err)
	}
}

// loadContacts stores n contacts with the seed's traits and returns their ids and
// userId keys.
func loadContacts(b *testing.B, s contact.Store, n int) ([]string, []identity.Key) {
	b.Helper()
	ids := make([]string, n)
	keys := make([]identity.Key, n)
	batch := make([]*contact.Contact, 0, benchInsertsPerTx)
	for i := range n {
		ids[i] = fmt.Sprintf("c-%07d", i)
		keys[i] = identity.UserKey(fmt.Sprintf("u-%07d", i))
		c := person(ids[i], keys[i].Value, fmt.Sprintf("a-%07d", i))
		withTraits(b, c, 0, fmt.Sprintf(benchSeedTraitsJSON, i, i%10_000))
		batch = append(batch, c)
		if len(batch) == cap(batch) || i == n-1 {
			insert(b, s, batch...)
			batch = batch[:0]
		}
	}
	return ids, keys
}

// loadEvents stores benchEventContacts contacts with benchEventsEach events each, and
// returns their ids.
func loadEvents(b *testing.B, s contact.Store) []string {
	b.Helper()
	ids, _ := loadContacts(b, s, benchEventContacts)
	for e := range benchEventsEach {
		err := s.Update(context.Background(), func(tx contact.Tx) error {
			for i, id := range ids {
				r := record(event.Track, "Loan Application Approved", e*benchEventContacts+i, fmt.Sprintf("ev-%d-%d", i, e))
				if _, err := tx.AddEvent(id, r); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(b, err)
	}
	return ids
}
