package contactcore

import (
	"testing"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/optin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seed's example: optIn records with ip "" and a context ip subscribe both channels.
func TestRuleC4_SeedContextIPSubscribesBothChannels(t *testing.T) {
	c, diags := apply(t, seedMessage(t))
	require.Empty(t, diags)
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.Voice))

	m := seedMessage(t)
	m.Context.IP = ""
	c, diags = apply(t, m)
	assert.Equal(t, []diag.Code{diag.OptinNoIP, diag.OptinNoIP}, codes(diags))
	assert.Equal(t, optin.StateNone, c.Subscription(optin.SMS))
	assert.Len(t, c.ConsentView().History(), 2, "refused records are kept as evidence (Rule C7)")
}

func optInOnly(t *testing.T, minutes int, subscribed string) *event.Message {
	return identify(t, minutes, `{"optIn":{"channel":"sms","subscribed":`+subscribed+`,"timestamp":"2020-08-25T21:0`+itoa(minutes%10)+`:00Z"}}`)
}

// Rule C5: a record without a phone in its message binds to the phone primary at its
// message time, else to the first phone the contact ever gets; until then it is pending.
func TestRuleC5_RecordWithoutPhoneBindsByTime(t *testing.T) {
	pending := optInOnly(t, 1, "true")
	c, _ := apply(t, pending)
	require.Len(t, c.ConsentView().History(), 1)
	assert.Equal(t, optin.Pending, c.ConsentView().History()[0].Outcome)
	assert.Equal(t, optin.StateNone, c.Subscription(optin.SMS))

	// The first phone the contact ever gets takes the pending record, whatever the order.
	later := identify(t, 5, `{"phone":"+19545552399"}`)
	evenLater := identify(t, 9, `{"phone":"+19175554444"}`)
	for _, order := range [][]*event.Message{{pending, later, evenLater}, {evenLater, later, pending}, {later, pending, evenLater}} {
		c, _ := apply(t, order...)
		v := c.ConsentView()
		assert.Equal(t, optin.StateSubscribed, v.State("+19545552399", optin.SMS))
		assert.Equal(t, optin.StateNone, v.State("+19175554444", optin.SMS))
		assert.Equal(t, optin.StateNone, c.Subscription(optin.SMS), "the primary phone is now the later one")
	}

	// A record after a phone change binds to the phone primary at its time.
	first := identify(t, 0, `{"phone":"+19545552399"}`)
	second := identify(t, 3, `{"phone":"+19175554444"}`)
	optOut := optInOnly(t, 4, "false")
	for _, order := range [][]*event.Message{{first, second, optOut}, {optOut, second, first}} {
		c, _ := apply(t, order...)
		v := c.ConsentView()
		assert.Equal(t, optin.StateUnsubscribed, v.State("+19175554444", optin.SMS))
		assert.Equal(t, optin.StateNone, v.State("+19545552399", optin.SMS))
	}
}

// Rule C5: a record applies to the phone in its own message, even when another phone is
// primary.
func TestRuleC5_RecordAppliesToTheMessagesPhone(t *testing.T) {
	primary := identify(t, 0, `{"phones":{"+19175554444":{"isPrimary":true}}}`)
	withPhone := identify(t, 1, `{"phone":"+19545552399","optIn":{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:00:00Z"}}`)
	c, _ := apply(t, primary, withPhone)
	v := c.ConsentView()
	assert.Equal(t, optin.StateSubscribed, v.State("+19545552399", optin.Voice))
	assert.Equal(t, optin.StateNone, v.State("+19175554444", optin.Voice))
}

// Rule C5: a message that sends its phone only in the phones object (no phone trait)
// sent that phone: an optIn record naming none binds to its only entry, or to the one
// entry it marked primary, not to the contact's primary phone at the message's time; an
// entry that is not a valid number was a refused phone (the opt-in applies to none).
func TestRuleC5_RecordAppliesToTheMessagesPhonesEntry(t *testing.T) {
	old := identify(t, 0, `{"phone":"+19175554444"}`)
	optIn := `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:00:00Z","ip":"8.8.8.8"}`
	for _, tc := range []struct {
		name, traits string
		want         string // the phone subscribed, "" for none
	}{
		{"one entry", `{"phones":{"+19545552399":{"label":"work"}},` + optIn + `}`, "+19545552399"},
		{"the entry marked primary", `{"phones":{"+19545552399":{"isPrimary":true},"+12125550123":{}},` + optIn + `}`, "+19545552399"},
		{"two entries, none primary: the time rule", `{"phones":{"+19545552399":{},"+12125550123":{}},` + optIn + `}`, "+19175554444"},
		{"the phone trait first", `{"phone":"+12125550123","phones":{"+19545552399":{}},` + optIn + `}`, "+12125550123"},
		{"an entry that is no number", `{"phones":{"+1 555 555 5555":{}},` + optIn + `}`, ""},
		{"an entry that is no object", `{"phones":{"+19545552399":"work"},` + optIn + `}`, ""},
		// An empty phone names no number either: the opt-in applies to none, as for a
		// refused one, however the emptiness is written.
		{"an empty phone", `{"phone":"",` + optIn + `}`, ""},
		{"an escaped empty phone", `{"phone":"\u0020\t",` + optIn + `}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := identify(t, 1, tc.traits)
			for _, order := range [][]*event.Message{{old, msg}, {msg, old}} {
				c, _ := apply(t, order...)
				v := c.ConsentView()
				for _, p := range []string{"+19175554444", "+19545552399", "+12125550123"} {
					want := optin.StateNone
					if p == tc.want {
						want = optin.StateSubscribed
					}
					assert.Equal(t, want, v.State(p, optin.SMS), p)
				}
			}
		})
	}
}

func TestRuleC6_NewestConsentWinsThroughTraits(t *testing.T) {
	sub := identify(t, 0, `{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T10:00:00Z"}}`)
	unsub := identify(t, 1, `{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":"false","timestamp":"2020-08-25T11:00:00Z"}}`)
	// Segment re-sends the old record with a newer message: still stale by its own time.
	resent := identify(t, 2, `{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T10:00:00Z"}}`)
	for _, order := range [][]*event.Message{{sub, unsub, resent}, {resent, unsub, sub}, {unsub, resent, sub}} {
		c, _ := apply(t, order...)
		assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS))
	}
}
func TestAddConsent_optInEventRecords(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"phone":"+19545552399"}`))
	ev, err := optin.NewEvents(map[string][]optin.Channel{"SMS Opt In": {optin.SMS}}, nil)
	require.NoError(t, err)
	recs, diags := ev.Records("SMS Opt In", optin.Message{ID: "t1", Time: seedTime.Add(time.Hour), IP: "8.8.8.8"})
	require.Empty(t, diags)
	assert.Equal(t, 1, c.AddConsent(recs...))
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS))
	assert.Zero(t, c.AddConsent(recs...), "a duplicate adds nothing")
}
