package optin

import (
	"testing"
)

// BenchmarkParseTrait_Seed parses the seed's optIn array, as every identify of the seed
// does, through a ParseCache as the Processor does: the re-sent value is a cache hit.
func BenchmarkParseTrait_Seed(b *testing.B) {
	m := seedMessage()
	in := raw(seedOptIn)
	c := NewParseCache(0)
	b.ReportAllocs()
	for b.Loop() {
		records, diags := c.ParseTrait("traits.optIn", in, m)
		if len(records) != 2 || len(diags) != 0 {
			b.Fatal("unexpected parse")
		}
	}
}

// BenchmarkParseTrait_SeedUncached parses the seed's optIn array afresh each time: the
// scanner, the validator and the timestamp parser at work.
func BenchmarkParseTrait_SeedUncached(b *testing.B) {
	m := seedMessage()
	in := raw(seedOptIn)
	b.ReportAllocs()
	for b.Loop() {
		records, diags := ParseTrait("traits.optIn", in, m)
		if len(records) != 2 || len(diags) != 0 {
			b.Fatal("unexpected parse")
		}
	}
}

// BenchmarkParsePhone parses one phone's smsOptIn and voiceOptIn values.
func BenchmarkParsePhone(b *testing.B) {
	m := seedMessage()
	sms := raw(`{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4","source":"form","text":"ok"}`)
	voice := raw(`{"subscribed":"false","timestamp":"2020-08-25T21:23:43Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		records, _ := ParsePhone("traits.phones", seedPhone, sms, voice, m)
		if len(records) != 2 {
			b.Fatal("unexpected parse")
		}
	}
}
