package regalkit_test

import (
	"context"
	"testing"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
)

// processBytesSeeds is FuzzProcessBytes's seed corpus; the privacy test reads it too.
var processBytesSeeds = []string{
	`{"type":"identify","userId":"u1","anonymousId":"a1","messageId":"m1","traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"8.8.8.8"}}}`,
	`[{"type":"page","anonymousId":"a1","name":"x"},{"type":"alias","userId":"u2","previousId":"a1"},{"type":"delete","userId":"u1"}]`,
	`{"batch":[{"type":"track","userId":"u1","event":"E"}],"context":{"ip":"1.2.3.4"}}`,
	"{\"type\":\"identify\",\"anonymousId\":\"a\",\"traits\":{\"phones\":{\"+12125550123\":{\"isPrimary\":\"true\"}}}}\n{\"type\":\"identify\",\"userId\":\"u\",\"anonymousId\":\"a\"}",
	`{"type":"identify","userId":"u","traits":{"address":null,"age":"150","emails":{"a@b.co":{"isPrimary":true}}}}`,
}

// FuzzProcessBytes: no payload makes the processor panic or fail; every message gets a
// result, and processing the same payload again finds only duplicates (Rule E2) for
// what was applied.
func FuzzProcessBytes(f *testing.F) {
	for _, s := range processBytesSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := regalkit.New(memstore.New(), &regalkit.Options{MatchByPhone: len(data)%2 == 0})
		first, err := p.ProcessBytes(context.Background(), data)
		if err != nil {
			t.Fatalf("ProcessBytes: %v", err)
		}
		again, err := p.ProcessBytes(context.Background(), data)
		if err != nil {
			t.Fatalf("ProcessBytes again: %v", err)
		}
		if len(first) != len(again) {
			t.Fatalf("%d results, then %d", len(first), len(again))
		}
		for i, r := range first {
			if r.ContactID != "" && !again[i].Duplicate && r.MessageID != "" && !repeatsEarlier(first, i) {
				t.Fatalf("message %q applied, but not a duplicate the second time", r.MessageID)
			}
		}
	})
}

// repeatsEarlier reports whether result i's messageId came earlier in the same payload.
func repeatsEarlier(rs []regalkit.Result, i int) bool {
	for j := range i {
		if rs[j].MessageID == rs[i].MessageID {
			return true
		}
	}
	return false
}
