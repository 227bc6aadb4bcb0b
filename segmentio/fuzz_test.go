package segmentio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/regalkit/regalkit/event"

	"github.com/stretchr/testify/require"
)

// FuzzDecode: the decoder never panics; reading from memory and from a stream agree;
// every message it accepts survives Marshal and a second decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, in := range testdataInputs(f) {
		data, err := os.ReadFile(in)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		seedIdentify,
		`[{"type":"track","event":"E","userId":1},{"type":"x"}]`,
		`{"batch":[{"type":"page","anonymousId":"a"}],"context":{"ip":"1"},"integrations":{"a":1},"sentAt":5}`,
		"{\"type\":\"identify\",\"userId\":\"u\"}\n\n[1]\nnot json\n",
		`{"type":"identify","userId":"u","context":{"library":{"name":1},"page":"p","traits":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		results, err := DecodeAll(data, nil)
		streamed, serr := NewDecoder(iotest.HalfReader(bytes.NewReader(data))).decodeAll()
		require.Equal(t, err, serr)
		require.Equal(t, results, streamed)
		for _, r := range results {
			if r.Err == nil {
				assertRoundTrip(t, &r.Message)
				// What the decoder gives, the Processor takes without re-checking
				// its objects: event.Message.CheckJSON must pass (Rule D1).
				require.NoError(t, r.Message.CheckJSON())
			}
		}
		// Decoding into an arena reused from one message to the next, as ProcessStream
		// does, gives the same messages and errors.
		dec := NewDecoder(bytes.NewReader(data))
		var arena []event.Member
		for i := 0; ; i++ {
			clear(arena[:cap(arena)])
			var m event.Message
			err := dec.decodeInto(&m, &arena)
			if err == io.EOF || (err != nil && !isItemErr(err)) {
				require.Len(t, results, i)
				if err != io.EOF {
					require.Equal(t, serr, err)
				}
				break
			}
			require.Less(t, i, len(results))
			require.Equal(t, results[i].Err, err, "item %d", i)
			require.Equal(t, results[i].Message, m, "item %d", i)
		}
		_ = VerifySignature(data, "0123456789abcdef0123456789abcdef01234567", []byte("k"))
		var m Result
		_ = Unmarshal(data, &m.Message)
	})
}

// isItemErr reports whether err concerns one message alone.
func isItemErr(err error) bool {
	var ie *ItemError
	return errors.As(err, &ie)
}
