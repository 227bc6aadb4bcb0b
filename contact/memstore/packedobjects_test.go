package memstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/regalkit/regalkit/event"
)

// TestPackedObjects_RoundTrip: every object a record can hold comes back from the
// store as it went in: nil apart from empty, for objects and for values, keys of any
// length and content, and values of any size (multi-byte length prefixes).
func TestPackedObjects_RoundTrip(t *testing.T) {
	object := func(t *rapid.T, label string) event.Object {
		if rapid.IntRange(0, 3).Draw(t, label+" kind") == 0 {
			return nil
		}
		n := rapid.IntRange(0, 6).Draw(t, label+" members")
		o := event.Object{}
		for range n {
			m := event.Member{Key: rapid.String().Draw(t, label+" key")}
			switch rapid.IntRange(0, 4).Draw(t, label+" value kind") {
			case 0:
			case 1:
				m.Value = []byte{}
			default:
				m.Value = []byte(rapid.StringN(0, 400, -1).Draw(t, label+" value"))
			}
			o = append(o, m)
		}
		return o
	}
	rapid.Check(t, func(t *rapid.T) {
		in := event.Record{Kind: event.Track, Name: "A", MessageID: "m"}
		in.Properties = object(t, "properties")
		in.Traits = object(t, "traits")
		in.Context.Library.Extra = object(t, "library")
		in.Context.Page.Extra = object(t, "page")
		ev := newStoredEvent(in, "c-1")
		out := ev.record()
		for i, pair := range [][2]event.Object{{in.Properties, out.Properties}, {in.Traits, out.Traits},
			{in.Context.Library.Extra, out.Context.Library.Extra}, {in.Context.Page.Extra, out.Context.Page.Extra}} {
			if (pair[0] == nil) != (pair[1] == nil) || len(pair[0]) != len(pair[1]) {
				t.Fatalf("object %d: %#v came back as %#v", i, pair[0], pair[1])
			}
			for j := range pair[0] {
				a, b := pair[0][j], pair[1][j]
				if a.Key != b.Key || string(a.Value) != string(b.Value) || (a.Value == nil) != (b.Value == nil) {
					t.Fatalf("object %d member %d: %#v came back as %#v", i, j, a, b)
				}
			}
		}
		if in.Properties == nil && in.Traits == nil && in.Context.Library.Extra == nil && in.Context.Page.Extra == nil {
			assert.Empty(t, ev.rest(), "a record without objects or other strings stores none")
		}
	})
}
