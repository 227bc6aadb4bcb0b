package regalkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcess_partnerDelete: Segment's documented partner delete payload, with PHP's
// "context": [] and "integrations": [], deletes the user and leaves its tombstone
// (Rule I7, issue 12): it used to be refused whole, and the deletion lost.
func TestProcess_partnerDelete(t *testing.T) {
	f := newFixture(t, nil)
	f.one(`{"type":"identify","userId":"5678","messageId":"i1","timestamp":"2020-05-09T00:00:00Z","traits":{"phone":"+19545552399"}}`)
	res := f.one(`{"type":"delete","userId":"5678","messageId":"del-1","context":[],"integrations":[],"timestamp":"2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264"}`)
	assert.Empty(t, res.Diagnostics)
	assert.Contains(t, res.Changed, "deleted")
	assert.Nil(t, f.user("5678"))
	late := f.one(`{"type":"track","userId":"5678","event":"E","messageId":"t-late","timestamp":"2020-05-09T12:00:00Z","context":[],"properties":[]}`)
	require.Len(t, late.Diagnostics, 1)
	assert.Equal(t, "message.deleted", string(late.Diagnostics[0].Code), "the tombstone holds")
}
