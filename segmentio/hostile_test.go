package segmentio

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cost runs f once and returns how long it took and how many bytes it allocated.
func cost(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

// firstError decodes in through a streaming Decoder and returns the first error of any
// kind (an item's or the input's).
func firstError(in []byte) error {
	d := NewDecoder(bytes.NewReader(in))
	for {
		var r Result
		err := d.Decode(&r.Message)
		if err != nil {
			return err
		}
	}
}

// TestDecode_hostileInputs: each hostile input gets its typed error quickly, with
// memory bounded by the limits rather than by the input (Rule D7).
func TestDecode_hostileInputs(t *testing.T) {
	item := `{"type":"track","event":"E","userId":"u","messageId":"m"}`
	var batch strings.Builder
	batch.WriteString(`{"batch":[`)
	for i := range 3000 {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.WriteString(item)
	}
	batch.WriteString(`]}`)

	tests := []struct {
		name     string
		in       string
		check    func(t *testing.T, err error)
		maxBytes uint64 // allocation bound for a whole decode
	}{
		{
			name: "100,000 nested arrays",
			in:   strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000),
			check: func(t *testing.T, err error) {
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, LimitDepth, le.Limit)
				// Past the limit the scan goes on, so that a message too deep fails alone
				// in its batch, up to hardMaxDepth, where the document is refused whole.
				assert.Equal(t, int64(hardMaxDepth), le.Offset, "refused at the first level past the hard limit")
			},
			maxBytes: 2 << 20, // the 200 KB input is read whole (it is under 500 KB), nothing more
		},
		{
			name: "a 10 MB string",
			in:   `{"type":"identify","userId":"u","traits":{"bio":"` + strings.Repeat("x", 10<<20) + `"}}`,
			check: func(t *testing.T, err error) {
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, LimitBatchBytes, le.Limit)
			},
			maxBytes: 4 << 20, // at most the batch size is buffered, not 10 MB
		},
		{
			name: "invalid UTF-8",
			in:   "{\"type\":\"identify\",\"userId\":\"u\xc3\x28\"}",
			check: func(t *testing.T, err error) {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, int64(strings.Index("{\"type\":\"identify\",\"userId\":\"u\xc3\x28\"}", "\xc3")), se.Offset)
				assert.Contains(t, se.Reason, "UTF-8")
			},
			maxBytes: 64 << 10,
		},
		{
			name: "NaN",
			in:   `{"type":"track","event":"E","userId":"u","properties":{"amount":NaN}}`,
			check: func(t *testing.T, err error) {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, int64(strings.Index(`{"type":"track","event":"E","userId":"u","properties":{"amount":NaN}}`, "NaN")), se.Offset)
			},
			maxBytes: 64 << 10,
		},
		{
			name: "Infinity",
			in:   `{"type":"track","event":"E","userId":"u","properties":{"amount":-Infinity}}`,
			check: func(t *testing.T, err error) {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, int64(strings.Index(`{"type":"track","event":"E","userId":"u","properties":{"amount":-Infinity}}`, "Infinity")), se.Offset)
			},
			maxBytes: 64 << 10,
		},
		{
			name: "duplicate keys",
			in:   `{"type":"identify","userId":"u","userId":"v"}`,
			check: func(t *testing.T, err error) {
				var ie *ItemError
				require.ErrorAs(t, err, &ie, "a duplicate spoils one message, not the input")
				var dk *DuplicateKeyError
				require.ErrorAs(t, err, &dk)
				assert.Equal(t, int64(32), dk.Offset)
			},
			maxBytes: 64 << 10,
		},
		{
			name: "a number of 10,000 digits",
			in:   `{"type":"identify","userId":"u","traits":{"n":` + strings.Repeat("7", 10_000) + `}}`,
			check: func(t *testing.T, err error) {
				var ie *ItemError
				require.ErrorAs(t, err, &ie)
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, LimitNumberLength, le.Limit)
				assert.Equal(t, int64(46), le.Offset)
			},
			maxBytes: 256 << 10,
		},
		{
			name: "a batch of 3,000 items",
			in:   batch.String(),
			check: func(t *testing.T, err error) {
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, LimitBatchItems, le.Limit)
				assert.Equal(t, 2500, le.Max)
				assert.True(t, errors.Is(err, ErrLimit))
			},
			maxBytes: 2 << 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var streamErr, allErr error
			d, allocated := cost(func() { streamErr = firstError(in) })
			tt.check(t, streamErr)
			assert.Less(t, d, 2*time.Second, "streaming took %v", d)
			assert.LessOrEqual(t, allocated, tt.maxBytes, "streaming allocated %d bytes", allocated)

			d, allocated = cost(func() {
				results, err := DecodeAll(in, nil)
				allErr = err
				if err == nil {
					require.Len(t, results, 1)
					allErr = results[0].Err
				}
			})
			tt.check(t, allErr)
			assert.Less(t, d, 2*time.Second, "DecodeAll took %v", d)
			assert.LessOrEqual(t, allocated, tt.maxBytes, "DecodeAll allocated %d bytes", allocated)
		})
	}
}
