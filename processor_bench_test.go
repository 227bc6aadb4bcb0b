package regalkit_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
)

// BenchmarkProcessBytes runs Segment payloads through a Processor on a memory store:
// a seed identify with a phone, an email and an SMS opt-in (Rules T1, T8, C2–C4), and a
// track for the same user (Rule E1). Each iteration has its own messageIds so that none
// is a duplicate (Rule E2), and its own user and, over 9,000
// iterations, its own phone and email, so that no contact or index entry grows with b.N.
func BenchmarkProcessBytes(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		body func(i int) []byte
	}{
		{"identify", func(i int) []byte {
			return []byte(`{"type":"identify","userId":"u-` + strconv.Itoa(i) + `","messageId":"i-` + strconv.Itoa(i) +
				`","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"firstName":"Ann","last_name":"Lee",` +
				`"phone":"(954) 555-` + strconv.Itoa(1000+i%9000) + `","email":"ann` + strconv.Itoa(i) + `@example.com","salaryBracket":"$100k-$500k",` +
				`"optIn":[{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z","source":"booking_flow"}]}}`)
		}},
		{"track", func(i int) []byte {
			return []byte(`{"type":"track","userId":"u-` + strconv.Itoa(i) + `","messageId":"t-` + strconv.Itoa(i) +
				`","event":"Loan Application Approved","timestamp":"2024-03-01T12:00:00Z","properties":{"amount":30000}}`)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := regalkit.New(memstore.New(), &regalkit.Options{PhoneCacheSize: -1}) // every phone parsed: no cache warm-up in the figures
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				res, err := p.ProcessBytes(ctx, bc.body(i))
				if err != nil || len(res) != 1 || len(res[0].Diagnostics) != 0 {
					b.Fatal(err, res)
				}
				i++
			}
		})
	}
}
