package regalkit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/optin"
)

// TestReservedIdentifiers_RuleD6: a sender that names a phone's keyword register or
// its Regal contact as its own identifier could link or alias it to a user and take
// the phone's STOP off the phone. Such messages are refused whole, in every arrival
// order the STOP still counts, and a Regal event without a userId may still name its
// phone's Regal contact.
func TestReservedIdentifiers_RuleD6(t *testing.T) {
	stop := regalSMS("stop1", nyPhone, "STOP", "2024-02-01T00:00:00Z")
	spoofs := []string{
		`{"type":"identify","userId":"attacker","anonymousId":"sms-keyword:` + nyPhone + `","messageId":"a1","timestamp":"2024-03-01T00:00:00Z"}`,
		`{"type":"alias","userId":"attacker","previousId":"sms-keyword:` + nyPhone + `","messageId":"a2","timestamp":"2024-03-01T00:00:00Z"}`,
		`{"type":"identify","userId":"attacker","anonymousId":"regal-contact:` + nyPhone + `","messageId":"a3","timestamp":"2024-03-01T00:00:00Z"}`,
		`{"type":"alias","userId":"attacker","previousId":"regal-contact:` + nyPhone + `","messageId":"a4","timestamp":"2024-03-01T00:00:00Z"}`,
	}
	fields := []string{"anonymousId", "previousId", "anonymousId", "previousId"}
	names := []string{"keyword anonymousId", "keyword previousId", "regal anonymousId", "regal previousId"}
	regalUnsub := regalEvent("contact.unsubscribed", "u-1", "", 0, `{"channel":"sms","phone":"`+nyPhone+`"}`)
	optIn := identifyPhone("u1", nyPhone, `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-01-01T00:00:00Z","ip":"8.8.8.8"}`)
	for i, spoof := range spoofs {
		for _, order := range [][3]int{{0, 1, 2}, {1, 0, 2}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 2, 0}} {
			t.Run(fmt.Sprintf("%s/%v", names[i], order), func(t *testing.T) {
				f := newFixture(t, nil)
				for _, k := range order {
					switch k {
					case 0:
						f.one(stop)
						f.processRegal(regalUnsub)
					case 1:
						res := f.one(spoof)
						require.Len(t, res.Diagnostics, 1)
						assert.Equal(t, diag.MessageReservedID, res.Diagnostics[0].Code)
						assert.Equal(t, fields[i], res.Diagnostics[0].Field)
						assert.Empty(t, res.Changed)
						assert.NotContains(t, res.Diagnostics[0].Message, nyPhone[2:], "no identifier quoted")
					case 2:
						f.one(optIn)
					}
				}
				assert.Nil(t, f.user("attacker"), "refused whole")
				d, err := f.p.Guard(nil).Check(context.Background(), nyPhone, optin.SMS, t0)
				require.NoError(t, err)
				assert.False(t, d.Allowed)
				assert.Equal(t, diag.GuardOptedOut, d.Reason)
			})
		}
	}

	// Every identifier field, and a userId of either prefix, is refused; a Regal event
	// with a userId cannot carry a Regal contact's anonymousId either.
	f := newFixture(t, nil)
	for _, m := range []struct{ json, field string }{
		{`{"type":"track","event":"x","userId":"sms-keyword:1","messageId":"r1"}`, "userId"},
		{`{"type":"page","userId":"regal-contact:1","messageId":"r2"}`, "userId"},
		{`{"type":"delete","userId":"regal-contact:1","messageId":"r3"}`, "userId"},
		{`{"type":"track","event":"x","anonymousId":"regal-contact:1","messageId":"r4"}`, "anonymousId"},
		{`{"type":"track","event":"x","anonymousId":"regal-contact:1","userId":"u9","eventSource":"Regal Voice","messageId":"r5"}`, "anonymousId"},
		{`{"type":"track","event":"x","anonymousId":"sms-keyword:1","eventSource":"Regal Voice","messageId":"r6"}`, "anonymousId"},
	} {
		res := f.one(m.json)
		require.Len(t, res.Diagnostics, 1, m.json)
		assert.Equal(t, diag.MessageReservedID, res.Diagnostics[0].Code, m.json)
		assert.Equal(t, m.field, res.Diagnostics[0].Field, m.json)
	}
	res := f.processRegal(regalEvent("call.completed", "c-1", "", 0, `{}`))
	assert.Empty(t, res.Diagnostics, "a Regal event without a userId names its phone's Regal contact")
	assert.NotEmpty(t, res.ContactID)
}
