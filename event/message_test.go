package event

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseKind_RuleD2: the seven types, case-insensitively; nothing else.
func TestParseKind_RuleD2(t *testing.T) {
	for k := Identify; k <= Delete; k++ {
		for _, name := range []string{k.String(), strings.ToUpper(k.String()[:1]) + k.String()[1:]} {
			got, ok := ParseKind(name)
			require.True(t, ok, name)
			assert.Equal(t, k, got)
		}
	}
	got, ok := ParseKind("TRACK")
	assert.True(t, ok)
	assert.Equal(t, Track, got)
	for _, bad := range []string{"", "trackk", "batch", "page ", "screenview"} {
		_, ok := ParseKind(bad)
		assert.False(t, ok, bad)
	}
	assert.Equal(t, "invalid", Kind(0).String())
	b, err := json.Marshal(Screen)
	require.NoError(t, err)
	assert.Equal(t, `"screen"`, string(b))
}

func TestObject_JSON(t *testing.T) {
	var o Object
	require.NoError(t, json.Unmarshal([]byte(` { "id" : 123456789012345678, "tags":[ "a" ,"b"], "nested":{"z":1,"a":2}, "n":null } `), &o))
	assert.Equal(t, Object{
		{Key: "id", Value: json.RawMessage(`123456789012345678`)},
		{Key: "tags", Value: json.RawMessage(`["a","b"]`)},
		{Key: "nested", Value: json.RawMessage(`{"z":1,"a":2}`)},
		{Key: "n", Value: json.RawMessage(`null`)},
	}, o)
	v, ok := o.Get("nested")
	require.True(t, ok)
	assert.Equal(t, `{"z":1,"a":2}`, string(v))
	_, ok = o.Get("missing")
	assert.False(t, ok)

	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.Equal(t, `{"id":123456789012345678,"tags":["a","b"],"nested":{"z":1,"a":2},"n":null}`, string(b))

	var empty, null Object
	require.NoError(t, json.Unmarshal([]byte(`{}`), &empty))
	assert.NotNil(t, empty)
	assert.Empty(t, empty)
	require.NoError(t, json.Unmarshal([]byte(`null`), &null))
	assert.Nil(t, null)
	b, err = json.Marshal(struct {
		A, B Object
	}{A: Object{}, B: nil})
	require.NoError(t, err)
	assert.Equal(t, `{"A":{},"B":null}`, string(b))
}

func TestObject_JSONErrors(t *testing.T) {
	var o Object
	assert.ErrorIs(t, o.UnmarshalJSON([]byte(`{"a":1,"a":2}`)), ErrDuplicateKey)
	assert.ErrorIs(t, o.UnmarshalJSON([]byte(`[1]`)), ErrInvalidValue)
	assert.ErrorIs(t, o.UnmarshalJSON([]byte(`{"a":NaN}`)), ErrInvalidValue)

	_, err := Object{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "a", Value: json.RawMessage(`2`)}}.MarshalJSON()
	assert.ErrorIs(t, err, ErrDuplicateKey)
	_, err = Object{{Key: "a", Value: json.RawMessage(`{`)}}.MarshalJSON()
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = Object{{Key: "a"}}.MarshalJSON()
	assert.ErrorIs(t, err, ErrInvalidValue, "a nil value is not JSON")
	big := make(Object, 40)
	for i := range big {
		big[i] = Member{Key: string(rune('A' + i)), Value: json.RawMessage(`0`)}
	}
	big[39].Key = "A"
	_, err = big.MarshalJSON()
	assert.ErrorIs(t, err, ErrDuplicateKey)
}

func TestObject_CloneSharesNothing(t *testing.T) {
	buf := []byte(`"x"12`)
	o := Object{{Key: "a", Value: buf[0:3]}, {Key: "b", Value: buf[3:5]}, {Key: "c", Value: nil}}
	c := o.Clone()
	require.Equal(t, o, c)
	buf[1] = 'y'
	assert.Equal(t, `"x"`, string(c[0].Value))
	c[1].Value = append(c[1].Value, '3')
	assert.Equal(t, `"x"`, string(c[0].Value), "appending to one value cannot reach another")
	assert.Nil(t, c[2].Value)
	assert.Nil(t, Object(nil).Clone())
	assert.NotNil(t, Object{}.Clone())
}

// TestMessage_CloneSharesNothing: a clone survives its source buffer being overwritten.
func TestMessage_CloneSharesNothing(t *testing.T) {
	raw := []byte(`{"x":1}"2020-08-25"`)
	m := Message{
		Kind: Track, UserID: "u1", Event: "Signed Up",
		Properties: Object{{Key: "plan", Value: raw[0:7]}},
		Timestamps: Timestamps{Timestamp: raw[7:]},
		Context:    Context{IP: "8.8.8.8", Traits: Object{{Key: "email", Value: raw[0:7]}}, Library: Library{Name: "analytics.js"}},
	}
	c := m.Clone()
	require.Equal(t, m, c)
	for i := range raw {
		raw[i] = '!'
	}
	assert.Equal(t, `{"x":1}`, string(c.Properties[0].Value))
	assert.Equal(t, `{"x":1}`, string(c.Context.Traits[0].Value))
	assert.Equal(t, `"2020-08-25"`, string(c.Timestamps.Timestamp))
}

func TestMessage_SourceChannel_RuleD3(t *testing.T) {
	assert.Equal(t, "server", (&Message{Channel: "server", Context: Context{Channel: "mobile"}}).SourceChannel())
	assert.Equal(t, "mobile", (&Message{Context: Context{Channel: "mobile"}}).SourceChannel())
	assert.Equal(t, "", (&Message{}).SourceChannel())
}
