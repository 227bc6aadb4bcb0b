package memstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An idSet finds what was added, under colliding hashes too, and across blocks.
func TestIDSet(t *testing.T) {
	var s idSet
	assert.False(t, s.has(1, "a"))
	var want []string
	for i := range 5000 {
		id := fmt.Sprintf("msg-%d", i)
		h := uint64(i % 7) // heavy collisions: seven hashes in all
		if i == 4000 {
			id = strings.Repeat("x", 3*idBlockSize) // longer than a block
		}
		s.add(h, id)
		s.add(h, id) // again: no second member
		want = append(want, id)
	}
	require.Equal(t, len(want), s.len())
	for i, id := range want {
		assert.True(t, s.has(uint64(i%7), id), id)
		assert.False(t, s.has(uint64((i+1)%7), id), "%s under another hash", id)
	}
	assert.False(t, s.has(0, "msg-"))
	assert.False(t, s.has(0, ""))
	s.add(0, "")
	assert.True(t, s.has(0, ""))
	got := slices.Sorted(s.all())
	want = append(want, "")
	slices.Sort(want)
	assert.Equal(t, want, got)
	assert.Greater(t, len(s.blocks), 3)
	// The first block grew to a block's size; the next started at it.
	assert.Equal(t, idBlockSize, cap(s.blocks[0]))
	assert.Equal(t, idBlockSize, cap(s.blocks[1]))
}
