package regalkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/trigger"
)

// loanTrigger is the example: approved for at least 10,000, not signed within
// 48 hours, due 2 hours after the approval, in the audience.
func loanTrigger(tb testing.TB) *trigger.Trigger {
	tb.Helper()
	tr, err := trigger.Decode(strings.NewReader(`{"name": "approved-not-signed",
		"entry": {"event": "Loan Application Approved", "where": [{"property": "amount", "op": ">=", "value": 10000}]},
		"exit": [{"event": "Loan Signed", "within": "48h"}],
		"delay": "2h",
		"require": {"inAudience": true}}`))
	require.NoError(tb, err)
	return tr
}

// fillStore puts contacts, each with a phone, and events events spread over them and
// over 30 days before end: a fifth of them "Loan Application Approved", a tenth "Loan
// Signed", the rest page views and clicks.
func fillStore(tb testing.TB, s contact.Store, contacts, events int, end time.Time) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 500
	for lo := 0; lo < contacts; lo += batch {
		err := s.Update(ctx, func(tx contact.Tx) error {
			for i := lo; i < min(lo+batch, contacts); i++ {
				c := contact.New(fmt.Sprintf("c-%07d", i))
				(*contactcore.Contact)(c).SetUserID(fmt.Sprintf("u-%07d", i))
				(*contactcore.Contact)(c).ApplyTraits(&event.Message{Kind: event.Identify, MessageID: "id-" + strconv.Itoa(i), UserID: c.UserID(),
					Time: end.Add(-31 * 24 * time.Hour), Traits: event.Object{{Key: "phone", Value: json.RawMessage(`"+1954555` + fmt.Sprintf("%04d", i%10000) + `"`)}}}, nil)
				if err := tx.Insert(c); err != nil {
					return err
				}
				for j := range events / contacts {
					n := i*(events/contacts) + j
					r := event.Record{Kind: event.Track, MessageID: "m-" + strconv.Itoa(n),
						Time: end.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))}
					switch k := rng.IntN(10); {
					case k < 2:
						r.Name = "Loan Application Approved"
						r.Properties = event.Object{{Key: "amount", Value: json.RawMessage(strconv.Itoa(rng.IntN(50000)))}}
					case k < 3:
						r.Name = "Loan Signed"
					case k < 7:
						r.Kind, r.Name = event.Page, "Pricing"
					default:
						r.Name = "Button Clicked"
					}
					if _, err := tx.AddEvent(c.ID(), r); err != nil {
						return err
					}
				}
			}
			return nil
		})
		require.NoError(tb, err)
	}
}

// BenchmarkEvaluate lists the due contacts of the loan trigger over 200,000 contacts
// with 1,000,000 events in the memory store (Rule J2: the store's index by name, not a
// read of every event). Named reads only the store's part of it: the approvals and
// signings, copied out.
func BenchmarkEvaluate(b *testing.B) {
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	s := memstore.New()
	fillStore(b, s, 200_000, 1_000_000, end)
	tr := loanTrigger(b)
	ctx := context.Background()
	b.Run("Evaluate", func(b *testing.B) {
		b.ReportAllocs()
		var due int
		cpu := cpuTime()
		for b.Loop() {
			due = 0
			for _, err := range regalkit.Evaluate(ctx, s, tr, end) {
				if err != nil {
					b.Fatal(err)
				}
				due++
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(due), "due")
	})
	b.Run("Named", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		cpu := cpuTime()
		for b.Loop() {
			n = 0
			for _, name := range tr.Names() {
				for _, err := range s.Named(ctx, contact.EventQuery{Name: name, Until: end.Add(time.Nanosecond)}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "records")
	})
}
