package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/internal/webhookserver"
)

// regalSMSStop is the README's example: Regal reports that the contact texted STOP, as
// an sms.received event (Rule G8).
const regalSMSStop = `{"userId":"92980cfccc067","traits":{"phone":"+19545552399"},"name":"sms.received",
"eventId":"5d1c0e6a-8b7f-4e2d-9c3b-2a1f0e9d8c7b","originalTimestamp":"1598563423","eventSource":"Regal Voice",
"properties":{"content":"Stop.","contact_phone":"+19545552399"}}`

func getGuard(t *testing.T, base string, q url.Values) (int, webhookserver.GuardAnswer) {
	t.Helper()
	r := send(t, http.MethodGet, base+"/guard?"+q.Encode(), "")
	var a webhookserver.GuardAnswer
	if r.status == http.StatusOK {
		require.NoError(t, json.Unmarshal(r.body, &a), string(r.body))
	}
	return r.status, a
}

// TestGuardRoute: GET /guard before and after a STOP through POST /regal (Rules G1-G4,
// G8), quiet hours in Florida, and 400 for what cannot be read.
func TestGuardRoute(t *testing.T) {
	s := start(t, "-regal-token", "T")
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", identify).status)

	status, a := getGuard(t, s.base, url.Values{"phone": {"(954) 555-2399"}, "channel": {"sms"}, "at": {"2026-06-10T16:00:00Z"}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, webhookserver.GuardAnswer{Allowed: true, NextAllowed: "2026-06-10T16:00:00Z", Zone: "America/New_York", State: "subscribed"}, a)

	// An allowed answer's next instant is the instant asked about, fraction kept (G4;
	// a review found it cut to the second, before the instant).
	status, a = getGuard(t, s.base, url.Values{"phone": {"(954) 555-2399"}, "at": {"2026-06-10T16:00:00.999Z"}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "2026-06-10T16:00:00.999Z", a.NextAllowed)

	status, a = getGuard(t, s.base, url.Values{"phone": {"+19545552399"}, "at": {"2026-06-10T11:30:00Z"}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, webhookserver.GuardAnswer{Reason: "guard.quiet_hours", NextAllowed: "2026-06-10T12:00:00Z", Zone: "America/New_York", State: "subscribed"}, a)

	// An offset typed with a bare '+', which a query string reads as a space.
	r := send(t, http.MethodGet, s.base+"/guard?phone=%2B19545552399&at=2026-06-10T09:30:00-02:00", "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r = send(t, http.MethodGet, s.base+"/guard?phone=%2B19545552399&at=2026-06-10T13:30:00+02:00", "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var plus webhookserver.GuardAnswer
	require.NoError(t, json.Unmarshal(r.body, &plus))
	assert.Equal(t, a, plus, "13:30+02:00 is 11:30Z")

	status, a = getGuard(t, s.base, url.Values{"phone": {"+19545552399"}, "channel": {"voice"}, "at": {"2026-06-10T16:00:00Z"}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "guard.not_subscribed", a.Reason)

	r = send(t, http.MethodPost, s.base+"/regal", regalSMSStop, "Authorization", "Bearer T")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	status, a = getGuard(t, s.base, url.Values{"phone": {"+19545552399"}, "at": {"2026-06-10T16:00:00Z"}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, webhookserver.GuardAnswer{Reason: "guard.opted_out", Zone: "America/New_York", State: "unsubscribed"}, a)
	assert.Equal(t, "unsubscribed", getContact(t, s.base, "92980cfccc067").Subscriptions["sms"])

	for name, q := range map[string]url.Values{
		"no phone":      {"channel": {"sms"}},
		"invalid phone": {"phone": {"+1 555 555 5555"}},
		"email":         {"phone": {"+19545552399"}, "channel": {"email"}},
		"fax":           {"phone": {"+19545552399"}, "channel": {"fax"}},
		"bad time":      {"phone": {"+19545552399"}, "at": {"tomorrow"}},
		// Which one was meant cannot be known (a review found the first one used).
		"two phones":   {"phone": {"+19545552399", "+14155552671"}},
		"two times":    {"phone": {"+19545552399"}, "at": {"2026-06-10T16:00:00Z", "bad"}},
		"two channels": {"phone": {"+19545552399"}, "channel": {"sms", "voice"}},
	} {
		r := send(t, http.MethodGet, s.base+"/guard?"+q.Encode(), "")
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.NotContains(t, string(r.body), "5555555", name)
		if name == "no phone" {
			assert.Contains(t, string(r.body), "?phone=", "the answer says what to give")
		}
	}
}
