package contactcore

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeedIdentify_SpecX applies the seed's identify (its traits, optIn with ip "" and a
// context ip, its address with AddressLine1… keys) and checks the export against RULES.md, X
// key for key.
func TestSeedIdentify_SpecX(t *testing.T) {
	c := New("c-1")
	c.SetUserID("92980cfccc067")
	c.AddAnonymousID("507f191e810c19729de860ea")
	processed := seedTime.Add(2 * time.Second)
	ch := c.ApplyTraits(seedMessage(t), &ApplyOptions{ProcessedAt: processed})
	require.Empty(t, ch.Diagnostics)

	want := `{
	  "id": "c-1",
	  "userId": "92980cfccc067",
	  "anonymousIds": ["507f191e810c19729de860ea"],
	  "inAudience": true,
	  "phone": "+19545552399",
	  "phones": {"+19545552399": {"label": "", "primary": true, "optIns": {
	    "sms": {"subscribed": true, "timestamp": "2020-08-25T21:23:43Z", "ip": "8.8.8.8", "source": "booking_flow",
	            "text": "By checking this box you agree to receive texts from Regal."},
	    "voice": {"subscribed": true, "timestamp": "2020-08-25T21:23:43Z", "ip": "8.8.8.8", "source": "booking_flow",
	              "text": "By checking this box you agree to receive calls from Regal."}}}},
	  "subscriptions": {"sms": "subscribed", "voice": "subscribed"},
	  "email": "rebecca@example.com",
	  "firstName": "Rebecca", "lastName": "Greene", "age": 23, "gender": "other",
	  "address": {"line1": "201 Maiden Lane.", "line2": "11M", "city": "New York",
	              "state": "NY", "postalCode": "10128", "country": "US"},
	  "custom": {"salaryBracket": "$100k-$500k"},
	  "consentHistory": [
	    {"phone": "+19545552399", "binding": "message", "channel": "sms", "subscribed": true,
	     "timestamp": "2020-08-25T21:23:43Z", "outcome": "applied", "messageId": "ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601",
	     "ip": "8.8.8.8", "source": "booking_flow", "text": "By checking this box you agree to receive texts from Regal.",
	     "messageTime": "2020-08-25T21:23:43Z", "processedAt": "2020-08-25T21:23:45Z"},
	    {"phone": "+19545552399", "binding": "message", "channel": "voice", "subscribed": true,
	     "timestamp": "2020-08-25T21:23:43Z", "outcome": "applied", "messageId": "ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601",
	     "ip": "8.8.8.8", "source": "booking_flow", "text": "By checking this box you agree to receive calls from Regal.",
	     "messageTime": "2020-08-25T21:23:43Z", "processedAt": "2020-08-25T21:23:45Z"}
	  ]
	}`
	var wantMap map[string]any
	require.NoError(t, json.Unmarshal([]byte(want), &wantMap))
	assert.Equal(t, wantMap, exportOf(t, c))

	// The key order of the documented keys is RULES.md X's.
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assertKeyOrder(t, b, "id", "userId", "anonymousIds", "inAudience", "phone", "phones", "subscriptions",
		"email", "firstName", "lastName", "age", "gender", "address", "custom", "consentHistory")
}

func assertKeyOrder(t *testing.T, doc []byte, keys ...string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	_, err := dec.Token()
	require.NoError(t, err)
	var got []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		got = append(got, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	assert.Equal(t, keys, got)
}
