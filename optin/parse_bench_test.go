package optin

import (
	"testing"
)

// BenchmarkParseTrait_Seed parses the seed's optIn array, as every identify of the seed
// does.
func BenchmarkParseTrait_Seed(b *testing.B) {
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
