package memstore_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/contact/storetest"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/require"
)

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) contact.Store { return memstore.New() })
}

var (
	memContacts    = flag.Int("memstore.contacts", 1_000_000, "contacts BenchmarkMemoryPerContact stores")
	memHeapProfile = flag.String("memstore.heapprofile", "", "write a heap profile of the full store of BenchmarkMemoryPerContact/Store to this file")
)

// seedTraits are the traits of the seed's identify call (Regal's Segment guide), with
// the email and phone made different for each contact.
const seedTraits = `{"email":"rebecca.%d@example.com","firstName":"Rebecca","lastName":"Greene","phone":"+1954%03d%04d","age":23,"gender":"other","salaryBracket":"$100k-$500k","address":{"AddressLine1":"201 Maiden Lane.","AddressLine2":"11M","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US"},"optIn":[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive calls from Regal."},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]}`

// seedMessage returns contact i's identify message, as a decoder would hand it over:
// traits as raw JSON members, everything freshly allocated.
func seedMessage(b testing.TB, i int) *event.Message {
	raw := fmt.Sprintf(seedTraits, i, 200+(i/10_000)%800, i%10_000)
	var members map[string]json.RawMessage
	require.NoError(b, json.Unmarshal([]byte(raw), &members))
	var traits event.Object
	for _, k := range []string{"email", "firstName", "lastName", "phone", "age", "gender", "salaryBracket", "address", "optIn"} {
		traits = append(traits, event.Member{Key: k, Value: members[k]})
	}
	return &event.Message{
		Kind:        event.Identify,
		MessageID:   fmt.Sprintf("ajs-next-%032x", i),
		UserID:      fmt.Sprintf("%013x", 0x92980cfccc067+i),
		AnonymousID: fmt.Sprintf("507f191e810c%012x", 0x19729de860ea+i),
		Time:        t0,
		Traits:      traits,
		Context:     event.Context{IP: "8.8.8.8"},
	}
}

// seedContact returns contact i with the seed's profile.
func seedContact(b testing.TB, i int, m *event.Message) *contact.Contact {
	c := contact.New(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)) // the shape of a UUID
	(*contactcore.Contact)(c).SetUserID(m.UserID)
	(*contactcore.Contact)(c).AddAnonymousID(m.AnonymousID)
	if ch := (*contactcore.Contact)(c).ApplyTraits(m, nil); len(ch.Diagnostics) > 0 {
		b.Fatalf("contact %d: %v", i, ch.Diagnostics)
	}
	return c
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemoryPerContact measures the heap a million contacts with the seed's
// profile take (-memstore.contacts sets the count): held in a slice ("Contact", the
// contacts alone), in a Store ("Store"), and in a Store with, for each contact, its
// identify's messageId marked processed and one track event ("StoreWithMessage"). The
// figure is B/contact; each run is one fill of the store, so run it with -benchtime=1x.
func BenchmarkMemoryPerContact(b *testing.B) {
	n := *memContacts
	ctx := context.Background()
	const batch = 1000
	fill := func(b *testing.B, s *memstore.Store, withMessage bool) {
		for start := 0; start < n; start += batch {
			err := s.Update(ctx, func(tx contact.Tx) error {
				for i := start; i < min(start+batch, n); i++ {
					m := seedMessage(b, i)
					c := seedContact(b, i, m)
					if err := tx.Insert(c); err != nil {
						return err
					}
					if !withMessage {
						continue
					}
					if err := tx.MarkProcessed(m.MessageID); err != nil {
						return err
					}
					r := event.Record{Kind: event.Track, Name: "Loan Application Approved", Time: t0, MessageID: fmt.Sprintf("ajs-next-%032x", n+i),
						Properties: event.Object{{Key: "amount", Value: json.RawMessage(`30000`)}, {Key: "currency", Value: json.RawMessage(`"USD"`)}}}
					if _, err := tx.AddEvent(c.ID(), r); err != nil {
						return err
					}
				}
				return nil
			})
			require.NoError(b, err)
		}
	}
	b.Run("Contact", func(b *testing.B) {
		for b.Loop() {
			before := heapAfterGC()
			cs := make([]*contact.Contact, n)
			for i := range cs {
				cs[i] = seedContact(b, i, seedMessage(b, i))
			}
			b.ReportMetric(float64(heapAfterGC()-before)/float64(n), "B/contact")
			runtime.KeepAlive(cs)
		}
	})
	b.Run("Store", func(b *testing.B) {
		for b.Loop() {
			before := heapAfterGC()
			s := memstore.New()
			fill(b, s, false)
			b.ReportMetric(float64(heapAfterGC()-before)/float64(n), "B/contact")
			if *memHeapProfile != "" {
				f, err := os.Create(*memHeapProfile)
				require.NoError(b, err)
				require.NoError(b, pprof.Lookup("heap").WriteTo(f, 0))
				require.NoError(b, f.Close())
			}
			runtime.KeepAlive(s)
		}
	})
	b.Run("StoreWithMessage", func(b *testing.B) {
		for b.Loop() {
			before := heapAfterGC()
			s := memstore.New()
			fill(b, s, true)
			b.ReportMetric(float64(heapAfterGC()-before)/float64(n), "B/contact")
			runtime.KeepAlive(s)
		}
	})
}
