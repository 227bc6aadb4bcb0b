package event

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMessage_Record_RuleE1: track, page, screen and group are recorded; the others not.
func TestMessage_Record_RuleE1(t *testing.T) {
	at := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	props := Object{{Key: "amount", Value: json.RawMessage(`30000`)}}
	ctx := Context{IP: "8.8.8.8", UserAgent: "UA", Locale: "en-US", Page: WebPage{URL: "https://x.test/"},
		Library: Library{Name: "analytics.js"}, Traits: Object{{Key: "email", Value: json.RawMessage(`"a@b.c"`)}}, Extra: Object{{Key: "app", Value: json.RawMessage(`{}`)}}}
	base := Message{MessageID: "m1", UserID: "u", Time: at, Properties: props, Context: ctx, Event: "Loan Application Approved", Name: "Pricing", Category: "Docs", GroupID: "g1", Traits: Object{{Key: "plan", Value: json.RawMessage(`"pro"`)}}}
	// context.traits are kept (issue 12), and so is every other context key (Rule E1:
	// nothing dropped silently), all but the channel, which is the message's (D3).
	ctx.Channel = "server"
	base.Context = ctx
	wantCtx := RecordContext{IP: "8.8.8.8", UserAgent: "UA", Locale: "en-US", Page: WebPage{URL: "https://x.test/"}, Library: Library{Name: "analytics.js"}, Traits: ctx.Traits, Extra: ctx.Extra}

	tests := []struct {
		kind Kind
		want Record
	}{
		{Track, Record{Kind: Track, Name: "Loan Application Approved", Properties: props, Time: at, MessageID: "m1", Context: wantCtx}},
		{Page, Record{Kind: Page, Name: "Pricing", Category: "Docs", Properties: props, Time: at, MessageID: "m1", Context: wantCtx}},
		{Screen, Record{Kind: Screen, Name: "Pricing", Category: "Docs", Properties: props, Time: at, MessageID: "m1", Context: wantCtx}},
		{Group, Record{Kind: Group, GroupID: "g1", Traits: base.Traits, Time: at, MessageID: "m1", Context: wantCtx}},
	}
	for _, tt := range tests {
		m := base
		m.Kind = tt.kind
		r, ok := m.Record()
		require.True(t, ok, tt.kind.String())
		assert.Equal(t, tt.want, r)
	}
	for _, k := range []Kind{Identify, Alias, Delete} {
		m := base
		m.Kind = k
		_, ok := m.Record()
		assert.False(t, ok, k.String())
	}

	m := base
	m.Kind = Track
	r, _ := m.Record()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind":"track","name":"Loan Application Approved","properties":{"amount":30000},
		"timestamp":"2020-08-25T21:23:43Z","messageId":"m1",
		"context":{"ip":"8.8.8.8","userAgent":"UA","locale":"en-US","library":{"name":"analytics.js"},"page":{"url":"https://x.test/"},"traits":{"email":"a@b.c"},"app":{}}}`, string(b))
	c := r.Clone()
	assert.Equal(t, r, c)
	c.Context.Traits[0].Value[1] = 'X'
	assert.Equal(t, `"a@b.c"`, string(r.Context.Traits[0].Value), "the clone shares no traits")
	c.Context.Extra[0].Value[0] = '['
	assert.Equal(t, `{}`, string(r.Context.Extra[0].Value), "the clone shares no other context keys")

	var back Record
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r.Context, back.Context, "the context reads back")
}

// TestMessage_Record_receivedAt: the record keeps the message's receivedAt when it can
// be parsed, in UTC (issue 12).
func TestMessage_Record_receivedAt(t *testing.T) {
	m := Message{Kind: Track, Event: "E", UserID: "u", Timestamps: Timestamps{ReceivedAt: json.RawMessage(`"2020-08-25T23:23:43.5+02:00"`)}}
	r, ok := m.Record()
	require.True(t, ok)
	assert.Equal(t, time.Date(2020, 8, 25, 21, 23, 43, 5e8, time.UTC), r.ReceivedAt)
	m.Timestamps.ReceivedAt = json.RawMessage(`"soon"`)
	r, _ = m.Record()
	assert.True(t, r.ReceivedAt.IsZero())
}
