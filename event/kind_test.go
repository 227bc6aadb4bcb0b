package event

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestKind_table: the seven kinds of Rule D2 are valid, read back from their names, and
// nothing else is.
func TestKind_table(t *testing.T) {
	names := []string{"identify", "track", "page", "screen", "group", "alias", "delete"}
	for i, name := range names {
		k := Kind(i + 1)
		assert.True(t, k.Valid(), name)
		assert.Equal(t, name, k.String())
		back, ok := ParseKind(name)
		assert.True(t, ok, name)
		assert.Equal(t, k, back)
	}
	for _, k := range []Kind{0, Kind(len(names) + 1), 255} {
		assert.False(t, k.Valid(), "%d", k)
		assert.Equal(t, "invalid", k.String())
	}
}
