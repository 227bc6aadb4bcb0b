package contactcore

import (
	"testing"
	"unsafe"

	"github.com/regalkit/regalkit/segmentio"
	"github.com/stretchr/testify/require"
)

// TestKeysDoNotShareTheMessageText: a decoded message's keys are substrings of its whole
// text, so a contact that kept them as they are would keep every such message's text
// alive. Each key a contact keeps must have memory of its own.
func TestKeysDoNotShareTheMessageText(t *testing.T) {
	doc := []byte(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z",` +
		`"traits":{"plan":"gold","a_custom_key_much_longer_than_sixty_four_bytes_so_it_is_never_interned":1,` +
		`"address":{"floor":2},"phones":{"+19545552399":{"label":"work"}}}}`)
	res, err := segmentio.DecodeAll(doc, nil)
	require.NoError(t, err)
	require.Len(t, res, 1)
	m := &res[0].Message
	c := New("c1")
	c.ApplyTraits(m, nil)

	// The message's memory: every top-level key and value, nested keys inside them.
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, mb := range m.Traits {
		k := uintptr(unsafe.Pointer(unsafe.StringData(mb.Key)))
		spans = append(spans, span{k, k + uintptr(len(mb.Key))})
		if len(mb.Value) > 0 {
			v := uintptr(unsafe.Pointer(&mb.Value[0]))
			spans = append(spans, span{v, v + uintptr(len(mb.Value))})
		}
	}
	kept := append(c.CustomKeys(), keysOf(c.state.addressExtra)...)
	kept = append(kept, keysOf(c.state.labels)...)
	require.Len(t, kept, 4, "plan, the long key, floor and the phone's label")
	for _, k := range kept {
		p := uintptr(unsafe.Pointer(unsafe.StringData(k)))
		for _, sp := range spans {
			require.False(t, p >= sp.lo && p < sp.hi, "key %q shares the message's memory", k)
		}
	}
}

func keysOf(s []keyedRegister) []string {
	var out []string
	for _, kr := range s {
		out = append(out, kr.key)
	}
	return out
}
