package event

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzObjectAndContextJSON: reading an Object or a Context never panics, and whatever
// is read writes back to JSON that reads the same. (MarshalJSON is called directly:
// json.Marshal would escape <, > and & in its output, which changes the bytes though
// not the values.)
func FuzzObjectAndContextJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1,"b":[1,{"c":"\u00e9"}]}`, `{"ip":"8.8.8.8","library":{"name":"x","version":2},"page":{"url":null,"k":1},"traits":{"a":1},"app":{}}`,
		`{"ip":5,"library":"s","page":[],"traits":"t","channel":"mobile"}`, `null`, `[]`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Object
		if err := json.Unmarshal(data, &o); err == nil {
			b, err := o.MarshalJSON()
			require.NoError(t, err)
			var back Object
			require.NoError(t, json.Unmarshal(b, &back))
			require.Equal(t, o, back)
			require.Equal(t, o, o.Clone())
			// What reads as an Object passes CheckJSON's rules (Rule D1).
			require.NoError(t, (&Message{Kind: Track, Properties: o, Traits: o}).CheckJSON())
		}
		var c Context
		if err := json.Unmarshal(data, &c); err == nil {
			b, err := c.MarshalJSON()
			require.NoError(t, err)
			var back Context
			require.NoError(t, json.Unmarshal(b, &back))
			require.Equal(t, c, back)
			require.Equal(t, c, NewContext(c.Object()))
			require.Equal(t, NewContext(o), NewContextShared(o), "read in place or copied, the same context")
			require.Equal(t, c, c.Clone())
			require.NoError(t, (&Message{Kind: Track, Context: c}).CheckJSON(), "what reads as a Context passes CheckJSON")
		}
	})
}
