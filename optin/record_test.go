package optin

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

func TestRecord_Check(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want diag.Code
	}{
		{"valid opt-in", rec("2020-01-01T00:00:00Z", true), ""},
		{"valid opt-out without anything", Record{Channel: Voice, Timestamp: mustTime("2020-01-01T00:00:00Z")}, ""},
		{"a code already set stands", rec("2020-01-01T00:00:00Z", true, func(r *Record) { r.Refused = diag.OptinInvalid }), diag.OptinInvalid},
		{"unknown channel first (Rule C1)", Record{Channel: "fax", Subscribed: true}, diag.OptinUnknownChannel},
		{"a Channel is exact", rec("2020-01-01T00:00:00Z", true, withChannel("SMS")), diag.OptinUnknownChannel},
		{"no timestamp (Rule C3)", Record{Channel: SMS, Subscribed: true}, diag.OptinNoTimestamp},
		{"opt-in without ip (Rule C4)", rec("2020-01-01T00:00:00Z", true, withIP("")), diag.OptinNoIP},
		{"opt-in with an ip that is not one", rec("2020-01-01T00:00:00Z", true, withIP("8.8.8")), diag.OptinNoIP},
		{"opt-out with an ip that is not one", rec("2020-01-01T00:00:00Z", false, withIP("8.8.8")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.Check())
		})
	}
}

func TestRecord_JSON(t *testing.T) {
	r := rec("2020-08-25T21:23:43.25Z", true, withSource("booking_flow"))
	r.Text = "ok"
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"phone":"+19545552399","binding":"message","channel":"sms","subscribed":true,
		"timestamp":"2020-08-25T21:23:43.25Z","messageId":"m-2020-08-25T21:23:43.25Z","ip":"8.8.8.8",
		"source":"booking_flow","text":"ok","messageTime":"2020-08-25T21:23:43.25Z","processedAt":"2020-08-25T21:23:44.25Z"}`, string(b))
	var back Record
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back)

	email := rec("2020-01-01T00:00:00Z", false, withChannel(Email), withAddress("rebecca@example.com"))
	b, err = json.Marshal(email)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"email":"rebecca@example.com"`)
	assert.NotContains(t, string(b), `"phone"`)
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, email, back)

	pending := rec("2020-01-01T00:00:00Z", false, withAddress(""))
	b, err = json.Marshal(pending)
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"binding"`)
	assert.NotContains(t, string(b), `"phone"`)

	// A record read from a history entry bound by the contact has no address of its own.
	require.NoError(t, json.Unmarshal([]byte(`{"phone":"+19545552399","binding":"contact","channel":"sms","subscribed":false,"timestamp":"2020-01-01T00:00:00Z"}`), &back))
	assert.Empty(t, back.Address)
	assert.Error(t, json.Unmarshal([]byte(`"x"`), &back))
}

func TestMessage_String(t *testing.T) {
	m := Message{ID: "abc", Phone: seedPhone, Email: "rebecca@example.com"}
	assert.Equal(t, `message "abc" phone +***2399 email ***@example.com`, m.String())
	assert.Equal(t, `optin.Message{message "abc" phone +***2399 email ***@example.com}`, m.GoString())
	assert.Equal(t, `message "abc"`, Message{ID: "abc"}.String())
}
