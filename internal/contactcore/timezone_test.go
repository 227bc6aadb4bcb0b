package contactcore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

func withZone(t *testing.T, minutes int, zone string) *Contact {
	t.Helper()
	m := identify(t, minutes, `{}`)
	m.Context.Extra = mustObject(t, `{"timezone":`+zone+`}`)
	c := New("")
	c.ApplyTraits(m, nil)
	return c
}

// TestTimeZone_RuleG3 checks the context.timezone register: the latest identify sets it
// in any order (Rule T4), merges join it, a bad value is a diagnostic, and the storage
// export keeps it with its stamp.
func TestTimeZone_RuleG3(t *testing.T) {
	early, late := identify(t, 1, `{}`), identify(t, 2, `{"firstName":"Ann"}`)
	early.Context.Extra = mustObject(t, `{"timezone":"America/Chicago"}`)
	late.Context.Extra = mustObject(t, `{"timezone":"America/New_York","app":{"name":"x"}}`)
	a, diags := apply(t, early, late)
	b, _ := apply(t, late, early)
	assert.Empty(t, diags)
	assert.Equal(t, "America/New_York", a.TimeZone())
	assert.Equal(t, a.TimeZone(), b.TimeZone())

	m := withZone(t, 5, `"Asia/Tokyo"`)
	m.Merge(withZone(t, 3, `"Europe/Berlin"`))
	assert.Equal(t, "Asia/Tokyo", m.TimeZone())

	nothing := identify(t, 9, `{}`)
	nothing.Context.Extra = mustObject(t, `{"timezone":null}`)
	c, _ := apply(t, late, nothing)
	assert.Equal(t, "America/New_York", c.TimeZone(), "null tells nothing")

	for _, bad := range []string{`42`, `"New York"`, `""`, `"../../etc/passwd"`} {
		msg := identify(t, 7, `{}`)
		msg.Context.Extra = mustObject(t, `{"timezone":`+bad+`}`)
		c, diags := apply(t, late, msg)
		assert.Equal(t, "America/New_York", c.TimeZone(), bad)
		require.Len(t, diags, 1, bad)
		assert.Equal(t, diag.TraitInvalid, diags[0].Code)
		assert.Equal(t, "context.timezone", diags[0].Field)
	}

	raw, err := EncodeStorage(a)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"timezone":"America/New_York"`)
	stored, err := DecodeStorage(raw)
	require.NoError(t, err)
	assert.Equal(t, "America/New_York", stored.TimeZone())
	// The stamp came back too: an older message still loses.
	stored.ApplyTraits(early, nil)
	assert.Equal(t, "America/New_York", stored.TimeZone())

	var back Export
	raw, err = json.Marshal(Export{Contact: a})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, "America/New_York", back.Contact.TimeZone(), "an export without clocks reads back too")
}
