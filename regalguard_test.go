package regalkit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

// The Guard's answer for a phone with Regal's consent events among the messages, in
// several arrival orders (Rules R5, G1, S3). A Regal event without a userId is matched
// to a contact by phone when it arrives, so the contacts may differ by order; the
// phone's consent and the Guard's answer may not.

// replay processes the messages at the indexes of order: a Regal webhook body (no
// "type") through regalio, any other as a Segment message.
func (f *fixture) replay(msgs []string, order []int) {
	f.t.Helper()
	for _, i := range order {
		if strings.Contains(msgs[i], `"type":`) {
			f.one(msgs[i])
		} else {
			f.processRegal(msgs[i])
		}
	}
}

// guardReason is the Guard's reason for not reaching phone on ch at at; empty when it
// may.
func (f *fixture) guardReason(phone string, ch optin.Channel, at time.Time) diag.Code {
	f.t.Helper()
	d, err := f.p.Guard(nil).Check(context.Background(), phone, ch, at)
	require.NoError(f.t, err)
	return d.Reason
}

// guardInOrders replays msgs in each of orders, each on a fixture of its own made with
// opts, and checks the Guard's reason for phone on ch at at: the same, want, in every
// order (Rules G1, S3). label names the case in failures.
func guardInOrders(t *testing.T, opts *regalkit.Options, msgs []string, orders [][]int, phone string, ch optin.Channel, at time.Time, want diag.Code, label string) {
	t.Helper()
	for _, order := range orders {
		f := newFixture(t, opts)
		f.replay(msgs, order)
		assert.Equal(t, want, f.guardReason(phone, ch, at), "%s order %v", label, order)
	}
}

// TestGuard_RegalConsentAboutAnotherPhone_RuleG1: a Regal consent event without a
// userId is about its properties.phone, which may not be the phone its traits name
// (the Regal contact's primary). When it finds no contact, it stays on the anonymous
// contact of the phone it is about, where the Guard looks.
func TestGuard_RegalConsentAboutAnotherPhone_RuleG1(t *testing.T) {
	msgs := []string{
		`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
			"traits":{"phones":{"+19545552399":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}},"+12125550123":{}}}}`,
		`{"name":"contact.unsubscribed","eventId":"e1","originalTimestamp":"1709294460","properties":{"channel":"voice","phone":"+19545552399"},"traits":{"phone":"+12125550123"}}`,
	}
	guardInOrders(t, nil, msgs, [][]int{{1, 0}, {0, 1}}, "+19545552399", optin.Voice, rfc("2024-03-01T15:00:00Z"), diag.GuardOptedOut, "")
}

// TestGuard_MatchedRegalOptOutStaysWithThePhone_RuleG1: a Regal opt-out without a
// userId that matched the contact holding the phone still counts for the phone after a
// late link moves the message that gave that contact the phone to another user (Rule
// I4): the record is also kept on the phone's own Regal contact.
func TestGuard_MatchedRegalOptOutStaysWithThePhone_RuleG1(t *testing.T) {
	const phone = "+19545552399"
	msgs := []string{
		`{"type":"identify","messageId":"m1","userId":"u2","anonymousId":"a1","timestamp":"2024-03-01T12:10:00Z"}`,
		`{"type":"identify","messageId":"m2","anonymousId":"a1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
			"traits":{"phones":{"` + phone + `":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T11:59:00Z"}}}}}`,
		`{"type":"track","messageId":"m4","userId":"u1","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:05:00Z"}`,
		`{"name":"contact.unsubscribed","eventId":"e3","originalTimestamp":"1709294700","properties":{"channel":"voice","phone":"` + phone + `"},"traits":{"phone":"` + phone + `"}}`,
	}
	guardInOrders(t, nil, msgs, [][]int{{0, 1, 3, 2}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 0, 3, 1}, {1, 3, 0, 2}},
		phone, optin.Voice, rfc("2024-03-01T15:00:00Z"), diag.GuardOptedOut, "")
}

// TestGuard_RegalOptOutEveryDoor_RuleG1: a Regal opt-out without a userId counts for
// its phone whatever contact the event itself went to: through Regal's Segment source
// with a Segment anonymousId, or through the webhook with the phone written in a
// national form that regalio cannot make E.164 but the Processor's region can.
func TestGuard_RegalOptOutEveryDoor_RuleG1(t *testing.T) {
	for _, tc := range []struct {
		name, phone string
		msgs        []string
		opts        *regalkit.Options
	}{
		{
			name:  "Segment source, Segment anonymousId",
			phone: nyPhone,
			msgs: []string{
				identifyPhone("u1", nyPhone, optInSMS),
				`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"xyz","messageId":"s1","timestamp":"2024-03-01T12:00:00Z",
					"properties":{"channel":"sms","phone":"` + nyPhone + `"},"context":{"traits":{"phone":"` + nyPhone + `"}}}`,
			},
		},
		{
			name:  "webhook, national number, region GB",
			phone: "+447911123456",
			msgs: []string{
				`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","traits":{"phone":"07911 123456","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"1.2.3.4"}}}`,
				`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294400","traits":{"phone":"07911 123456"},"properties":{"channel":"SMS","phone":"07911 123456"}}`,
			},
			opts: &regalkit.Options{Region: "GB"},
		},
	} {
		guardInOrders(t, tc.opts, tc.msgs, [][]int{{1, 0}, {0, 1}}, tc.phone, optin.SMS, rfc("2024-03-01T15:00:00Z"), diag.GuardOptedOut, tc.name)
	}
}

// TestGuard_RegalOptOutOnALinkedAnonymousContact_RuleG1: a Regal event matched an
// anonymous contact by phone, which then holds the event under the phone's Regal
// anonymousId; a Regal opt-out for that phone from Regal's Segment source lands on the
// same anonymous contact, which a user later links. The opt-out still counts.
func TestGuard_RegalOptOutOnALinkedAnonymousContact_RuleG1(t *testing.T) {
	const other = "+19175554444"
	msgs := []string{
		`{"type":"identify","anonymousId":"a2","messageId":"m1","timestamp":"2024-03-01T12:06:00Z","traits":{"phone":"` + other + `"}}`,
		`{"eventId":"e1","name":"sms.received","originalTimestamp":"1709294700","eventSource":"Regal Voice","traits":{"phone":"` + other + `"},"properties":{"content":"hi","contact_phone":"+19545552399"}}`,
		`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"a2","messageId":"m2","timestamp":"2024-03-01T12:05:00Z","properties":{"channel":"SMS","phone":"+19545552399"}}`,
		`{"type":"identify","userId":"u3","anonymousId":"a2","messageId":"m3","timestamp":"2024-03-01T12:01:00Z","traits":{}}`,
	}
	guardInOrders(t, nil, msgs, [][]int{{3, 2, 1, 0}, {0, 1, 2, 3}, {1, 0, 3, 2}, {0, 1, 3, 2}},
		"+19545552399", optin.SMS, rfc("2024-03-01T14:00:00Z"), diag.GuardOptedOut, "")
}

// TestGuard_RegalTraitsNotApplied_RuleR5: with ApplyContextTraits on, a Regal event
// without a userId that matched a contact by phone does not give it the phone: when a
// later link takes the phone's message away (Rule I4), the contact has no phone in
// every arrival order, and its own opt-in does not start counting for the phone.
func TestGuard_RegalTraitsNotApplied_RuleR5(t *testing.T) {
	const phone = "+19175554444"
	msgs := []string{
		`{"type":"identify","anonymousId":"a2","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"` + phone + `"}}`,
		`{"eventId":"e1","name":"sms.received","originalTimestamp":"1709294700","eventSource":"Regal Voice","traits":{"phone":"` + phone + `"},"properties":{"content":"hi"}}`,
		`{"type":"track","event":"Call Opt In","userId":"u1","anonymousId":"a2","messageId":"m3","timestamp":"2024-03-01T12:06:00Z","context":{"ip":"8.8.8.8"}}`,
		`{"type":"identify","userId":"u2","anonymousId":"a2","messageId":"m4","timestamp":"2024-03-01T12:03:00Z","traits":{}}`,
	}
	var reasons []diag.Code
	for _, order := range [][]int{{0, 1, 2, 3}, {2, 0, 1, 3}} {
		f := newFixture(t, &regalkit.Options{ApplyContextTraits: true, OptInEvents: map[string][]optin.Channel{"Call Opt In": {optin.Voice}}})
		f.replay(msgs, order)
		reasons = append(reasons, f.guardReason(phone, optin.Voice, rfc("2024-03-01T14:00:00Z")))
	}
	assert.Equal(t, reasons[0], reasons[1])
}

// TestGuard_AnonymousContactThatLostThePhone_RuleG1: an anonymous contact that took in
// a Regal event by phone (Rule R5) holds it under the phone's Regal anonymousId, but is
// not the phone's own Regal contact: once it loses the phone, its records no longer
// count for the phone.
func TestGuard_AnonymousContactThatLostThePhone_RuleG1(t *testing.T) {
	const phone = "+19545552399"
	msgs := []string{
		`{"type":"identify","messageId":"m1","anonymousId":"a1","timestamp":"2024-03-01T12:01:00Z",
			"traits":{"phone":"` + phone + `","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:01:00Z","ip":"1.2.3.4"}}}`,
		`{"type":"identify","messageId":"m2","anonymousId":"a1","timestamp":"2024-03-01T12:02:00Z","traits":{"phones":{"` + phone + `":null}}}`,
		`{"eventId":"e1","name":"call.completed","traits":{"phone":"` + phone + `"},"originalTimestamp":"1709294700","eventSource":"Regal Voice"}`,
	}
	guardInOrders(t, nil, msgs, [][]int{{0, 1, 2}, {0, 2, 1}}, phone, optin.SMS, rfc("2024-03-01T20:00:00Z"), diag.GuardNotSubscribed, "")
}

// TestRegalRegister_identicalRecordsJoin_RuleC7: two Regal events from Regal's
// Segment source that carry the same consent record at the same time, under different
// messageIds, leave the phone's own Regal contact with one record naming both messages
// (Rule C7), whichever arrives first (S3): a join that changes only the record's last
// message is written back too.
func TestRegalRegister_identicalRecordsJoin_RuleC7(t *testing.T) {
	msg := func(ctx string) string {
		return `{"timestamp":"2024-03-01T12:00:00Z","type":"track","anonymousId":"a1","context":` + ctx + `,"event":"contact.subscribed","eventSource":"Regal Voice",` +
			`"properties":{"channel":"SMS","phone":"+19545552399","ip":"1.2.3.4","timestamp":"2024-03-01T12:06:00Z","text":"Reply STOP"}}`
	}
	msgs := []string{msg(`{}`), msg(`{"ip":"8.8.8.8"}`)}
	var histories []string
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		f := newFixture(t, nil)
		f.replay(msgs, order)
		cs, err := f.store.Find(context.Background(), identity.AnonymousKey("regal-contact:+19545552399"))
		require.NoError(t, err)
		require.Len(t, cs, 1)
		h := cs[0].ConsentView().History()
		require.Len(t, h, 1)
		assert.NotEmpty(t, h[0].LastMessageID)
		j, err := json.Marshal(h)
		require.NoError(t, err)
		histories = append(histories, string(j))
	}
	assert.JSONEq(t, histories[0], histories[1])
}

// TestGuard_RehomeGoesToThePhonesRegister_RuleG1: a delete or an alias moves the held
// messages of every anonymous ID they name to the ID's own contact (Rules I5, I7); for
// regal-contact:<phone> that is the phone's own Regal contact, not an anonymous contact
// that holds a Regal event it matched by phone. Else a Regal opt-out moved there
// stops counting for the phone in the orders where it arrived first.
func TestGuard_RehomeGoesToThePhonesRegister_RuleG1(t *testing.T) {
	const p = "+12125550123"
	msgs := []string{
		`{"type":"identify","messageId":"m1","anonymousId":"a1","timestamp":"2024-03-01T12:05:00Z","traits":{"phone":"` + p + `"}}`,
		`{"name":"contact.unsubscribed","eventId":"e1","originalTimestamp":"1709294400","traits":{"phone":"+19545552399"},"properties":{"channel":"sms","phone":"` + p + `"}}`,
		`{"name":"call.completed","eventId":"e2","originalTimestamp":"1709294400","traits":{"phone":"` + p + `"}}`,
		`{"type":"alias","messageId":"m2","previousId":"a1","userId":"u1","timestamp":"2024-03-01T12:01:00Z"}`,
		`{"name":"call.completed","eventId":"e3","originalTimestamp":"1709294460","traits":{"phone":"` + p + `"}}`,
		`{"type":"delete","messageId":"m3","userId":"u1","timestamp":"2024-03-01T12:09:00Z"}`,
	}
	guardInOrders(t, nil, msgs, [][]int{{0, 1, 2, 3, 4, 5}, {0, 2, 3, 4, 5, 1}, {1, 0, 2, 3, 4, 5}, {0, 2, 1, 3, 5, 4}},
		p, optin.SMS, rfc("2024-03-01T15:00:00Z"), diag.GuardOptedOut, "")
}

// TestGuard_DecidingRecordInEveryOrder_RuleG1: the same consent kept by the phone's
// Regal contact and by the user's (who matched the Regal event in one order, and got
// its own copy of the record from an identify in the other) counts once, its carriers
// joined: the Guard's whole Decision, its deciding record's messageIds included, is the
// same in both orders (Rule S3).
func TestGuard_DecidingRecordInEveryOrder_RuleG1(t *testing.T) {
	msgs := []string{
		`{"name":"contact.subscribed","eventId":"e1","originalTimestamp":"1709294400","traits":{"phone":"+19545552399"},
			"properties":{"channel":"voice","phone":"+19545552399","ip":"1.2.3.4"}}`,
		`{"type":"identify","messageId":"3f2a9c1e","userId":"u1","timestamp":"2024-03-01T12:05:00Z",
			"traits":{"phones":{"+19545552399":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:00:00Z","ip":"1.2.3.4"}}}}}`,
	}
	// A third message gives u1 a record tied with the shared one, so that the user's
	// contact holds a copy of it that is not its own deciding record.
	msgs = append(msgs, `{"type":"identify","messageId":"m2","userId":"u1","timestamp":"2024-03-01T12:06:00Z",
			"traits":{"phones":{"+19545552399":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:00:00Z","ip":"5.6.7.8"}}}}}`)
	var decisions []string
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		f := newFixture(t, nil)
		f.replay(msgs, order)
		d, err := f.p.Guard(nil).Check(context.Background(), "+19545552399", optin.Voice, rfc("2024-03-01T16:00:00Z"))
		require.NoError(t, err)
		require.NotNil(t, d.Deciding)
		d.Deciding.ProcessedAt = time.Time{}
		b, err := json.Marshal(d)
		require.NoError(t, err)
		decisions = append(decisions, string(b))
	}
	for i := range decisions {
		assert.Equal(t, decisions[0], decisions[i], "order %d", i)
	}
}

// TestOptIn_messagePhoneRefused_RuleC5: an opt-in that names no phone applies to the
// phone its message sent; when that phone was refused (phone.invalid), it applies to
// none, rather than to the contact's older primary phone, in either order. An opt-out
// in the same place still binds to the primary (an opt-out is always honoured, C4).
func TestOptIn_messagePhoneRefused_RuleC5(t *testing.T) {
	first := `{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T10:00:00Z","traits":{"phone":"+19545552399"}}`
	optIn := `{"type":"identify","userId":"u1","messageId":"m2","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+1 555 555 5555","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}`
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		f := newFixture(t, nil)
		var codes []diag.Code
		for _, i := range order {
			for _, d := range f.one([]string{first, optIn}[i]).Diagnostics {
				codes = append(codes, d.Code)
			}
		}
		assert.ElementsMatch(t, []diag.Code{diag.PhoneInvalid, diag.OptinInvalid}, codes, "order %v", order)
		assert.Equal(t, diag.GuardNotSubscribed, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-01T15:00:00Z")), "order %v", order)
	}

	optOut := strings.Replace(strings.Replace(optIn, `"subscribed":true`, `"subscribed":false`, 1), `"m2"`, `"m3"`, 1)
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", "+19545552399", `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T09:00:00Z","ip":"8.8.8.8"}`))
	f.one(optOut)
	assert.Equal(t, diag.GuardOptedOut, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-01T15:00:00Z")))
}

// TestOptIn_recordNamesAnotherPhone_RuleC5: a consent record naming another number than
// its message's: an opt-in is refused (consent for the wrong number is worse than none),
// an opt-out is honoured on the message's phone, so the Guard answers opted out for it
// in either order (Rules C4, G1).
func TestOptIn_recordNamesAnotherPhone_RuleC5(t *testing.T) {
	optIn := identifyPhone("u1", "+19545552399", `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T09:00:00Z","ip":"8.8.8.8"}`)
	optOut := `{"type":"identify","userId":"u1","messageId":"m9","timestamp":"2024-03-01T12:05:00Z",
		"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:05:00Z","phone":"+19175554444"}}}`
	wrong := `{"type":"identify","userId":"u1","messageId":"m8","timestamp":"2024-03-01T12:06:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:06:00Z","phone":"+19175554444"}}}`
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		f := newFixture(t, nil)
		for _, i := range order {
			f.one([]string{optIn, optOut, wrong}[i])
		}
		assert.Equal(t, diag.GuardOptedOut, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-01T15:00:00Z")), "order %v", order)
	}

	// In messages that send no phone, an opt-in and an opt-out that name the same
	// number both apply to it: the later opt-out is honoured there, not on the
	// contact's primary phone.
	phones := `{"type":"identify","userId":"u2","messageId":"p1","timestamp":"2024-03-01T10:00:00Z",
		"traits":{"phones":{"+19175554444":{},"+12125550123":{"isPrimary":true}}}}`
	in := `{"type":"identify","userId":"u2","messageId":"p2","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","phone":"+19175554444"}}}`
	out := `{"type":"identify","userId":"u2","messageId":"p3","timestamp":"2024-03-01T12:00:00Z",
		"traits":{"optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:00:00Z","phone":"+19175554444"}}}`
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		f := newFixture(t, nil)
		for _, i := range order {
			f.one([]string{phones, in, out}[i])
		}
		assert.Equal(t, diag.GuardOptedOut, f.guardReason("+19175554444", optin.SMS, rfc("2024-03-01T15:00:00Z")), "order %v", order)
		assert.Equal(t, diag.GuardNotSubscribed, f.guardReason("+12125550123", optin.SMS, rfc("2024-03-01T15:00:00Z")), "order %v", order)
	}

	// A message whose phone was refused gives no consent, a number of the record's own
	// included.
	f := newFixture(t, nil)
	res := f.one(`{"type":"identify","userId":"u3","messageId":"r1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+1 555 555 5555","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","phone":"+19175554444"}}}`)
	var codes []diag.Code
	for _, d := range res.Diagnostics {
		codes = append(codes, d.Code)
	}
	assert.ElementsMatch(t, []diag.Code{diag.PhoneInvalid, diag.OptinInvalid}, codes)
	f.one(identifyPhone("u3", "+19175554444", ""))
	assert.Equal(t, diag.GuardNotSubscribed, f.guardReason("+19175554444", optin.SMS, rfc("2024-03-01T15:00:00Z")))

	// An opt-out naming a number of its own, in a message whose phone was refused (however
	// refused), is honoured where one naming none is: on the phone primary at its time.
	subscribed := `{"type":"identify","userId":"u4","messageId":"s1","timestamp":"2024-03-01T09:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T09:00:00Z"}}}`
	for _, refused := range []string{`"phone":"+1 555 555 5555"`, `"phone":""`, `"phones":{"+1 555 555 5555":{}}`, `"phones":{"+19545552399":5}`} {
		optOut := `{"type":"identify","userId":"u4","messageId":"s2","timestamp":"2024-03-01T11:00:00Z",
			"traits":{` + refused + `,"optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T11:00:00Z","phone":"+19175554444"}}}`
		for _, order := range [][]string{{subscribed, optOut}, {optOut, subscribed}} {
			f := newFixture(t, nil)
			for _, m := range order {
				f.one(m)
			}
			assert.Equal(t, diag.GuardOptedOut, f.guardReason("+19545552399", optin.SMS, rfc("2024-03-01T15:00:00Z")), refused)
		}
	}
}

// TestGuard_RegalConsentNamingNoPhone_RuleR5: a Regal consent event without a userId
// that names no phone would bind (Rule C5) to the phone of whatever contact it matched
// on arrival. An opt-out that names an email applies instead to the phones of the
// contacts with that email (kept on the email's own Regal contact), so it is honoured
// and the Guard answers the same in every order; an opt-in naming no phone applies to
// none; one whose anonymousId is a phone's Regal contact names that phone.
func TestGuard_RegalConsentNamingNoPhone_RuleR5(t *testing.T) {
	at := rfc("2024-03-01T16:00:00Z")
	for _, tc := range []struct {
		name string
		msgs []string
		want diag.Code
	}{
		{"opt-out naming only an email", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","email":"ann@example.com","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"email":"ann@example.com"},"properties":{"channel":"SMS"}}`,
		}, diag.GuardOptedOut},
		{"opt-out naming only an email, in other cases", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","email":"Ann@Example.com","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"email":"ann@example.COM"},"properties":{"channel":"SMS"}}`,
		}, diag.GuardOptedOut},
		{"opt-out naming only an email whose local part starts with +", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","email":"+ann@example.com","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"email":"+ann@example.com"},"properties":{"channel":"SMS"}}`,
		}, diag.GuardOptedOut},
		{"opt-out naming only an email, under a Segment anonymousId", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","email":"ann@example.com","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"seg-x","messageId":"t1","timestamp":"2024-03-01T12:01:00Z","context":{"traits":{"email":"ann@example.com"}},"properties":{"channel":"SMS"}}`,
		}, diag.GuardOptedOut},
		{"opt-in naming only an email: applies to none", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"+19545552399","email":"ann@example.com"}}`,
			`{"eventId":"e1","name":"contact.subscribed","originalTimestamp":"1709294460","traits":{"email":"Ann@Example.com"},"properties":{"channel":"SMS","ip":"1.2.3.4"}}`,
		}, diag.GuardNotSubscribed},
		{"opt-out naming an email no contact with the phone has", []string{
			`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","email":"ann@example.com","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294460","traits":{"email":"bob@example.com"},"properties":{"channel":"SMS"}}`,
		}, ""},
		{"opt-out under the phone's Regal contact", []string{
			`{"type":"identify","anonymousId":"a1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			`{"eventId":"e1","name":"call.completed","originalTimestamp":"1709294400","traits":{"phone":"+19545552399"}}`,
			`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"regal-contact:+19545552399","messageId":"m2","timestamp":"2024-03-01T12:05:00Z","properties":{"channel":"SMS"}}`,
		}, diag.GuardOptedOut},
	} {
		orders := [][]int{{0, 1}, {1, 0}}
		if len(tc.msgs) == 3 {
			orders = [][]int{{0, 1, 2}, {1, 0, 2}, {2, 1, 0}, {1, 2, 0}}
		}
		guardInOrders(t, nil, tc.msgs, orders, "+19545552399", optin.SMS, at, tc.want, tc.name)
	}
}
