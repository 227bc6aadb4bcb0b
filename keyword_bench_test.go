package regalkit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
)

// BenchmarkProcess_IdentifyWithPhone measures an identify that sets a phone, for 1,000
// users: the case where the end of each transaction looks up the phone's keyword
// replies (Rule G7).
//
//	go test -run '^$' -bench IdentifyWithPhone -benchmem .
func BenchmarkProcess_IdentifyWithPhone(b *testing.B) {
	p := regalkit.New(memstore.New(), nil)
	ctx := context.Background()
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, `{"type":"identify","userId":"u%d","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+1917555%04d","firstName":"Ann"}}`, i, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := append([]byte(nil), msgs[i%len(msgs)]...)
		// a new messageId each time, so nothing is a duplicate
		m = append(m[:len(m)-1], fmt.Appendf(nil, `,"messageId":"b%d"}`, i)...)
		if _, err := p.ProcessBytes(ctx, m); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
