package contactcore

import (
	"fmt"
	"testing"
	"time"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

// BenchmarkApply applies the seed's identify to a contact that already holds it, as
// Segment's re-sent traits do on every page load: the aim is under 3 µs and
// under 20 allocations. Each iteration's message is a new message one second newer than
// the last (its messageIds are made before the timer starts), so every field's stamp
// moves and the optIn records arrive again from another message, as in production.
func BenchmarkApply(b *testing.B) {
	b.Run("existing", func(b *testing.B) {
		c := New("c-1")
		m := seedMessage(b)
		c.ApplyTraits(m, nil)
		opts := processorOptions()
		ids := make([]string, 1<<16)
		for i := range ids {
			ids[i] = fmt.Sprintf("ajs-next-%032x", i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Time = m.Time.Add(time.Second)
			m.MessageID = ids[i%len(ids)]
			i++
			c.ApplyTraits(m, opts)
		}
		if n := c.Consent().Len(); n != 2 {
			b.Fatalf("the ledger holds %d records after re-sends, want 2", n)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		m := seedMessage(b)
		opts := processorOptions()
		b.ReportAllocs()
		for b.Loop() {
			New("c-1").ApplyTraits(m, opts)
		}
	})
}

// processorOptions returns the options regalkit.Processor passes: its own phone parser
// and optIn cache, both at their default sizes.
func processorOptions() *ApplyOptions {
	return &ApplyOptions{Phones: identity.NewPhoneParser(nil), OptIns: optin.NewParseCache(0)}
}
