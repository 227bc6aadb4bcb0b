package regalio

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// decoded is what a golden file holds: the decoded event and the message made of it.
type decoded struct {
	Event   eventView   `json:"event"`
	Message messageView `json:"message"`
}

type eventView struct {
	EventID     string            `json:"eventId,omitempty"`
	Name        string            `json:"name"`
	UserID      string            `json:"userId,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	Email       string            `json:"email,omitempty"`
	Traits      event.Object      `json:"traits,omitzero"`
	Properties  event.Object      `json:"properties,omitzero"`
	Time        time.Time         `json:"time,omitzero"`
	Source      string            `json:"source,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	ProfileID   string            `json:"profileId,omitempty"`
	Extra       event.Object      `json:"extra,omitzero"`
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
}

type messageView struct {
	Kind        event.Kind   `json:"kind"`
	MessageID   string       `json:"messageId"`
	UserID      string       `json:"userId,omitempty"`
	AnonymousID string       `json:"anonymousId,omitempty"`
	Event       string       `json:"event"`
	Time        time.Time    `json:"time,omitzero"`
	Properties  event.Object `json:"properties,omitzero"`
	Traits      event.Object `json:"contextTraits,omitzero"`
	Extra       event.Object `json:"extra,omitzero"`
	Regal       bool         `json:"regal"`
	// ContextRegal is the envelope's other top-level keys, kept in the context.
	ContextRegal json.RawMessage `json:"contextRegal,omitempty"`
}

func view(e ReportedEvent) decoded {
	m := e.Message()
	regal, _ := m.Context.Extra.Get("regal")
	return decoded{
		Event: eventView(e),
		Message: messageView{m.Kind, m.MessageID, m.UserID, m.AnonymousID, m.Event, m.Time,
			m.Properties, m.Context.Traits, m.Extra, IsRegal(&m), regal},
	}
}

// Rule R3: each sample payload decodes to its golden event and message.
func TestDecodeEventGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/webhook/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := os.ReadFile(file)
			require.NoError(t, err)
			e, err := DecodeEvent(in)
			require.NoError(t, err)
			got, err := json.MarshalIndent(view(e), "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), string(got))

			m := e.Message()
			require.NoError(t, m.Validate(), "the message is a valid track (Rule D6)")
			assert.True(t, IsRegal(&m))
		})
	}
}

func TestDecodeEventFields(t *testing.T) {
	in, err := os.ReadFile("testdata/webhook/contact.unsubscribed.json")
	require.NoError(t, err)
	e, err := DecodeEvent(in)
	require.NoError(t, err)
	assert.Equal(t, "contact.unsubscribed", e.Name)
	assert.Equal(t, "92980cfccc067", e.UserID)
	assert.Equal(t, "+19545552399", e.Phone)
	assert.Equal(t, time.Unix(1598477023, 0).UTC(), e.Time, "originalTimestamp is Unix seconds as a string")
	assert.Equal(t, SourceRegal, e.Source)
	m := e.Message()
	assert.Equal(t, event.Track, m.Kind)
	assert.Equal(t, "regal-0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", m.MessageID)
	assert.Equal(t, "contact.unsubscribed", m.Event)

	snake, err := os.ReadFile("testdata/webhook/contact.attribute.edited.snake.json")
	require.NoError(t, err)
	s, err := DecodeEvent(snake)
	require.NoError(t, err)
	assert.Equal(t, "contact.attribute.edited", s.Name)
	assert.Equal(t, "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", s.EventID)
	assert.Equal(t, "acme", s.Brand)
	assert.Equal(t, "prof_8c7b6a", s.ProfileID)
	assert.Equal(t, time.Unix(1598488027, 0).UTC(), s.Time, "original_timestamp wins over created_at")
}

func TestDecodeEventRefusals(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"not JSON", `{"name":`},
		{"trailing comma, as in documentation samples", `{"name":"sms.sent","eventId":"e1",}`},
		{"array", `[{"name":"sms.sent"}]`},
		{"no name", `{"eventId":"e1","userId":"u1"}`},
		{"empty name", `{"name":"","userId":"u1"}`},
		{"empty", ``},
		{"duplicate key", `{"name":"a","name":"b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tt.body))
			assert.ErrorIs(t, err, ErrInvalidEvent)
			ee, ok := err.(*EventError)
			require.True(t, ok)
			assert.Equal(t, diag.RegalInvalid, ee.Code())
		})
	}
}

func TestDecodeEventLenient(t *testing.T) {
	e, err := DecodeEvent([]byte(`{"name":"sms.sent","eventId":12345,"userId":678,"traits":"x","properties":[1],"originalTimestamp":"yesterday","created_at":1598488027,"eventSource":"Regal Voice","foo":{"a":1}}`))
	require.NoError(t, err)
	assert.Equal(t, "12345", e.EventID, "numbers are kept digit for digit")
	assert.Equal(t, "678", e.UserID)
	assert.Equal(t, time.Unix(1598488027, 0).UTC(), e.Time, "an unparseable originalTimestamp falls back to created_at")
	var codes []diag.Code
	for _, d := range e.Diagnostics {
		codes = append(codes, d.Code)
		assert.Equal(t, "regal-12345", d.MessageID)
	}
	assert.Equal(t, []diag.Code{diag.RegalInvalid, diag.RegalInvalid, diag.TimestampInvalid}, codes)
	assert.Equal(t, event.Object{{Key: "foo", Value: json.RawMessage(`{"a":1}`)}}, e.Extra)
}

func TestMessageIdentity(t *testing.T) {
	tests := []struct {
		body, user, anon string
	}{
		{`{"name":"x","userId":"u1","traits":{"phone":"+19545552399"}}`, "u1", ""},
		{`{"name":"x","traits":{"phone":"+19545552399","email":"a@b.example"}}`, "", AnonymousIDPrefix + "+19545552399"},
		{`{"name":"x","traits":{"email":"A@B.example"}}`, "", AnonymousIDPrefix + "a@b.example"},
		{`{"name":"x"}`, "", AnonymousIDPrefix + "unknown"},
		// The snake_case contact_phone stands in for a traits phone that is null or
		// empty, not only for a missing one (Rule R3).
		{`{"name":"x","traits":{"phone":null},"contact_phone":"+19545552399"}`, "", AnonymousIDPrefix + "+19545552399"},
		{`{"name":"x","traits":{"phone":"","email":null},"contact_email":"a@b.example"}`, "", AnonymousIDPrefix + "a@b.example"},
	}
	for _, tt := range tests {
		e, err := DecodeEvent([]byte(tt.body))
		require.NoError(t, err)
		m := e.Message()
		assert.Equal(t, tt.user, m.UserID)
		assert.Equal(t, tt.anon, m.AnonymousID)
		assert.NoError(t, m.Validate())
		assert.True(t, strings.HasPrefix(m.MessageID, event.DerivedIDPrefix), "no eventId: a derived messageId")
		again := e.Message()
		assert.Equal(t, m.MessageID, again.MessageID, "the same event gets the same messageId")
	}
}

// TestAbout_RuleR5: the phone, else the email, a Regal event is about, read from the message
// the Processor gets (Rules R5, G8); the anonymousId of an event without a userId is
// made from the same answer.
func TestAbout_RuleR5(t *testing.T) {
	const traits = `"traits":{"phone":"+13125550100","email":"t@traits.example"}`
	tests := []struct {
		name, body, phone, email string
	}{
		{"consent: properties.phone first",
			`{"name":"contact.unsubscribed",` + traits + `,"properties":{"channel":"sms","phone":"+19545552399","contact_phone":"+12025550123"}}`,
			"+19545552399", "t@traits.example"},
		{"consent: then properties.contact_phone",
			`{"name":"contact.subscribed",` + traits + `,"properties":{"channel":"voice","contact_phone":"+12025550123"}}`,
			"+12025550123", "t@traits.example"},
		{"consent: then the traits' phone",
			`{"name":"contact.unsubscribed",` + traits + `,"properties":{"channel":"sms"}}`,
			"+13125550100", "t@traits.example"},
		{"consent for email: no phone, the properties' email first",
			`{"name":"contact.unsubscribed",` + traits + `,"properties":{"channel":" Email ","phone":"+19545552399","contact_email":"p@props.example"}}`,
			"", "p@props.example"},
		{"consent for email: then the traits' email",
			`{"name":"contact.unsubscribed",` + traits + `,"properties":{"channel":"email"}}`,
			"", "t@traits.example"},
		{"inbound text: from_number, as Regal's Segment source names the sender",
			`{"name":"sms.received",` + traits + `,"properties":{"content":"STOP","from_number":"+12025550123","to_number":"+13055550100"}}`,
			"+12025550123", "t@traits.example"},
		{"inbound text: its sender, not properties.phone",
			`{"name":"sms.received",` + traits + `,"properties":{"content":"STOP","phone":"+19545552399","contact_phone":"+12025550123"}}`,
			"+12025550123", "t@traits.example"},
		{"any other event: the traits",
			`{"name":"call.completed",` + traits + `,"properties":{"phone":"+19545552399","contact_phone":"+12025550123"}}`,
			"+13125550100", "t@traits.example"},
		{"snake_case: contact_phone and contact_email for the traits",
			`{"name":"contact.unsubscribed","contact_phone":"+12025550123","contact_email":"c@contact.example","properties":{"channel":"sms"}}`,
			"+12025550123", "c@contact.example"},
		{"a number as sent",
			`{"name":"contact.unsubscribed","properties":{"channel":"sms","phone":19545552399}}`,
			"19545552399", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEvent([]byte(tt.body))
			require.NoError(t, err)
			m := e.Message()
			phone, email := About(&m)
			assert.Equal(t, tt.phone, phone)
			assert.Equal(t, tt.email, email)
		})
	}
}

// TestAbout_anonymousID_RuleR5: a message naming no phone otherwise (a track from Regal's
// Segment source, say) is about the phone of an anonymousId that is AnonymousIDPrefix
// and a number, not of one that is an email's.
func TestAbout_anonymousID_RuleR5(t *testing.T) {
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	for _, tt := range []struct{ event, anon, phone string }{
		{EventUnsubscribed, AnonymousIDPrefix + "+19545552399", "+19545552399"},
		{EventSMSReceived, AnonymousIDPrefix + "+19545552399", "+19545552399"},
		{"call.completed", AnonymousIDPrefix + "+19545552399", "+19545552399"},
		{EventUnsubscribed, AnonymousIDPrefix + "ann@example.com", ""},
		{EventUnsubscribed, AnonymousIDPrefix + "+ann@example.com", ""}, // an email, not a number
		{EventUnsubscribed, "a1", ""},
	} {
		m := event.Message{Kind: event.Track, Event: tt.event, AnonymousID: tt.anon,
			Properties: event.Object{{Key: "channel", Value: str("sms")}}}
		phone, _ := About(&m)
		assert.Equal(t, tt.phone, phone, "%s %s", tt.event, tt.anon)
		m.Context.Traits = event.Object{{Key: "phone", Value: str("+12025550123")}}
		phone, _ = About(&m)
		assert.Equal(t, "+12025550123", phone, "%s %s: the traits' phone first", tt.event, tt.anon)
	}
}

func TestIsRegal(t *testing.T) {
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	assert.True(t, IsRegal(&event.Message{Kind: event.Track, Extra: event.Object{{Key: "eventSource", Value: str(SourceRegal)}}}))
	assert.True(t, IsRegal(&event.Message{Kind: event.Track, Context: event.Context{Extra: event.Object{{Key: "eventSource", Value: str(SourceRegal)}}}}))
	assert.True(t, IsRegal(&event.Message{Kind: event.Track, Properties: event.Object{{Key: "eventSource", Value: str(SourceRegal)}}}))
	assert.False(t, IsRegal(&event.Message{Kind: event.Track, Extra: event.Object{{Key: "eventSource", Value: str("Website")}}}))
	assert.False(t, IsRegal(&event.Message{Kind: event.Identify, Extra: event.Object{{Key: "eventSource", Value: str(SourceRegal)}}}))
	assert.False(t, IsRegal(&event.Message{Kind: event.Track}))
}

// TestDecodeEvent_limitsNamed: a body that is JSON but past a limit of the reader, or
// with a key repeated, is refused saying so, not as "not JSON" (Rule R4).
func TestDecodeEvent_limitsNamed(t *testing.T) {
	for body, want := range map[string]string{
		`{"name":"x","properties":{"n":` + strings.Repeat("9", 200) + `}}`:                              "number longer than",
		`{"name":"x","properties":` + strings.Repeat(`{"a":`, 80) + `1` + strings.Repeat(`}`, 80) + `}`: "levels",
		`{"name":"x","name":"y"}`: "key repeated",
		`{"name":`:                "not JSON",
	} {
		_, err := DecodeEvent([]byte(body))
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrInvalidEvent)
		assert.Contains(t, err.Error(), want)
	}
}

// TestDecodeEvent_repeatedKeysAndExtras_RuleR3: a top-level key repeated with the same
// value (Regal's own call.analysis.available sample names "name" twice) reads once; two
// values, or a repeat inside an object, are no event. Top-level keys the envelope has
// no field for, a contact_phone the traits' phone stands in front of, a second source
// and event_type are kept in the message's context, values exact: nothing is dropped.
func TestDecodeEvent_repeatedKeysAndExtras_RuleR3(t *testing.T) {
	e, err := DecodeEvent([]byte(`{"name":"call.analysis.available","eventId":"e1","name":"call.analysis.available",` +
		`"userId":"u1","properties":{"score":1},"entity_type":"call"}`))
	require.NoError(t, err)
	assert.Equal(t, "call.analysis.available", e.Name)
	assert.Equal(t, "u1", e.UserID)
	assert.Equal(t, event.Object{{Key: "entity_type", Value: json.RawMessage(`"call"`)}}, e.Extra)

	for _, bad := range []string{
		`{"name":"a","name":"b","userId":"u1"}`,
		`{"name":"a","properties":{"x":1,"x":1},"name":"a"}`,
	} {
		_, err := DecodeEvent([]byte(bad))
		var ee *EventError
		require.ErrorAs(t, err, &ee, bad)
		assert.Contains(t, ee.Error(), "repeated", bad)
	}

	// Half a surrogate pair in an id would read as U+FFFD, like any other half (D6).
	for _, bad := range []string{`{"name":"x","userId":"u\ud800"}`, `{"name":"x","event_id":"e\udfff","userId":"u"}`, `{"name":"x","external_id":"\ud83d"}`} {
		_, err := DecodeEvent([]byte(bad))
		var ee *EventError
		require.ErrorAs(t, err, &ee, bad)
		assert.Contains(t, ee.Error(), "surrogate", bad)
	}
	e, err = DecodeEvent([]byte(`{"name":"x","userId":"u\ud83d\ude00"}`))
	require.NoError(t, err)
	assert.Equal(t, "u\U0001F600", e.UserID, "a whole pair is a character")

	e, err = DecodeEvent([]byte(`{"name":"voicemail.transcript.available","event_id":"e2","event_type":"regal_voice_event",` +
		`"traits":{"phone":"+17625551796"},"contact_phone":"+13523182825","eventSource":"Regal Voice","source":"RegalVoice.ivr",` +
		`"source_workflow":"wf-9"}`))
	require.NoError(t, err)
	assert.Equal(t, "+17625551796", e.Phone, "the traits' phone first (R3)")
	m := e.Message()
	regal, ok := m.Context.Extra.Get("regal")
	require.True(t, ok)
	assert.JSONEq(t, `{"event_type":"regal_voice_event","source":"RegalVoice.ivr","source_workflow":"wf-9","contact_phone":"+13523182825"}`, string(regal))
	b, err := m.Context.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"regal":{`, "the event record keeps the context whole (E1)")
}

// TestDecodeEvent_otherSpellingsKept_RuleR3: an id or a time that another spelling of
// it stands in front of, with another value, is kept with the event's other top-level
// keys (context.regal), not dropped (a review found external_id, event_id and
// created_at gone without a word).
func TestDecodeEvent_otherSpellingsKept_RuleR3(t *testing.T) {
	for body, kept := range map[string]string{
		`{"name":"call.completed","eventId":"e1","userId":"u1","external_id":"EXT-777"}`:                                "EXT-777",
		`{"name":"call.completed","eventId":"e1","event_id":"OTHER-888"}`:                                               "OTHER-888",
		`{"name":"call.completed","eventId":"e1","originalTimestamp":"1709294400","created_at":"2020-01-01T00:00:00Z"}`: "2020-01-01",
	} {
		e, err := DecodeEvent([]byte(body))
		require.NoError(t, err)
		b, err := json.Marshal(e.Message().Context.Object())
		require.NoError(t, err)
		assert.Contains(t, string(b), kept, body)
	}
	e, err := DecodeEvent([]byte(`{"name":"call.completed","eventId":"e1","event_id":"e1","userId":"u1","user_id":"u1","originalTimestamp":"1709294400","created_at":"1709294400"}`))
	require.NoError(t, err)
	assert.Empty(t, e.Message().Context.Object(), "the same value twice says nothing twice")
}
