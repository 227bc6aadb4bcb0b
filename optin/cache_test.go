package optin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A ParseCache never changes a result: every call, first or repeated, from any
// message, equals a fresh parse stamped with that message. The one-slot cache makes
// inputs evict each other.
func TestParseCache_equalsFreshParse(t *testing.T) {
	caches := []*ParseCache{NewParseCache(0), NewParseCache(1), nil}
	rapid.Check(t, func(t *rapid.T) {
		c := rapid.SampledFrom(caches).Draw(t, "cache")
		raw := rapid.SampledFrom([]string{
			`[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"calls"},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":""}]`,
			`{"channel":"sms","subscribed":"false","timestamp":"2020-08-25T21:23:43Z"}`,
			`{"channel":"fax","subscribed":true}`,
			`{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","text":"caf\u00e9 \"quoted\""}`,
			`[1,"x",null,{"channel":"voice"}]`,
			`"not a record"`,
		}).Draw(t, "raw")
		m := Message{
			ID:          fmt.Sprintf("m-%d", rapid.IntRange(0, 3).Draw(t, "id")),
			Time:        time.Date(2024, 1, 1, 0, rapid.IntRange(0, 59).Draw(t, "minute"), 0, 0, time.UTC),
			IP:          rapid.SampledFrom([]string{"", "8.8.8.8"}).Draw(t, "ip"),
			Phone:       rapid.SampledFrom([]string{"", "+19545552399"}).Draw(t, "phone"),
			ProcessedAt: time.Date(2024, 2, 1, 0, rapid.IntRange(0, 59).Draw(t, "processed"), 0, 0, time.FixedZone("x", 3600)),
		}
		field := rapid.SampledFrom([]string{"traits.optIn", "context.traits.optIn"}).Draw(t, "field")
		wantRecs, wantDiags := parseTrait(field, []byte(raw), m)
		for range 2 {
			recs, diags := c.ParseTrait(field, []byte(raw), m)
			assert.Equal(t, wantRecs, recs)
			assert.Equal(t, wantDiags, diags)
		}
	})
}

// A caller changing what ParseTrait returned cannot change what it returns next.
func TestParseCache_resultsAreCopies(t *testing.T) {
	c := NewParseCache(0)
	raw := []byte(`{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4"}`)
	first, _ := c.ParseTrait("traits.optIn", raw, seedMessage())
	first[0].Subscribed = false
	first[0].Text = "tampered"
	again, _ := c.ParseTrait("traits.optIn", raw, seedMessage())
	assert.True(t, again[0].Subscribed)
	assert.Empty(t, again[0].Text)
}

func TestParseCache_concurrent(t *testing.T) {
	c := NewParseCache(4)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				raw := fmt.Sprintf(`{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:%02d:00Z","ip":"1.2.3.4"}`, (g+i)%7)
				m := seedMessage()
				m.ID = fmt.Sprintf("m-%d-%d", g, i)
				recs, _ := c.ParseTrait("traits.optIn", []byte(raw), m)
				if len(recs) != 1 || recs[0].MessageID != m.ID || recs[0].Timestamp.Minute() != (g+i)%7 {
					t.Errorf("goroutine %d, call %d: %+v", g, i, recs)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestNewParseCache: zero is the default size, a negative size no cache at all.
func TestNewParseCache(t *testing.T) {
	assert.Equal(t, DefaultParseCacheSize, NewParseCache(0).Size())
	assert.Equal(t, 7, NewParseCache(7).Size())
	assert.Nil(t, NewParseCache(-1))
	assert.Equal(t, 0, NewParseCache(-1).Size())
}

// TestParseCache_keepsNoMessageText: a memo entry keeps copies of the message's
// strings, not the strings themselves, which may be views of the message's whole text
// (the decoder makes a message's context strings over its buffer): an entry must not
// keep a message alive.
func TestParseCache_keepsNoMessageText(t *testing.T) {
	text := []byte(`{"context":{"ip":"8.8.8.8"},"phone":"+19545552399","email":"ann@example.com", padding}`)
	view := func(s string) string {
		i := bytes.Index(text, []byte(s))
		return unsafe.String(&text[i], len(s))
	}
	m := Message{ID: "m1", Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), IP: view("8.8.8.8"), Phone: view("+19545552399"), Email: view("ann@example.com")}
	c := NewParseCache(0)
	raw := json.RawMessage(`{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:03:00Z","ip":""}`)
	recs, _ := c.ParseTrait("traits.optIn", raw, m)
	require.NotEmpty(t, recs)
	inText := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&text[0]))
		return s != "" && p >= start && p < start+uintptr(len(text))
	}
	var e *memoEntry
	for i := range c.slots {
		if e = c.slots[i].Load(); e != nil {
			break
		}
	}
	require.NotNil(t, e, "the parse was remembered")
	assert.False(t, inText(e.ip) || inText(e.phone) || inText(e.email), "the entry keeps the message's text")
	for _, r := range e.records {
		assert.False(t, inText(r.IP), "a remembered record keeps the message's text")
	}
}
