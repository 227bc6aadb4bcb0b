package contactcore

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldSample is a valid value of each kind, as sent and as kept.
var fieldSample = map[fieldKind]struct{ sent, kept string }{
	kindText:  {`"Sample Value"`, "Sample Value"},
	kindEmail: {`"Someone@Example.COM"`, "Someone@example.com"},
	kindAge:   {`42`, "42"},
	kindZone:  {`"America/New_York"`, "America/New_York"},
}

// fieldMessage is an identify that writes only f, with a valid value, at seedTime plus
// minutes.
func fieldMessage(t *testing.T, f field, minutes int, raw string) *event.Message {
	t.Helper()
	m := identify(t, minutes, `{}`)
	if key := fields[f].context; key != "" {
		m.Context.Extra = event.Object{{Key: key, Value: []byte(raw)}}
	} else {
		m.Traits = event.Object{{Key: fields[f].name, Value: []byte(raw)}}
	}
	return m
}

// TestFieldsTable checks every row of the field table through every path a field takes:
// apply (under its name and every key of Rule T1), the export, the people export read
// back, the storage codec, merge, hold, erase and clone. A row that one of them forgot
// fails here.
func TestFieldsTable(t *testing.T) {
	for f := range numFields {
		spec := fields[f]
		t.Run(spec.name, func(t *testing.T) {
			sample, ok := fieldSample[spec.kind]
			require.True(t, ok, "a sample value for the field's kind")
			require.NotEmpty(t, spec.name)
			require.True(t, spec.context != "" || len(spec.keys) > 0, "a field is written by a trait key or a context key")

			// Apply: the value lands in the field, and Changes names it.
			c := New("c-1")
			c.SetUserID("u1")
			ch := c.ApplyTraits(fieldMessage(t, f, 1, sample.sent), nil)
			require.Empty(t, ch.Diagnostics)
			assert.Equal(t, []string{spec.name}, ch.Fields)
			assert.Equal(t, sample.kept, c.state.fields[f].val)
			for g := range numFields {
				if g != f {
					assert.Empty(t, c.state.fields[g].val, "only %s is written", spec.name)
				}
			}
			for _, key := range spec.keys {
				other := New("c-2")
				m := identify(t, 1, `{}`)
				m.Traits = event.Object{{Key: key, Value: []byte(sample.sent)}}
				other.ApplyTraits(m, nil)
				assert.Equal(t, sample.kept, other.state.fields[f].val, "trait key %q", key)
			}

			// A value of the wrong JSON type is refused, and null removes the field.
			refused := c.Clone()
			ch = refused.ApplyTraits(fieldMessage(t, f, 2, `{"x":1}`), nil)
			assert.Len(t, ch.Diagnostics, 1)
			assert.Equal(t, sample.kept, refused.state.fields[f].val)
			removed := c.Clone()
			removed.ApplyTraits(fieldMessage(t, f, 2, `null`), nil)
			if spec.context == "" {
				assert.Empty(t, removed.state.fields[f].val, "null removes a trait field")
			}

			// Export: the field is in the people format under its name.
			doc := exportOf(t, c)
			want := any(sample.kept)
			if spec.kind == kindAge {
				want = float64(42)
			}
			assert.Equal(t, want, doc[spec.name])

			// The people export reads back with the value.
			b, err := json.Marshal(Export{Contact: c})
			require.NoError(t, err)
			var back Export
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, sample.kept, back.Contact.state.fields[f].val)

			// Storage codec: the register comes back with its stamp.
			b, err = EncodeStorage(c)
			require.NoError(t, err)
			stored, err := DecodeStorage(b)
			require.NoError(t, err)
			assert.Equal(t, c.state.fields[f].val, stored.state.fields[f].val)
			assert.Zero(t, c.state.fields[f].st.compare(stored.state.fields[f].st))
			// ... and keeps merging: an older write still loses.
			stored.ApplyTraits(fieldMessage(t, f, 0, `null`), nil)
			assert.Equal(t, sample.kept, stored.state.fields[f].val)

			// Merge: an empty contact takes the field; a newer write wins both ways.
			merged := New("c-3")
			merged.Merge(c)
			assert.Equal(t, sample.kept, merged.state.fields[f].val)
			assert.Zero(t, c.state.fields[f].st.compare(merged.state.fields[f].st))
			var joined state
			ch = Changes{}
			joined.join(c.state, &ch)
			assert.True(t, slices.Contains(ch.Fields, spec.name), "join reports %s", spec.name)

			// Clone: a copy that does not share the field.
			clone := c.Clone()
			clone.ApplyTraits(fieldMessage(t, f, 3, `null`), nil)
			assert.Equal(t, sample.kept, c.state.fields[f].val)

			// Hold: a held message with only this field has an effect, shows, and goes
			// with Release.
			hm := fieldMessage(t, f, 4, sample.sent)
			hm.UserID, hm.AnonymousID = "", "a1"
			h, ch := NewHeld(hm, nil, false, nil)
			require.Empty(t, ch.Diagnostics)
			require.NotNil(t, h.effect, "a held %s is not empty", spec.name)
			holder := New("c-4")
			holder.AddAnonymousID("a1")
			holder.Hold(h)
			assert.Equal(t, sample.kept, holder.state.fields[f].val)
			holder.Release("a1", func(Held) bool { return true })
			assert.Empty(t, holder.state.fields[f].val)

			// Erase: a later delete clears the field and leaves the contact empty.
			erased := c.Clone()
			remains := erased.Erase(seedTime.Add(time.Hour), "delete")
			assert.Empty(t, erased.state.fields[f].val)
			assert.True(t, erased.state.fields[f].st.isZero())
			assert.False(t, remains)
			var s state
			s.fields[f] = c.state.fields[f]
			assert.False(t, s.isEmpty(), "a state with only %s is not empty", spec.name)
		})
	}
}

// TestFieldsTable_keys checks that no two standard traits share a normalized key, and
// that every key is normalized.
func TestFieldsTable_keys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range allStdKeys() {
		assert.False(t, seen[k.key], "key %q is standard twice", k.key)
		seen[k.key] = true
		assert.Equal(t, k.key, string(normalizeKey(nil, k.key)))
	}
	names := map[string]bool{}
	for f := range numFields {
		assert.False(t, names[fields[f].name], "name %q twice", fields[f].name)
		names[fields[f].name] = true
		got, ok := fieldByName(fields[f].name)
		assert.True(t, ok)
		assert.Equal(t, f, got)
	}
}

// TestAddressPartsTable checks every address part, under each of its keys, through
// apply, the export, the storage codec, merge, hold and erase.
func TestAddressPartsTable(t *testing.T) {
	for i, p := range addressParts {
		t.Run(p.name, func(t *testing.T) {
			for _, key := range p.keys {
				c, diags := apply(t, identify(t, 1, `{"address":{"`+key+`":"Some Part"}}`))
				require.Empty(t, diags)
				assert.Equal(t, "Some Part", c.state.address[i].val, "sub-key %q", key)
			}
			c, _ := apply(t, identify(t, 1, `{"address":{"`+p.name+`":"Some Part"}}`))
			assert.Equal(t, map[string]any{p.name: "Some Part"}, exportOf(t, c)["address"])

			b, err := EncodeStorage(c)
			require.NoError(t, err)
			stored, err := DecodeStorage(b)
			require.NoError(t, err)
			assert.Equal(t, "Some Part", stored.state.address[i].val)
			assert.Zero(t, c.state.address[i].st.compare(stored.state.address[i].st))

			merged := New("c-2")
			merged.Merge(c)
			assert.Equal(t, "Some Part", merged.state.address[i].val)

			hm := identify(t, 2, `{"address":{"`+p.name+`":"Held Part"}}`)
			hm.UserID, hm.AnonymousID = "", "a1"
			h, _ := NewHeld(hm, nil, false, nil)
			require.NotNil(t, h.effect)
			holder := New("c-3")
			holder.Hold(h)
			assert.Equal(t, "Held Part", holder.state.address[i].val)

			erased := c.Clone()
			erased.Erase(seedTime.Add(time.Hour), "delete")
			assert.Empty(t, erased.state.address[i].val)
			assert.True(t, erased.state.address[i].st.isZero())
		})
	}
}

// TestStorage_valuesKeepTheirBytes_RuleT2: a custom property or address sub-key whose value
// holds &, <, > or U+2028 reads back from the storage document with the bytes the
// message sent, so the same identify sent again changes nothing (Rules T2, O1): a
// durable store would otherwise report it changed and send Regal an update each time.
func TestStorage_valuesKeepTheirBytes_RuleT2(t *testing.T) {
	traits := `{"company":"Johnson & Johnson","tag":"<4B>","note":"a` + "\u2028" + `b","address":{"unit":"<4B> & co"}}`
	c, diags := apply(t, identify(t, 0, traits))
	require.Empty(t, diags)
	b, err := EncodeStorage(c)
	require.NoError(t, err)
	back, err := DecodeStorage(b)
	require.NoError(t, err)
	ch := back.ApplyTraits(identify(t, 1, traits), nil)
	assert.Empty(t, ch.Fields, "the same values again change nothing")
	again, err := EncodeStorage(back)
	require.NoError(t, err)
	assert.Contains(t, string(again), `"Johnson & Johnson"`)
}

// TestStorage_unknownClockNotQuotedWhole: a storage document whose clocks name a field
// that does not exist is an error that quotes the name masked (RULES.md, X: no whole
// email address or phone number in an error string) and cut.
func TestStorage_unknownClockNotQuotedWhole(t *testing.T) {
	c, _ := apply(t, seedMessage(t))
	b, err := EncodeStorage(c)
	require.NoError(t, err)
	for _, key := range []string{"bob.secret@example.com", "+19545552399", strings.Repeat("k", 500)} {
		doc := strings.Replace(string(b), `"firstName":[`, `"`+key+`":[`, 1)
		require.NotEqual(t, string(b), doc, "the seed's storage names firstName's clock")
		_, err := DecodeStorage([]byte(doc))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "bob.secret")
		assert.NotContains(t, err.Error(), "9545552399")
		assert.Less(t, len(err.Error()), 200)
	}
}

// TestStorage_refusesWhatJSONWouldChange: an id or a lookup key that is not valid
// UTF-8 is refused, not written as U+FFFD: read back, the contact would not be the one
// put, a Put of it would miss its row, and the store's index would keep a key it no
// longer has (a review found all three in pgstore, through the Store API; the
// Processor refuses such identifiers, Rule D6).
func TestStorage_refusesWhatJSONWouldChange(t *testing.T) {
	bad := New("c\xff")
	_, err := EncodeStorage(bad)
	require.Error(t, err)
	c := New("c1")
	c.SetUserID("u\xff@example.com")
	_, err = EncodeStorage(c)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "example.com", "the key is not quoted")
	ok := New("c2")
	ok.SetUserID("u1")
	_, err = EncodeStorage(ok)
	require.NoError(t, err)
}
