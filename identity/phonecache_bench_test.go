package identity_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/corpus"
)

// BenchmarkPhoneCorpus parses the phones of BenchmarkPipeline's corpus (internal/corpus:
// the identifies of 100,000 messages for 20,000 users, each user's phone in a format
// of its own, re-sent with each of the user's identifies), in order, with a new
// PhoneParser: what the Processor's cache meets on a replay, misses and hits alike.
func BenchmarkPhoneCorpus(b *testing.B) {
	var phones []json.RawMessage
	for _, line := range corpus.Lines(corpus.Config{Messages: 100_000, Seed: 1}) {
		if !bytes.Contains(line, []byte(`"type":"identify"`)) {
			continue
		}
		var m struct {
			Traits struct {
				Phone json.RawMessage `json:"phone"`
			} `json:"traits"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			b.Fatal(err)
		}
		if m.Traits.Phone != nil {
			phones = append(phones, m.Traits.Phone)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := identity.NewPhoneParser(nil)
		for _, raw := range phones {
			_, _ = p.ParseJSON(raw, "")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(phones)), "ns/phone")
}
