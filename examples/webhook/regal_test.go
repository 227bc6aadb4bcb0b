package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/regalio"
)

// regalUnsubscribed is the README's example: Regal reports that the contact texted
// STOP, a day after the seed's opt-in.
const regalUnsubscribed = `{"userId":"92980cfccc067","traits":{"phone":"+19545552399"},"name":"contact.unsubscribed",
"eventId":"0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f","originalTimestamp":"1598477023","eventSource":"Regal Voice",
"properties":{"channel":"SMS","phone":"+19545552399","source":"RegalVoice.sms_keyword","text":"STOP","timestamp":"1598477023"}}`

func regalResponse(t *testing.T, r reply) regalio.HandlerResponse {
	t.Helper()
	var resp regalio.HandlerResponse
	require.NoError(t, json.Unmarshal(r.body, &resp), string(r.body))
	return resp
}

// Rules R4 and R5 through the server: the token, the unsubscribe's effect on the
// contact, a duplicate eventId.
func TestRegalRoute(t *testing.T) {
	s := start(t, "-regal-token", "T", "-regal-header", "X-Regal-Token")
	require.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", identify).status)
	require.Equal(t, "subscribed", getContact(t, s.base, "92980cfccc067").Subscriptions["sms"])

	assert.Equal(t, http.StatusUnauthorized, send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed).status)
	assert.Equal(t, http.StatusUnauthorized, send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed, "Authorization", "Bearer wrong").status)
	assert.Equal(t, http.StatusUnauthorized, send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed, "Authorization", "T").status, "raw only in -regal-header")
	assert.Equal(t, http.StatusBadRequest, send(t, http.MethodPost, s.base+"/regal", `{"eventId":"x"`, "Authorization", "Bearer T").status)
	get := send(t, http.MethodGet, s.base+"/regal", "")
	assert.Equal(t, http.StatusMethodNotAllowed, get.status, "SECURITY.md: 405 for a route's path under another method")
	assert.Equal(t, http.MethodPost, get.header.Get("Allow"))
	assert.Equal(t, "application/json", get.header.Get("Content-Type"))

	r := send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed, "Authorization", "Bearer T")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	res := regalResponse(t, r).Results
	require.Len(t, res, 1)
	assert.False(t, res[0].Duplicate)
	assert.Empty(t, res[0].Diagnostics)

	c := getContact(t, s.base, "92980cfccc067")
	assert.Equal(t, "unsubscribed", c.Subscriptions["sms"])
	assert.Contains(t, eventIDs(c), "regal-0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f")

	r = send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed, "X-Regal-Token", "T")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	res = regalResponse(t, r).Results
	require.Len(t, res, 1)
	assert.True(t, res[0].Duplicate)
}

func TestRegalRouteOff(t *testing.T) {
	s := start(t)
	r := send(t, http.MethodPost, s.base+"/regal", regalUnsubscribed, "Authorization", "Bearer T")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, http.StatusOK, send(t, http.MethodPost, s.base+"/", identify).status, "the Segment route is unchanged")
}
