package regalkit_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/regalio"
)

const regalIdentify = `{"type":"identify","messageId":"id1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
	"traits":{"phone":"+19545552399","email":"rebecca@example.com","optIn":[
		{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z","source":"form"},
		{"channel":"voice","subscribed":true,"timestamp":"2024-03-01T12:00:00Z","source":"form"}]}}`

// regalEvent is a reporting-webhook body at t0 + offset seconds.
func regalEvent(name, eventID, userID string, offset int, props string) string {
	ts := strconv.FormatInt(t0.Unix()+int64(offset), 10)
	b := `{"name":"` + name + `","eventId":"` + eventID + `","traits":{"phone":"+19545552399"},"originalTimestamp":"` + ts + `","eventSource":"Regal Voice","properties":` + props
	if userID != "" {
		b += `,"userId":"` + userID + `"`
	}
	return b + "}"
}

// processRegal decodes a webhook body and processes its message as Regal's webhook
// does, through RegalSink.
func (f *fixture) processRegal(body string) regalkit.Result {
	f.t.Helper()
	e, err := regalio.DecodeEvent([]byte(body))
	require.NoError(f.t, err)
	res, err := f.p.ProcessFromRegal(context.Background(), e.Message())
	require.NoError(f.t, err)
	return res
}

// Rule R5: contact.unsubscribed from Regal is a consent record with its evidence, and
// an event on the contact; the order of arrival does not matter.
func TestRegalUnsubscribe(t *testing.T) {
	unsub := regalEvent("contact.unsubscribed", "e1", "u1", 3600,
		`{"channel":"SMS","phone":"+1 954 555 2399","source":"RegalVoice.agent_desktop","text":"STOP","timestamp":"`+strconv.FormatInt(t0.Unix()+3600, 10)+`"}`)
	var exports [2][]byte
	for i, order := range [2]bool{false, true} {
		f := newFixture(t, nil)
		if order {
			f.processRegal(unsub)
			f.one(regalIdentify)
		} else {
			f.one(regalIdentify)
			res := f.processRegal(unsub)
			assert.Empty(t, res.Diagnostics)
			assert.Contains(t, res.Changed, "consent")
		}
		c := f.user("u1")
		require.NotNil(t, c)
		assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS))
		assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.Voice), "only the named channel")
		assert.Contains(t, f.events(c), "regal-e1")
		var found bool
		for _, e := range c.ConsentView().History() {
			if e.MessageID == "regal-e1" {
				found = true
				assert.Equal(t, "STOP", e.Text)
				assert.Equal(t, "RegalVoice.agent_desktop", e.Source)
				assert.Equal(t, "+19545552399", e.AppliesTo)
				assert.Equal(t, optin.Applied, e.Outcome)
			}
		}
		assert.True(t, found, "the record is in the history with its evidence (Rule C7)")
		b, err := contact.EncodeStorage(c) // with its clocks: the contacts are equal exactly
		require.NoError(t, err)
		exports[i] = b
	}
	assert.JSONEq(t, string(exports[0]), string(exports[1]))
}

// Rules R3, R5: the snake_case variant as Regal's documentation shows it: "event_type"
// is always "regal_voice_event" and comes before "name" (its keys are in alphabetical
// order), the userId is "external_id", and the phone may be only the top-level
// "contact_phone". Its opt-out applies, in either arrival order.
func TestRegalSnakeCaseUnsubscribe_RuleR3(t *testing.T) {
	at := strconv.FormatInt(t0.Unix()+3600, 10)
	unsub := `{"brand":"b","contact_phone":"+19545552399","created_at":"` + at + `","entity_type":"event","event_id":"snake1",` +
		`"event_type":"regal_voice_event","external_id":"u1","name":"contact.unsubscribed","original_timestamp":"` + at + `",` +
		`"profile_id":"p1","properties":{"channel":"sms","source":"regalvoice.agent_desktop","timestamp":"` + at + `"}}`
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		f := newFixture(t, nil)
		f.replay([]string{regalIdentify, unsub}, order)
		c := f.user("u1")
		require.NotNil(t, c)
		assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS), "order %v", order)
		assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.Voice), "order %v", order)
		assert.Contains(t, f.events(c), "regal-snake1")
	}

	// Without an external_id, the contact_phone finds the contact (Rule R5).
	f := newFixture(t, nil)
	f.one(regalIdentify)
	res := f.processRegal(strings.Replace(unsub, `"external_id":"u1",`, "", 1))
	assert.Empty(t, res.Diagnostics)
	assert.Contains(t, res.Changed, "consent")
	assert.Equal(t, f.user("u1").ID(), res.ContactID)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS))
}

// Rules R3, R5: a snake_case event whose traits name a phone as null (or "") is about
// its contact_phone, for the Processor as for the anonymousId regalio gives it: the
// Guard answers opted out for that phone, in either arrival order (Rule G1).
func TestRegalSnakeCaseNullTraitPhone_RuleR5(t *testing.T) {
	at := strconv.FormatInt(t0.Unix()+3600, 10)
	for _, null := range []string{`null`, `""`} {
		unsub := `{"contact_phone":"+19545552399","event_id":"snake2","name":"contact.unsubscribed",` +
			`"original_timestamp":"` + at + `","properties":{"channel":"sms","timestamp":"` + at + `"},"traits":{"phone":` + null + `}}`
		guardInOrders(t, nil, []string{regalIdentify, unsub}, [][]int{{0, 1}, {1, 0}}, "+19545552399", optin.SMS, rfc("2024-03-01T15:00:00Z"), diag.GuardOptedOut, "phone "+null)
	}
}

// Rule R5 with C6: an older subscribe arriving later changes nothing; a tie goes to the
// opt-out; a subscribe needs an IP (C4).
func TestRegalConsentRules(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalIdentify)
	ts := func(off int) string { return strconv.FormatInt(t0.Unix()+int64(off), 10) }
	f.processRegal(regalEvent("contact.unsubscribed", "e1", "u1", 7200, `{"channel":"voice","timestamp":`+ts(7200)+`}`))
	f.processRegal(regalEvent("contact.subscribed", "e2", "u1", 3600, `{"channel":"voice","ip":"1.2.3.4","timestamp":`+ts(3600)+`}`))
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.Voice), "an older opt-in arriving later changes nothing")

	f.processRegal(regalEvent("contact.subscribed", "e3", "u1", 7200, `{"channel":"voice","ip":"1.2.3.4","timestamp":`+ts(7200)+`}`))
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.Voice), "a tie goes to the opt-out")

	res := f.processRegal(regalEvent("contact.subscribed", "e4", "u1", 9000, `{"channel":"voice","timestamp":`+ts(9000)+`}`))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinNoIP, res.Diagnostics[0].Code)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.Voice))

	res = f.processRegal(regalEvent("contact.subscribed", "e5", "u1", 9500, `{"channel":"fax","ip":"1.2.3.4"}`))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinUnknownChannel, res.Diagnostics[0].Code)

	res = f.processRegal(regalEvent("contact.subscribed", "e6", "u1", 9600, `{"channel":"sms","ip":"1.2.3.4","phone":"+1 555 555 5555"}`))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.PhoneInvalid, res.Diagnostics[0].Code)
	assert.NotContains(t, res.Diagnostics[0].Message, "555 5555")

	res = f.processRegal(regalEvent("contact.subscribed", "e7", "u1", 10000, `{"channel":"voice","ip":"1.2.3.4"}`))
	assert.Empty(t, res.Diagnostics, "no timestamp in the properties: the event's time")
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.Voice))

	history := f.user("u1").ConsentView().History()
	ids := map[string]bool{}
	for _, e := range history {
		ids[e.MessageID] = true
	}
	for _, id := range []string{"regal-e1", "regal-e2", "regal-e3", "regal-e4", "regal-e5", "regal-e6", "regal-e7"} {
		assert.True(t, ids[id], "%s is kept in the history (Rule C7)", id)
	}
}

// Rule R5: an event without a userId goes to the contact with its phone.
func TestRegalMatchByPhone(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalIdentify)
	res := f.processRegal(regalEvent("sms.received", "e9", "", 60, `{"content":"yes"}`))
	assert.Empty(t, res.Diagnostics)
	c := f.user("u1")
	assert.Equal(t, c.ID(), res.ContactID)
	assert.Contains(t, f.events(c), "regal-e9")
	assert.Equal(t, 1, f.count(), "no anonymous contact")

	res = f.processRegal(regalEvent("contact.unsubscribed", "e10", "", 120, `{"channel":"sms","phone":"+19545552399"}`))
	assert.Equal(t, c.ID(), res.ContactID)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS))

	again := f.processRegal(regalEvent("sms.received", "e9", "", 60, `{"content":"yes"}`))
	assert.True(t, again.Duplicate, "the same eventId is the same message (Rule E2)")
}

// Rule R5: the same events from Regal's Segment source, as track calls.
func TestRegalSegmentSource(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalIdentify)
	res := f.one(`{"type":"track","messageId":"s1","userId":"u1","event":"contact.unsubscribed","timestamp":"2024-03-01T13:00:00Z",
		"properties":{"channel":"voice","phone":"+19545552399","source":"RegalVoice.sms_keyword","text":"STOP"},"eventSource":"Regal Voice"}`)
	assert.Empty(t, res.Diagnostics)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.Voice))
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS))

	res = f.one(`{"type":"track","messageId":"s2","userId":"u1","event":"contact.unsubscribed","timestamp":"2024-03-01T14:00:00Z",
		"properties":{"channel":"sms"},"context":{"eventSource":"Regal Voice"}}`)
	assert.Empty(t, res.Diagnostics)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS), "eventSource in the context counts too")

	f2 := newFixture(t, nil)
	f2.one(regalIdentify)
	f2.one(`{"type":"track","messageId":"s3","userId":"u1","event":"contact.unsubscribed","timestamp":"2024-03-01T13:00:00Z","properties":{"channel":"sms"}}`)
	assert.Equal(t, optin.StateSubscribed, f2.user("u1").Subscription(optin.SMS), "not from Regal: an ordinary track")
	assert.Contains(t, f2.events(f2.user("u1")), "s3")
}

// TestRegalConsentIP_RuleC4: a consent event's ip that is no IP address is left out
// with a diagnostic, and the message's context.ip stands in, as for a trait's record.
func TestRegalConsentIP_RuleC4(t *testing.T) {
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", "+19545552399", ""))
	res := f.one(`{"type":"track","messageId":"s1","userId":"u1","event":"contact.subscribed","timestamp":"2024-03-01T13:00:00Z","context":{"ip":"8.8.8.8"},
		"properties":{"channel":"sms","phone":"+19545552399","ip":"not an ip","text":"Reply STOP to stop"},"eventSource":"Regal Voice"}`)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinInvalid, res.Diagnostics[0].Code)
	assert.Equal(t, "properties.ip", res.Diagnostics[0].Field)
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS), "context.ip is the evidence")

	res = f.one(`{"type":"track","messageId":"s2","userId":"u1","event":"contact.subscribed","timestamp":"2024-03-01T14:00:00Z","context":{"ip":"nope"},
		"properties":{"channel":"voice","phone":"+19545552399"},"eventSource":"Regal Voice"}`)
	codes := []diag.Code{}
	for _, d := range res.Diagnostics {
		codes = append(codes, d.Code)
	}
	assert.Equal(t, []diag.Code{diag.OptinNoIP}, codes, "a context.ip that is no IP address is no evidence")
	assert.NotEqual(t, optin.StateSubscribed, f.user("u1").Subscription(optin.Voice))
}

func TestRegalSink(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalIdentify)
	e, err := regalio.DecodeEvent([]byte(regalEvent("contact.unsubscribed", "e1", "u1", 60, `{"channel":"sms"}`)))
	require.NoError(t, err)
	sink := f.p.RegalSink()
	res, err := sink(context.Background(), []event.Message{e.Message(), e.Message()})
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, "regal-e1", res[0].MessageID)
	assert.False(t, res[0].Duplicate)
	assert.True(t, res[1].Duplicate)
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sink(ctx, []event.Message{e.Message()})
	assert.Error(t, err)
}

// TestRegalMarkIsContent_RuleE2: the same track without a messageId, with and without
// the top-level eventSource that makes it Regal's, is two messages: in either order the
// Regal one's opt-out applies, and neither is taken for a re-delivery of the other (S3).
func TestRegalMarkIsContent_RuleE2(t *testing.T) {
	marked := `{"type":"track","userId":"u1","event":"contact.unsubscribed","eventSource":"Regal Voice","properties":{"channel":"sms","phone":"+19545552399"},"timestamp":"2024-03-01T12:01:00Z"}`
	plain := `{"type":"track","userId":"u1","event":"contact.unsubscribed","properties":{"channel":"sms","phone":"+19545552399"},"timestamp":"2024-03-01T12:01:00Z"}`
	for _, order := range [][2]string{{marked, plain}, {plain, marked}} {
		f := newFixture(t, nil)
		f.one(regalIdentify)
		for _, m := range order {
			assert.False(t, f.one(m).Duplicate)
		}
		assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS))
	}
}

// Rule R5: a Regal event without a userId goes to the contact with the phone it is
// about (regalio.About), which a consent event may name only in properties.phone or
// properties.contact_phone: the opt-out is then the contact's own (Rule A2), not only
// the phone's Regal register's.
func TestRegalMatch_phoneInProperties_RuleR5(t *testing.T) {
	for _, props := range []string{`{"channel":"sms","phone":"+19545552399"}`, `{"channel":"sms","contact_phone":"(954) 555-2399"}`} {
		f := newFixture(t, nil)
		f.one(regalIdentify)
		res := f.processRegal(`{"name":"contact.unsubscribed","eventId":"e1","originalTimestamp":"` + strconv.FormatInt(t0.Unix()+3600, 10) + `","properties":` + props + `}`)
		c := f.user("u1")
		assert.Equal(t, c.ID(), res.ContactID, props)
		assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS), props)
		assert.Contains(t, f.events(c), "regal-e1", props)
	}
}

// Rule R5: a phone that several contacts share matches none of them, and the event
// stays on the phone's own Regal contact: the email its traits name does not pick one.
func TestRegalMatch_sharedPhoneNotByEmail_RuleR5(t *testing.T) {
	f := newFixture(t, nil)
	f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T10:00:00Z","traits":{"phone":"+19545552399"}}`)
	f.one(`{"type":"identify","userId":"u2","messageId":"m2","timestamp":"2024-03-01T10:00:00Z","traits":{"phone":"+19545552399","email":"bob@example.com"}}`)
	res := f.processRegal(`{"name":"call.completed","eventId":"e1","originalTimestamp":"1709290800",
		"traits":{"phone":"+19545552399","email":"bob@example.com"},"properties":{}}`)
	assert.NotEqual(t, f.user("u1").ID(), res.ContactID)
	assert.NotEqual(t, f.user("u2").ID(), res.ContactID)

	// With no contact having the phone, the email decides.
	f = newFixture(t, nil)
	f.one(`{"type":"identify","userId":"u2","messageId":"m2","timestamp":"2024-03-01T10:00:00Z","traits":{"email":"bob@example.com"}}`)
	res = f.processRegal(`{"name":"call.completed","eventId":"e1","originalTimestamp":"1709290800",
		"traits":{"phone":"+19545552399","email":"bob@Example.com"},"properties":{}}`)
	assert.Equal(t, f.user("u2").ID(), res.ContactID)
}

// Rule R5: a consent event whose properties.timestamp is an empty string carries no
// timestamp, as with null: the event's time dates the record, and the opt-out applies
// (Rule C4: an opt-out is always honoured).
func TestRegalConsent_emptyTimestamp_RuleR5(t *testing.T) {
	for _, ts := range []string{`null`, `""`, `"  "`} {
		f := newFixture(t, nil)
		f.one(regalIdentify)
		res := f.processRegal(regalEvent("contact.unsubscribed", "e1", "u1", 3600, `{"channel":"sms","timestamp":`+ts+`}`))
		assert.Empty(t, res.Diagnostics, "timestamp %s", ts)
		assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS), "timestamp %s", ts)
	}
}

// Rule R5: a consent event for the email channel without a userId is about an email,
// but finds its contact by the traits' phone when that is all it names; a Segment
// track of Regal's source under a Segment anonymousId that names no phone binds to that
// ID's contact's phone (C5), in every order, as any message's record.
func TestRegalMatch_emailChannelByTraitsPhone_RuleR5(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalIdentify)
	res := f.processRegal(`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"phone":"+19545552399"},"properties":{"channel":"email"}}`)
	assert.Equal(t, f.user("u1").ID(), res.ContactID)
	assert.Contains(t, f.events(f.user("u1")), "regal-e1")

	msgs := []string{
		`{"type":"identify","anonymousId":"seg-a1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
		`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"seg-a1","messageId":"m2","timestamp":"2024-03-01T12:05:00Z","properties":{"channel":"SMS"}}`,
	}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		f := newFixture(t, nil)
		for _, i := range order {
			assert.Empty(t, f.one(msgs[i]).Diagnostics, "order %v", order)
		}
		assert.Equal(t, diag.GuardOptedOut, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-01T16:00:00Z")), "order %v", order)
	}
}

// Rule R5: an email-channel consent event that names an email finds the email's
// contact, not whoever has the traits' phone (which names the contact only when the
// event names no email), also when that phone is shared.
func TestRegalMatch_emailChannelByEmailFirst_RuleR5(t *testing.T) {
	for _, shared := range []bool{false, true} {
		f := newFixture(t, nil)
		f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"+19545552399","email":"bob@example.com"}}`)
		if shared {
			f.one(`{"type":"identify","userId":"u3","messageId":"m3","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"+19545552399"}}`)
		}
		f.one(`{"type":"identify","userId":"u2","messageId":"m2","timestamp":"2024-03-01T12:00:00Z","traits":{"email":"ann@example.com"}}`)
		res := f.processRegal(`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"phone":"+19545552399","email":"ann@example.com"},"properties":{"channel":"email"}}`)
		assert.Equal(t, f.user("u2").ID(), res.ContactID, "shared %v", shared)
		assert.Equal(t, optin.StateUnsubscribed, f.user("u2").Subscription(optin.Email), "shared %v", shared)
	}
}

// TestRegalConsent_contradictsItself_RuleR5: a consent event whose "subscribed"
// property says the other way from its name contradicts itself. contact.subscribed
// with "subscribed": false is no opt-in (a review found it subscribing the phone);
// contact.unsubscribed with "subscribed": true is honoured, as any opt-out is. Both
// say so.
func TestRegalConsent_contradictsItself_RuleR5(t *testing.T) {
	for name, c := range map[string]struct {
		event, subscribed string
		want              diag.Code
	}{
		"subscribed, false":     {"contact.subscribed", "false", diag.GuardNotSubscribed},
		"subscribed, \"false\"": {"contact.subscribed", `"false"`, diag.GuardNotSubscribed},
		"unsubscribed, true":    {"contact.unsubscribed", "true", diag.GuardOptedOut},
		"subscribed, true":      {"contact.subscribed", "true", ""},
	} {
		f := newFixture(t, nil)
		f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","traits":{"phone":"+19545552399"}}`)
		res := f.processRegal(regalEvent(c.event, "e1", "u1", 3600, `{"channel":"sms","phone":"+19545552399","ip":"8.8.8.8","subscribed":`+c.subscribed+`}`))
		var codes []diag.Code
		for _, d := range res.Diagnostics {
			codes = append(codes, d.Code)
		}
		if c.want == "" {
			assert.Empty(t, codes, name)
		} else {
			assert.Contains(t, codes, diag.OptinInvalid, name)
		}
		assert.Equal(t, c.want, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-02T15:00:00Z")), name)
	}
}
