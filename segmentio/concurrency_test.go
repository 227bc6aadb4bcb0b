package segmentio

import (
	"sync"
	"testing"

	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
)

// TestDecodeAll_concurrent: DecodeAll and Unmarshal share pooled state safely (run with
// -race).
func TestDecodeAll_concurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				var m event.Message
				if g%2 == 0 {
					assert.NoError(t, Unmarshal([]byte(seedIdentify), &m))
				} else {
					results, err := DecodeAll([]byte("["+seedIdentify+","+typicalTrack+"]"), nil)
					assert.NoError(t, err)
					if assert.Len(t, results, 2) {
						m = results[1].Message
					}
				}
				assert.NotEmpty(t, m.UserID)
			}
		}()
	}
	wg.Wait()
}
