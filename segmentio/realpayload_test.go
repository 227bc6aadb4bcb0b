package segmentio

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// TestDecode_emptyArrayIsEmptyObject: PHP's json_encode writes an empty object as [],
// and Segment's own partner delete payload carries "context": [] and
// "integrations": [] (issue 12). An empty array where an object belongs reads as an
// empty object, in every message kind and inside context.
func TestDecode_emptyArrayIsEmptyObject(t *testing.T) {
	t.Run("partner delete", func(t *testing.T) {
		m, err := decodeOne(t, `{"type":"delete","userId":"5678","messageId":"del-1","context":[],"integrations":[],"timestamp":"2020-05-09T23:54:49Z"}`)
		require.NoError(t, err)
		assert.Equal(t, event.Delete, m.Kind)
		assert.Equal(t, "5678", m.UserID)
		assert.True(t, m.Context.IsZero())
		assert.NotNil(t, m.Integrations)
		assert.Empty(t, m.Integrations)
	})
	for _, tt := range []struct{ kind, body string }{
		{"identify", `"userId":"u","traits":[]`},
		{"track", `"userId":"u","event":"E","properties":[]`},
		{"page", `"userId":"u","name":"Home","properties":[]`},
		{"screen", `"userId":"u","name":"Home","properties":[]`},
		{"group", `"userId":"u","groupId":"g","traits":[]`},
		{"alias", `"userId":"u","previousId":"p"`},
		{"delete", `"userId":"u"`},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			in := `{"type":"` + tt.kind + `",` + tt.body + `,"context":{"traits":[],"library":[],"page":[],"ip":"8.8.8.8"},"integrations":[]}`
			m, err := decodeOne(t, in)
			require.NoError(t, err)
			assert.Equal(t, "8.8.8.8", m.Context.IP)
			assert.NotNil(t, m.Context.Traits, "context.traits [] is an empty object")
			assert.Empty(t, m.Context.Traits)
			assert.True(t, m.Context.Library.IsZero())
			assert.True(t, m.Context.Page.IsZero())
			assert.Empty(t, m.Context.Extra, "nothing of context is left unread")
			switch tt.kind {
			case "identify", "group":
				assert.NotNil(t, m.Traits)
				assert.Empty(t, m.Traits)
			case "track", "page", "screen":
				assert.NotNil(t, m.Properties)
				assert.Empty(t, m.Properties)
			}
			m2, err := decodeOne(t, `{"type":"`+tt.kind+`",`+tt.body+`,"context":[]}`)
			require.NoError(t, err)
			assert.True(t, m2.Context.IsZero())
		})
	}
	t.Run("batch envelope", func(t *testing.T) {
		results, err := DecodeAll([]byte(`{"batch":[{"type":"track","userId":"u","event":"E"}],"context":[],"integrations":[ ]}`), nil)
		require.NoError(t, err)
		require.Len(t, results, 1)
		require.NoError(t, results[0].Err)
	})
	t.Run("a non-empty array is still refused", func(t *testing.T) {
		_, err := decodeOne(t, `{"type":"identify","userId":"u","traits":[1]}`)
		require.ErrorIs(t, err, ErrInvalidMessage)
		_, err = decodeOne(t, `{"type":"identify","userId":"u","context":[{}]}`)
		require.ErrorIs(t, err, ErrInvalidMessage)
	})
}

// TestDecode_goTimeString_RuleD4: Segment's partner spec shows an originalTimestamp printed by
// Go's time.Time.String, monotonic reading included (issue 12, Rule D4).
func TestDecode_goTimeString_RuleD4(t *testing.T) {
	m, err := decodeOne(t, `{"type":"track","userId":"u","event":"E","originalTimestamp":"2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264"}`)
	require.NoError(t, err)
	assert.Empty(t, m.Diagnostics)
	assert.Equal(t, "2020-05-09T23:54:49.209808489Z", timestamp.Format(m.Time))
}

// TestDecode_unsupportedTypeMasked: a type that is not one of the seven is input, and
// may be an email or a phone: the error masks it (RULES.md, X, issue 12).
func TestDecode_unsupportedTypeMasked(t *testing.T) {
	for typ, want := range map[string]string{
		"bob.secret@example.com": `"***@example.com"`,
		"+19545552399":           `"+*******2399"`,
		"Order Completed":        `"Order Completed"`,
	} {
		_, err := decodeOne(t, `{"type":"`+typ+`","userId":"u"}`)
		var ue *UnsupportedTypeError
		require.ErrorAs(t, err, &ue)
		assert.Contains(t, err.Error(), want)
		if want != `"`+typ+`"` {
			assert.NotContains(t, err.Error(), typ[1:])
		}
	}
}
