package event

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDeriveMessageID_RuleE2: the same content gives the same ID whatever the delivery;
// different content a different one.
func TestDeriveMessageID_RuleE2(t *testing.T) {
	base := func() Message {
		return Message{
			Kind: Track, UserID: "u1", Event: "Loan Application Approved",
			Properties: Object{{Key: "amount", Value: json.RawMessage(`30000`)}, {Key: "currency", Value: json.RawMessage(`"USD"`)}},
			Timestamps: Timestamps{Timestamp: json.RawMessage(`"2020-08-25T21:23:43.000Z"`), SentAt: json.RawMessage(`"2020-08-25T21:23:44Z"`)},
			Context:    Context{IP: "8.8.8.8"},
		}
	}
	m := base()
	id := DeriveMessageID(&m)
	assert.True(t, strings.HasPrefix(id, DerivedIDPrefix))
	assert.Len(t, id, len(DerivedIDPrefix)+32)
	assert.LessOrEqual(t, len(id), MaxMessageIDLength)

	same := []func(*Message){
		func(m *Message) {},
		func(m *Message) { m.Timestamps.SentAt = json.RawMessage(`"2021-01-01T00:00:00Z"`) },
		func(m *Message) { m.Timestamps.ReceivedAt = json.RawMessage(`"2021-01-01T00:00:00Z"`) },
		func(m *Message) { m.Properties[0], m.Properties[1] = m.Properties[1], m.Properties[0] },
		func(m *Message) { m.Properties[1].Value = json.RawMessage(`"\u0055SD"`) },
		func(m *Message) { m.Integrations = Object{{Key: "All", Value: json.RawMessage(`false`)}} },
		func(m *Message) { m.MessageID = "ignored" },
		func(m *Message) { m.Extra = Object{{Key: "_metadata", Value: json.RawMessage(`{"bundled":[]}`)}} },
	}
	for i, f := range same {
		m := base()
		f(&m)
		assert.Equal(t, id, DeriveMessageID(&m), "variant %d", i)
	}
	differ := []func(*Message){
		func(m *Message) { m.UserID = "u2" },
		func(m *Message) { m.Kind = Page },
		func(m *Message) { m.Event = "Loan Application Denied" },
		func(m *Message) { m.Properties[0].Value = json.RawMessage(`30000.0`) },
		func(m *Message) { m.Timestamps.Timestamp = json.RawMessage(`"2020-08-25T21:23:44.000Z"`) },
		func(m *Message) { m.Context.IP = "1.1.1.1" },
		func(m *Message) { m.Traits = Object{} },
		func(m *Message) { m.AnonymousID = "a" },
		// The top-level eventSource makes a track Regal's (Rule R5): with it, the same
		// call is another message, and may not be taken for a re-delivery of the first.
		func(m *Message) { m.Extra = Object{{Key: "eventSource", Value: json.RawMessage(`"Regal Voice"`)}} },
	}
	for i, f := range differ {
		m := base()
		f(&m)
		assert.NotEqual(t, id, DeriveMessageID(&m), "variant %d", i)
	}
	bad := base()
	bad.Properties = Object{{Key: "x", Value: json.RawMessage(`{`)}}
	assert.Equal(t, DeriveMessageID(&bad), DeriveMessageID(&bad), "deterministic even for invalid values")
}

// TestMessageIDTooLong_RuleD6: the limit counts characters, not bytes.
func TestMessageIDTooLong_RuleD6(t *testing.T) {
	assert.False(t, MessageIDTooLong(strings.Repeat("a", MaxMessageIDLength)))
	assert.True(t, MessageIDTooLong(strings.Repeat("a", MaxMessageIDLength+1)))
	assert.False(t, MessageIDTooLong(strings.Repeat("é", MaxMessageIDLength)), "100 characters in 200 bytes")
	assert.True(t, MessageIDTooLong(strings.Repeat("é", MaxMessageIDLength+1)))
}
