package regalkit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
)

// BenchmarkProcess_Outbox measures what the outbox costs a message: an identify with the
// seed's traits and a track, for a new user each iteration, with the outbox off and on.
func BenchmarkProcess_Outbox(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run("outbox="+strconv.FormatBool(on), func(b *testing.B) {
			store := memstore.New()
			p := regalkit.New(store, &regalkit.Options{Outbox: on})
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				u := strconv.Itoa(i)
				identify := `{"type":"identify","messageId":"i-` + u + `","userId":"u-` + u + `","timestamp":"2024-03-01T12:00:00Z",` +
					`"context":{"ip":"8.8.8.8"},"traits":{"firstName":"Rebecca","lastName":"Greene","email":"rebecca@example.com",` +
					`"phone":"+19545552399","salaryBracket":"$100k-$500k","optIn":[{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}]}}`
				track := `{"type":"track","messageId":"t-` + u + `","userId":"u-` + u + `","event":"Loan Approved","timestamp":"2024-03-01T12:01:00Z","properties":{"amount":30000}}`
				if _, err := p.ProcessBytes(ctx, []byte(identify)); err != nil {
					b.Fatal(err)
				}
				if _, err := p.ProcessBytes(ctx, []byte(track)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemstoreClaim measures claiming and acknowledging one entry with a backlog of
// 10,000 contacts with pending entries.
func BenchmarkMemstoreClaim(b *testing.B) {
	store := memstore.New()
	ctx := context.Background()
	const backlog = 10000
	for i := range backlog {
		if err := store.Update(ctx, func(tx contact.Tx) error {
			return tx.(contact.OutboxTx).Enqueue(contact.OutboxEntry{ContactID: "c-" + strconv.Itoa(i), MessageID: "m"})
		}); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		es, err := store.Claim(ctx, now, time.Minute, 1)
		if err != nil || len(es) != 1 {
			b.Fatal(err, len(es))
		}
		// Handed back due at once, so that the backlog stays.
		if err := store.Retry(ctx, es[0].Seq, es[0].Lease, time.Time{}, ""); err != nil {
			b.Fatal(err)
		}
	}
}
