package segmentio

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarshal_roundTrip_RuleD3: decode → encode → decode gives an equal message,
// unknown keys included.
func TestMarshal_roundTrip_RuleD3(t *testing.T) {
	for _, in := range []string{
		seedIdentify,
		`{"type":"track","event":"E","userId":9007199254740993,"version":2,"channel":"server","_metadata":{"bundled":["Segment.io"]},"context":{"ip":7,"library":"x","page":{"url":null,"hash":"#a"},"screen":{"density":2.75}},"properties":{"revenue":"29.99","big":1E+400},"integrations":{},"timestamp":1598390623}`,
		`{"type":"group","groupId":"g","anonymousId":"a","traits":{"tags":["a","b"]},"sentAt":null,"context":{"traits":{}},"x":null}`,
	} {
		var m event.Message
		require.NoError(t, Unmarshal([]byte(in), &m))
		assertRoundTrip(t, &m)
	}
}

func TestMarshal_output(t *testing.T) {
	m := event.Message{
		Kind: event.Track, MessageID: "m1", UserID: "123456789012345678", Event: "Order \"Completed\"",
		Version: "2", Time: time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC),
		Context:    event.Context{IP: "8.8.8.8", Extra: event.Object{{Key: "app", Value: json.RawMessage(`{"build":"1"}`)}}},
		Properties: event.Object{{Key: "revenue", Value: json.RawMessage(`"29.99"`)}},
		Extra:      event.Object{{Key: "projectId", Value: json.RawMessage(`"q8"`)}},
	}
	b, err := Marshal(&m)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"track","messageId":"m1","userId":"123456789012345678","event":"Order \"Completed\"","version":2,"timestamp":"2020-08-25T21:23:43Z","context":{"ip":"8.8.8.8","app":{"build":"1"}},"properties":{"revenue":"29.99"},"projectId":"q8"}`, string(b))

	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	require.NoError(t, enc.Encode(&m))
	m.MessageID = "m2"
	require.NoError(t, enc.Encode(&m))
	assert.Equal(t, 2, strings.Count(buf.String(), "\n"))
	results, err := DecodeAll(buf.Bytes(), nil)
	require.NoError(t, err)
	require.Len(t, results, 2, "the encoder writes NDJSON")
	assert.Equal(t, "m2", results[1].Message.MessageID)
	assert.Equal(t, m.Time, results[1].Message.Time)
}

func TestMarshal_refusesWhatCannotBeDecoded(t *testing.T) {
	tests := []struct {
		name  string
		m     event.Message
		field string
	}{
		{"no kind", event.Message{UserID: "u"}, "type"},
		{"invalid traits value", event.Message{Kind: event.Identify, Traits: event.Object{{Key: "a", Value: json.RawMessage(`{`)}}}, "traits"},
		{"duplicate property", event.Message{Kind: event.Track, Properties: event.Object{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "a", Value: json.RawMessage(`2`)}}}, "properties"},
		{"extra shadows a field", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "userId", Value: json.RawMessage(`"x"`)}}}, "extra.userId"},
		{"extra twice", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "k", Value: json.RawMessage(`1`)}, {Key: "k", Value: json.RawMessage(`1`)}}}, "extra.k"},
		{"extra without value", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "k"}}}, "extra.k"},
		{"invalid timestamp JSON", event.Message{Kind: event.Identify, Timestamps: event.Timestamps{SentAt: json.RawMessage(`2020-01-01`)}}, "sentAt"},
		{"context extra shadows ip", event.Message{Kind: event.Identify, Context: event.Context{IP: "1.1.1.1", Extra: event.Object{{Key: "ip", Value: json.RawMessage(`"2.2.2.2"`)}}}}, "context"},
		// Written, these would read back as other strings (U+FFFD for each bad byte): two
		// userIds would become one (Rule D6), and a time out of range reads back as none.
		{"userId not UTF-8", event.Message{Kind: event.Identify, UserID: "u\xff"}, "userId"},
		{"event not UTF-8", event.Message{Kind: event.Track, UserID: "u", Event: "E\xfe"}, "event"},
		{"user agent not UTF-8", event.Message{Kind: event.Track, UserID: "u", Event: "E", Context: event.Context{UserAgent: "\xff"}}, "context"},
		{"nested duplicate", event.Message{Kind: event.Track, UserID: "u", Event: "E", Properties: event.Object{{Key: "a", Value: json.RawMessage(`{"b":1,"b":2}`)}}}, "properties"},
		{"time out of range", event.Message{Kind: event.Track, UserID: "u", Event: "E", Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, "timestamp"},
		// A batch key, which an item of an array keeps as an unknown key, would make the
		// written message a batch envelope of other messages (Rule D1).
		{"extra batch", decodedItem(t, `[{"type":"identify","userId":"u","batch":[{"type":"track","userId":"x","event":"e"}]}]`), "extra.batch"},
		// A caller's key is masked in the field (RULES.md, X), and an invalid value
		// names its key under extra (a review found both keys whole, the second
		// without its extra. prefix).
		{"extra email key without value", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "bob.secret@example.com"}}}, "extra.***@example.com"},
		{"extra phone key not JSON", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "+19545552399", Value: json.RawMessage(`{`)}}}, "extra.+*******2399"},
		{"extra phone key twice", event.Message{Kind: event.Identify, Extra: event.Object{{Key: "+19545552399", Value: json.RawMessage(`1`)}, {Key: "+19545552399", Value: json.RawMessage(`1`)}}}, "extra.+*******2399"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(&tt.m)
			var ee *EncodeError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tt.field, ee.Field)
			assert.ErrorIs(t, err, ErrEncode)
		})
	}
}

// decodedItem returns the one message of the array doc, as DecodeAll reads it.
func decodedItem(t *testing.T, doc string) event.Message {
	t.Helper()
	res, err := DecodeAll([]byte(doc), nil)
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.NoError(t, res[0].Err)
	return res[0].Message
}

// TestMarshal_nil: a nil message is an error, as encoding/json's are, not a panic (a
// review found both panicking).
func TestMarshal_nil(t *testing.T) {
	_, err := Marshal(nil)
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.ErrorIs(t, err, ErrEncode)
	assert.ErrorIs(t, NewEncoder(io.Discard).Encode(nil), ErrEncode)
	assert.ErrorIs(t, Unmarshal([]byte(`{"type":"track","userId":"u","event":"E"}`), nil), ErrNilMessage)
}
