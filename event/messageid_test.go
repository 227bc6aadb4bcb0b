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

// TestDeriveMessageID_RuleS3_arrivalTimes: receivedAt and sentAt are part of a
// derived ID exactly when they take part in the message's time (Rule D5): two messages
// that differ there happened at different times, and taking one for a re-delivery of
// the other would let the one that arrived first win.
func TestDeriveMessageID_RuleS3_arrivalTimes(t *testing.T) {
	raw := func(s string) json.RawMessage {
		if s == "" {
			return nil
		}
		return json.RawMessage(`"` + s + `"`)
	}
	id := func(ts, orig, sent, recv string) string {
		m := Message{Kind: Identify, UserID: "u1", Traits: Object{{Key: "firstName", Value: json.RawMessage(`"X"`)}},
			Timestamps: Timestamps{Timestamp: raw(ts), OriginalTimestamp: raw(orig), SentAt: raw(sent), ReceivedAt: raw(recv)}}
		return DeriveMessageID(&m)
	}
	const (
		t1 = "2024-03-01T12:01:00Z"
		t2 = "2024-03-01T12:05:00Z"
		t3 = "2024-03-01T12:03:00Z"
	)
	for _, tc := range []struct {
		name   string
		a, b   [4]string // timestamp, originalTimestamp, sentAt, receivedAt
		differ bool
	}{
		{"receivedAt alone is the time", [4]string{"", "", "", t1}, [4]string{"", "", "", t2}, true},
		{"receivedAt and sentAt correct the clock", [4]string{"", t3, t1, t2}, [4]string{"", t3, t2, t2}, true},
		{"receivedAt in the correction", [4]string{"", t3, t1, t1}, [4]string{"", t3, t1, t2}, true},
		{"a timestamp decides", [4]string{t3, "", t1, t1}, [4]string{t3, "", t2, t2}, false},
		{"originalTimestamp alone decides", [4]string{"", t3, "", t1}, [4]string{"", t3, "", t2}, false},
		{"an unreadable timestamp does not", [4]string{"not a time", "", "", t1}, [4]string{"not a time", "", "", t2}, true},
		{"sentAt without originalTimestamp is no correction", [4]string{"", "", t1, t2}, [4]string{"", "", t2, t2}, false},
	} {
		a, b := id(tc.a[0], tc.a[1], tc.a[2], tc.a[3]), id(tc.b[0], tc.b[1], tc.b[2], tc.b[3])
		if tc.differ {
			assert.NotEqual(t, a, b, tc.name)
		} else {
			assert.Equal(t, a, b, tc.name)
		}
	}
	// No time at all: the same call is the same message (the processor's clock dates it).
	assert.Equal(t, id("", "", "", ""), id("", "", "", ""))
}

// TestMessageIDTooLong_RuleD6: the limit counts characters, not bytes.
func TestMessageIDTooLong_RuleD6(t *testing.T) {
	assert.False(t, MessageIDTooLong(strings.Repeat("a", MaxMessageIDLength)))
	assert.True(t, MessageIDTooLong(strings.Repeat("a", MaxMessageIDLength+1)))
	assert.False(t, MessageIDTooLong(strings.Repeat("é", MaxMessageIDLength)), "100 characters in 200 bytes")
	assert.True(t, MessageIDTooLong(strings.Repeat("é", MaxMessageIDLength+1)))
}
