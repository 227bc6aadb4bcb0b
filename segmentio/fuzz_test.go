package segmentio

import (
	"bytes"
	"os"
	"testing"
	"testing/iotest"

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
		_ = VerifySignature(data, "0123456789abcdef0123456789abcdef01234567", []byte("k"))
		var m Result
		_ = Unmarshal(data, &m.Message)
	})
}
