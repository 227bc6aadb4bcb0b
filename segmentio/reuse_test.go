package segmentio_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/corpus"
	"github.com/regalkit/regalkit/internal/reuse"
	"github.com/regalkit/regalkit/segmentio"
)

type decoded struct {
	msg event.Message
	err string
}

// decodeEvery decodes all of data with next, until the input cannot be read further.
func decodeEvery(t *testing.T, next func(*event.Message) error) []decoded {
	var out []decoded
	for {
		var d decoded
		err := next(&d.msg)
		if err == io.EOF {
			return out
		}
		if err != nil {
			d.err = err.Error()
		}
		out = append(out, d)
		var ie *segmentio.ItemError
		if err != nil && !errors.As(err, &ie) {
			return out
		}
		if len(out) > 100000 {
			t.Fatal("the decoder does not stop")
		}
	}
}

// TestDecodeInto_SameMessagesAsDecode_RuleD1: decoding into a recycled arena (what
// ProcessStream does, issue 14) gives the messages Decode gives, in every form of Rule
// D1 and on every golden input, each message's traits and properties taken from the
// arena when it has room, and the arena cleared between messages as ProcessStream
// clears it.
func TestDecodeInto_SameMessagesAsDecode_RuleD1(t *testing.T) {
	inputs := map[string][]byte{}
	var c bytes.Buffer
	require.NoError(t, corpus.Write(&c, corpus.Config{Messages: 500, Users: 50, Seed: 9}))
	inputs["corpus.ndjson"] = c.Bytes()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs[filepath.Base(f)] = b
	}
	inputs["objects.ndjson"] = []byte(`{"type":"identify","userId":"u1","traits":{}}
{"type":"identify","userId":"u1","traits":[]}
{"type":"identify","userId":"u1","traits":null}
{"type":"track","userId":"u1","event":"E","properties":{"a":1,"b":{"c":[1,2]}},"traits":{"x":"y"}}
{"type":"identify","userId":"u1","tr\u0061its":{"e":1},"properties":{"p":2}}
{"type":"identify","userId":"u1","traits":{"a":1,"a":2}}
{"type":"track","userId":"u1","event":"E","properties":"no"}
`)
	inputs["array.json"] = []byte(`[{"type":"track","userId":"u","event":"E","properties":{"a":1,"b":2}},{"type":"identify","userId":"u","traits":{"c":3}}]`)
	inputs["batch.json"] = []byte(`{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":1}},{"type":"identify","userId":"u","traits":{"c":3,"d":4}}],"context":{"ip":"1.2.3.4"}}`)

	inArena := 0
	for name, data := range inputs {
		dec := segmentio.NewDecoder(bytes.NewReader(data))
		want := decodeEvery(t, dec.Decode)

		var arena []event.Member
		dec = segmentio.NewDecoder(bytes.NewReader(data))
		got := decodeEvery(t, func(m *event.Message) error {
			clear(arena[:cap(arena)])
			err := reuse.DecodeInto(dec, m, &arena)
			for _, o := range []event.Object{m.Traits, m.Properties} {
				if len(o) == 0 {
					continue
				}
				start := uintptr(unsafe.Pointer(unsafe.SliceData(arena[:cap(arena)])))
				end := start + uintptr(cap(arena))*unsafe.Sizeof(event.Member{})
				if p := uintptr(unsafe.Pointer(unsafe.SliceData(o))); p >= start && p < end {
					inArena++
				}
				assert.Equal(t, len(o), cap(o), "%s: an object's capacity is its length: an append copies it", name)
			}
			// Copy what the next decode overwrites: the arena is reused.
			m.Traits, m.Properties = m.Traits.Clone(), m.Properties.Clone()
			return err
		})
		require.Equal(t, len(want), len(got), name)
		for i := range want {
			assert.Equal(t, want[i].err, got[i].err, "%s #%d", name, i)
			assert.Equal(t, want[i].msg, got[i].msg, "%s #%d", name, i)
		}
	}
	assert.Greater(t, inArena, 500, "traits and properties come from the arena")
}
