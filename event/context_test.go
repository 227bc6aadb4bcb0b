package event

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func obj(t *testing.T, s string) Object {
	t.Helper()
	var o Object
	require.NoError(t, json.Unmarshal([]byte(s), &o))
	return o
}

// TestNewContext_RuleD3: known keys fill fields, unknown keys and odd kinds stay in
// Extra, in order.
func TestNewContext_RuleD3(t *testing.T) {
	c := NewContext(obj(t, `{
		"app": {"name": "Loans", "build": "42"},
		"ip": "8.8.8.8",
		"library": {"name": "analytics-android", "version": "4.10.4", "buildFlavor": "prod"},
		"locale": "en-US",
		"userAgent": null,
		"channel": "mobile",
		"page": {"path": "/apply", "url": "https://example.com/apply", "title": 7, "keywords": ["a"]},
		"screen": {"density": 2.75, "height": 2280, "width": 1080},
		"traits": {"email": "rebecca@example.com"},
		"timezone": "America/New_York"
	}`))
	assert.Equal(t, "8.8.8.8", c.IP)
	assert.Equal(t, "en-US", c.Locale)
	assert.Equal(t, "", c.UserAgent)
	assert.Equal(t, "mobile", c.Channel)
	assert.Equal(t, Library{Name: "analytics-android", Version: "4.10.4", Extra: Object{{Key: "buildFlavor", Value: json.RawMessage(`"prod"`)}}}, c.Library)
	assert.Equal(t, WebPage{Path: "/apply", URL: "https://example.com/apply", Extra: Object{
		{Key: "title", Value: json.RawMessage(`7`)},
		{Key: "keywords", Value: json.RawMessage(`["a"]`)},
	}}, c.Page)
	assert.Equal(t, Object{{Key: "email", Value: json.RawMessage(`"rebecca@example.com"`)}}, c.Traits)
	assert.Equal(t, []string{"app", "screen", "timezone"}, keys(c.Extra))
	density, _ := c.Extra.Get("screen")
	assert.Equal(t, `{"density":2.75,"height":2280,"width":1080}`, string(density), "digits kept")

	odd := NewContext(obj(t, `{"ip": 8, "library": "analytics.js", "traits": [1], "locale": {"lang": "en"}}`))
	assert.Equal(t, Context{Extra: Object{
		{Key: "ip", Value: json.RawMessage(`8`)},
		{Key: "library", Value: json.RawMessage(`"analytics.js"`)},
		{Key: "traits", Value: json.RawMessage(`[1]`)},
		{Key: "locale", Value: json.RawMessage(`{"lang":"en"}`)},
	}}, odd)
}

func keys(o Object) []string {
	var k []string
	for _, m := range o {
		k = append(k, m.Key)
	}
	return k
}

// TestContext_ObjectRoundTrip: NewContext(c.Object()) gives c back.
func TestContext_ObjectRoundTrip(t *testing.T) {
	for _, s := range []string{
		`{}`,
		`{"ip":"8.8.8.8","userAgent":"Mozilla/5.0","locale":"en-US","channel":"server"}`,
		`{"library":{"name":"analytics.js","version":"next-1.53.0"},"page":{"path":"/","referrer":"","search":"?q=1","title":"Home","url":"https://x.test/","hash":"#a"}}`,
		`{"traits":{},"device":{"id":"d1"},"ip":12}`,
		`{"library":{"name":5,"x":null},"page":{"url":null}}`,
	} {
		c := NewContext(obj(t, s))
		back := NewContext(c.Object())
		assert.Equal(t, c, back, s)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		var again Context
		require.NoError(t, json.Unmarshal(b, &again))
		assert.Equal(t, c, again, s)
	}
	assert.True(t, NewContext(nil).IsZero())
	assert.False(t, NewContext(obj(t, `{"traits":{}}`)).IsZero())
}

func TestContext_MarshalRefusesCollidingExtra(t *testing.T) {
	c := Context{IP: "8.8.8.8", Extra: Object{{Key: "ip", Value: json.RawMessage(`"1.1.1.1"`)}}}
	_, err := json.Marshal(c)
	assert.ErrorIs(t, err, ErrDuplicateKey)
}

// TestNewContextShared_readsInPlace: NewContextShared reads what NewContext reads,
// escapes and a repeated key included (the last wins), and takes a string without
// escapes over the value's own bytes instead of copying it.
func TestNewContextShared_readsInPlace(t *testing.T) {
	for _, s := range []string{
		`{"ip":"8.8.8.8","userAgent":"Mozilla\/5.0","locale":"en-US","channel":"web","library":{"name":"analytics.js","version":"5.2.0","x":1},"page":{"path":"/a","url":"https://example.com/a?q=\"1\"","title":null},"traits":{"a":1},"app":{}}`,
		`{"ip":5,"library":"s","page":[],"traits":[]}`,
		`{}`,
	} {
		o := obj(t, s)
		assert.Equal(t, NewContext(o), NewContextShared(o), s)
	}
	for _, vals := range [][2]string{{`"1.1.1.1"`, `"2.2.2.\u0032"`}, {`"1.1.1.\u0031"`, `"2.2.2.2"`}} {
		o := Object{{Key: "ip", Value: json.RawMessage(vals[0])}, {Key: "ip", Value: json.RawMessage(vals[1])}}
		assert.Equal(t, "2.2.2.2", NewContextShared(o).IP, "the last of a repeated key wins")
		assert.Equal(t, NewContext(o), NewContextShared(o))
	}
	o := obj(t, `{"ip":"8.8.8.8","locale":"en-US"}`)
	c := NewContextShared(o)
	ip, _ := o.Get("ip")
	assert.Same(t, &ip[1], unsafe.StringData(c.IP), "read in place")
	assert.Zero(t, testing.AllocsPerRun(100, func() { c = NewContextShared(o) }))
	assert.Equal(t, "8.8.8.8", c.IP)
}
