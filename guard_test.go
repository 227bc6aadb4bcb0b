package regalkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/callwindow"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

func rfc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// guardFixture has subscribed contacts for real numbers across US zones, a phone two
// contacts share with a newer opt-out on one, one they share with an older opt-out, a
// phone that replied STOP and a phone nobody opted in.
func guardFixture(t testing.TB) *fixture {
	f := newFixture(t, nil)
	sub := func(user, phone, at string, subscribed bool) {
		f.one(fmt.Sprintf(`{"type":"identify","userId":%q,"messageId":"id-%s","timestamp":"2024-03-01T11:00:00Z",
			"traits":{"phone":%q,"optIn":{"channel":"sms","subscribed":%t,"timestamp":%q,"ip":"8.8.8.8"}}}`, user, user, phone, subscribed, at))
	}
	sub("ny", "(917) 555-4444", "2024-03-01T11:00:00Z", true)
	sub("la", "+1 310 555 0123", "2024-03-01T11:00:00Z", true)
	sub("austin", "512-555-0100", "2024-03-01T11:00:00Z", true)
	sub("phoenix", "+19285550100", "2024-03-01T11:00:00Z", true)
	sub("tollfree", "1-800-555-0199", "2024-03-01T11:00:00Z", true)
	sub("intl", "+80012345678", "2024-03-01T11:00:00Z", true)
	sub("shared1", "+15125550101", "2024-03-01T11:00:00Z", true)
	sub("shared2", "+15125550101", "2024-03-01T11:30:00Z", false)
	sub("shared3", "+15125550102", "2024-03-01T10:00:00Z", false)
	sub("shared4", "+15125550102", "2024-03-01T11:00:00Z", true)
	sub("stopped", "+13105550124", "2024-03-01T11:00:00Z", true)
	f.receive(regalkit.InboundSMS{From: "+13105550124", Body: "STOP", Time: rfc("2024-03-02T09:00:00Z"), MessageID: "s1"})
	return f
}

// TestGuard_RuleG1G4 is the Guard's table: real numbers in New York (917), Los Angeles
// (310), Austin (512, US Central), Phoenix (928, no DST), a toll-free 800 number, both
// 2026 DST transition days and phones shared by two contacts.
func TestGuard_RuleG1G4(t *testing.T) {
	f := guardFixture(t)
	g := f.p.Guard(nil)
	tests := []struct {
		name    string
		phone   string
		channel optin.Channel
		at      string
		reason  diag.Code // "" when allowed
		next    string
		zone    string
	}{
		{"new york noon", "+19175554444", optin.SMS, "2026-06-10T16:00:00Z", "", "2026-06-10T16:00:00Z", "America/New_York"},
		{"new york 7:30", "917.555.4444", optin.SMS, "2026-06-10T11:30:00Z", diag.GuardQuietHours, "2026-06-10T12:00:00Z", "America/New_York"},
		{"new york 21:00", "+19175554444", optin.SMS, "2026-06-11T01:00:00Z", diag.GuardQuietHours, "2026-06-11T12:00:00Z", "America/New_York"},
		{"los angeles 9:00", "+13105550123", optin.SMS, "2026-06-10T16:00:00Z", "", "2026-06-10T16:00:00Z", "America/Los_Angeles"},
		{"los angeles 7:00", "+13105550123", optin.SMS, "2026-06-10T14:00:00Z", diag.GuardQuietHours, "2026-06-10T15:00:00Z", "America/Los_Angeles"},
		{"austin 20:30", "+15125550100", optin.SMS, "2026-06-11T01:30:00Z", "", "2026-06-11T01:30:00Z", "America/Chicago"},
		{"austin 21:00", "+15125550100", optin.SMS, "2026-06-11T02:00:00Z", diag.GuardQuietHours, "2026-06-11T13:00:00Z", "America/Chicago"},
		{"phoenix summer 7:30 MST", "+19285550100", optin.SMS, "2026-07-01T14:30:00Z", diag.GuardQuietHours, "2026-07-01T15:00:00Z", "America/Phoenix"},
		{"phoenix summer 8:00 MST", "+19285550100", optin.SMS, "2026-07-01T15:00:00Z", "", "2026-07-01T15:00:00Z", "America/Phoenix"},
		{"new york dst start 8:30 EDT", "+19175554444", optin.SMS, "2026-03-08T12:30:00Z", "", "2026-03-08T12:30:00Z", "America/New_York"},
		{"new york day before dst 7:30 EST", "+19175554444", optin.SMS, "2026-03-07T12:30:00Z", diag.GuardQuietHours, "2026-03-07T13:00:00Z", "America/New_York"},
		{"phoenix dst start day 7:30 MST", "+19285550100", optin.SMS, "2026-03-08T14:30:00Z", diag.GuardQuietHours, "2026-03-08T15:00:00Z", "America/Phoenix"},
		{"austin dst end 7:30 CST", "+15125550100", optin.SMS, "2026-11-01T13:30:00Z", diag.GuardQuietHours, "2026-11-01T14:00:00Z", "America/Chicago"},
		{"austin dst end 20:30 CST", "+15125550100", optin.SMS, "2026-11-02T02:30:00Z", "", "2026-11-02T02:30:00Z", "America/Chicago"},
		// A toll-free number may ring from Guam (UTC+10) to Pago Pago (UTC-11): 8:00 in
		// Guam (22:00Z) to 21:00 in St. John's (23:30Z) is the only common span.
		{"toll-free at noon in new york", "+18005550199", optin.SMS, "2026-06-10T16:00:00Z", diag.GuardQuietHours, "2026-06-10T22:00:00Z", ""},
		{"toll-free in every zone's window", "1-800-555-0199", optin.SMS, "2026-06-10T22:30:00Z", "", "2026-06-10T22:30:00Z", ""},
		{"toll-free after st john's closes", "+18005550199", optin.SMS, "2026-06-10T23:30:00Z", diag.GuardQuietHours, "2026-06-11T22:00:00Z", ""},
		{"international freephone: zone unknown", "+80012345678", optin.SMS, "2026-06-10T16:00:00Z", diag.GuardUnknownZone, "", ""},
		{"voice never opted in", "+19175554444", optin.Voice, "2026-06-10T16:00:00Z", diag.GuardNotSubscribed, "", "America/New_York"},
		{"unknown phone", "+12125550123", optin.SMS, "2026-06-10T16:00:00Z", diag.GuardNotSubscribed, "", "America/New_York"},
		{"shared, newer opt-out on one", "+15125550101", optin.SMS, "2026-06-10T16:00:00Z", diag.GuardOptedOut, "", "America/Chicago"},
		{"shared, older opt-out on one", "+15125550102", optin.SMS, "2026-06-10T16:00:00Z", "", "2026-06-10T16:00:00Z", "America/Chicago"},
		{"replied STOP", "+13105550124", optin.SMS, "2026-06-10T18:00:00Z", diag.GuardOptedOut, "", "America/Los_Angeles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := g.Check(context.Background(), tc.phone, tc.channel, rfc(tc.at))
			require.NoError(t, err)
			assert.Equal(t, tc.reason == "", d.Allowed)
			assert.Equal(t, tc.reason, d.Reason)
			if tc.next == "" {
				assert.True(t, d.NextAllowed.IsZero(), "nextAllowed %v", d.NextAllowed)
			} else {
				assert.True(t, rfc(tc.next).Equal(d.NextAllowed), "nextAllowed %v, want %s", d.NextAllowed, tc.next)
			}
			if tc.zone != "" {
				assert.Equal(t, tc.zone, d.Zone)
			}
		})
	}
}

// TestGuard_Options_RuleG2G3: a regional override ends earlier; a fallback zone stands
// in for an unknown one; a contact's own zone replaces the number's.
func TestGuard_Options_RuleG2G3(t *testing.T) {
	f := guardFixture(t)
	ctx := context.Background()
	g := f.p.Guard(&regalkit.GuardOptions{
		Windows:      callwindow.Table{Overrides: map[string]callwindow.Window{"+1512": {Start: callwindow.At(8, 0), End: callwindow.At(20, 0)}}},
		FallbackZone: "Europe/Berlin",
		ContactZone: func(c *contact.Contact) string {
			if c.UserID() == "la" {
				return "America/New_York" // told by the person, wins over the 310 area code
			}
			return ""
		},
	})
	d, err := g.Check(ctx, "+15125550100", optin.SMS, rfc("2026-06-11T01:30:00Z")) // 20:30 CDT
	require.NoError(t, err)
	assert.Equal(t, diag.GuardQuietHours, d.Reason)
	d, err = g.Check(ctx, "+80012345678", optin.SMS, rfc("2026-06-10T10:00:00Z")) // 12:00 in Berlin
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, "Europe/Berlin", d.Zone)
	d, err = g.Check(ctx, "+13105550123", optin.SMS, rfc("2026-06-10T12:30:00Z")) // 8:30 EDT, 5:30 PDT
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, "America/New_York", d.Zone)

	assert.Panics(t, func() { f.p.Guard(&regalkit.GuardOptions{FallbackZone: "Mars/Olympus"}) })
	assert.Panics(t, func() {
		f.p.Guard(&regalkit.GuardOptions{Windows: callwindow.Table{Default: callwindow.Window{Start: callwindow.At(21, 0), End: callwindow.At(8, 0)}}})
	})
}

// TestGuard_Input: an unreadable phone or channel is an error matching ErrGuardInput
// that holds no whole phone.
func TestGuard_Input(t *testing.T) {
	f := newFixture(t, nil)
	g := f.p.Guard(nil)
	_, err := g.Check(context.Background(), "+1 555 555 5555", optin.SMS, t0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, regalkit.ErrGuardInput))
	var ge *regalkit.GuardInputError
	require.True(t, errors.As(err, &ge))
	assert.Equal(t, "phone", ge.Field)
	assert.NotContains(t, err.Error(), "5555555")
	_, err = g.Check(context.Background(), "+19175554444", optin.Email, t0)
	assert.True(t, errors.Is(err, regalkit.ErrGuardInput))
	_, err = g.Check(context.Background(), "+19175554444", optin.Channel("fax"), t0)
	assert.True(t, errors.Is(err, regalkit.ErrGuardInput))
}

// TestGuard_ContextTimezone_RuleG3: the zone an identify's context.timezone told wins
// over the number's, and a later identify's over an earlier one's.
func TestGuard_ContextTimezone_RuleG3(t *testing.T) {
	f := newFixture(t, nil)
	f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8","timezone":"America/Los_Angeles"},
		"traits":{"phone":"+19175554444","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}`)
	f.one(`{"type":"identify","userId":"u1","messageId":"m0","timestamp":"2024-03-01T10:00:00Z","context":{"timezone":"America/Chicago"},"traits":{}}`)
	assert.Equal(t, "America/Los_Angeles", f.user("u1").TimeZone())
	g := f.p.Guard(nil)
	d, err := g.Check(context.Background(), "+19175554444", optin.SMS, rfc("2026-06-10T12:30:00Z")) // 8:30 EDT, 5:30 PDT
	require.NoError(t, err)
	assert.Equal(t, diag.GuardQuietHours, d.Reason)
	assert.Equal(t, "America/Los_Angeles", d.Zone)
	assert.Equal(t, rfc("2026-06-10T15:00:00Z"), d.NextAllowed)
}

// TestGuard_Concurrent: a Guard is safe for concurrent use (run with -race), and
// concurrent replies and checks agree once both are done.
func TestGuard_Concurrent(t *testing.T) {
	f := guardFixture(t)
	g := f.p.Guard(nil)
	phones := []string{"+19175554444", "+13105550123", "+15125550100", "+19285550100", "+18005550199"}
	done := make(chan error, 2*len(phones))
	for i, ph := range phones {
		go func() {
			_, err := g.Check(context.Background(), ph, optin.SMS, rfc("2026-06-10T16:00:00Z"))
			done <- err
		}()
		go func() {
			_, err := f.p.ReceiveSMS(context.Background(), regalkit.InboundSMS{From: ph, Body: "STOP", Time: t0, MessageID: fmt.Sprintf("c%d", i)})
			done <- err
		}()
	}
	for range 2 * len(phones) {
		require.NoError(t, <-done)
	}
	for _, ph := range phones {
		d, err := g.Check(context.Background(), ph, optin.SMS, rfc("2026-06-10T16:00:00Z"))
		require.NoError(t, err)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, ph)
	}
}

// BenchmarkGuardCheck is one Check of a subscribed phone whose zone comes from its
// number (Rule G3): two store lookups, the consent across contacts, the zone, the
// window.
//
// Reproduce with: go test -run '^$' -bench GuardCheck -benchmem .
func BenchmarkGuardCheck(b *testing.B) {
	f := guardFixture(b)
	g := f.p.Guard(nil)
	ctx, at := context.Background(), rfc("2026-06-10T16:00:00Z")
	for b.Loop() {
		d, err := g.Check(ctx, "+19175554444", optin.SMS, at)
		if err != nil || !d.Allowed {
			b.Fatalf("%+v, %v", d, err)
		}
	}
}

// TestGuard_RegalOptOutOfASharedPhone: a Regal opt-out without a userId for a phone two
// contacts share finds no single contact and stays on the phone's anonymous Regal
// contact (Rule R5); the Guard counts it all the same, in either order and whatever
// format Regal writes the phone in (Rule G1).
func TestGuard_RegalOptOutOfASharedPhone(t *testing.T) {
	at := rfc("2026-06-10T16:00:00Z") // noon in Miami
	optIn := func(user string) string {
		return identifyPhone(user, "+19545552399", `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"8.8.8.8"}`)
	}
	unsub := `{"name":"contact.unsubscribed","eventId":"e-shared","traits":{"phone":"+1 (954) 555-2399"},"originalTimestamp":"` +
		strconv.FormatInt(rfc("2024-03-02T11:00:00Z").Unix(), 10) + `","eventSource":"Regal Voice","properties":{"channel":"SMS","text":"STOP"}}`
	for _, regalFirst := range []bool{false, true} {
		f := newFixture(t, nil)
		if regalFirst {
			f.processRegal(unsub)
		}
		f.one(optIn("u1"))
		f.one(optIn("u2"))
		if !regalFirst {
			f.processRegal(unsub)
		}
		d, err := f.p.Guard(nil).Check(context.Background(), "+19545552399", optin.SMS, at)
		require.NoError(t, err)
		assert.False(t, d.Allowed, "regal first: %v", regalFirst)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "regal first: %v", regalFirst)
	}
}

// TestGuard_RegalConsentAboutAnotherPhone_RuleG1: a Regal consent event without a
// userId is about its properties.phone, which may not be the phone its traits name
// (the Regal contact's primary). When it finds no contact, it stays on the anonymous
// contact of the phone it is about, where the Guard looks: its opt-out counts in
// either arrival order.
func TestGuard_RegalConsentAboutAnotherPhone_RuleG1(t *testing.T) {
	identify := `{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phones":{"+19545552399":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}},"+12125550123":{}}}}`
	unsub := `{"name":"contact.unsubscribed","eventId":"e1","originalTimestamp":"1709294460","properties":{"channel":"voice","phone":"+19545552399"},"traits":{"phone":"+12125550123"}}`
	at := time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC)
	for _, regalFirst := range []bool{true, false} {
		f := newFixture(t, nil)
		if regalFirst {
			f.processRegal(unsub)
		}
		f.one(identify)
		if !regalFirst {
			f.processRegal(unsub)
		}
		d, err := f.p.Guard(nil).Check(context.Background(), "+19545552399", optin.Voice, at)
		require.NoError(t, err)
		assert.False(t, d.Allowed, "regal first: %v", regalFirst)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "regal first: %v", regalFirst)
	}
}

// TestGuard_MatchedRegalOptOutStaysWithThePhone_RuleG1: a Regal opt-out without a
// userId that matched the contact holding the phone still counts for the phone after a
// late link moves the message that gave that contact the phone to another user (Rule
// I4): the record is also kept on the phone's own Regal contact. Same answer in every
// arrival order of the four messages.
func TestGuard_MatchedRegalOptOutStaysWithThePhone_RuleG1(t *testing.T) {
	const phone = "+19545552399"
	msgs := []string{
		`{"type":"identify","messageId":"m1","userId":"u2","anonymousId":"a1","timestamp":"2024-03-01T12:10:00Z"}`,
		`{"type":"identify","messageId":"m2","anonymousId":"a1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
			"traits":{"phones":{"` + phone + `":{"voiceOptIn":{"subscribed":true,"timestamp":"2024-03-01T11:59:00Z"}}}}}`,
		`{"type":"track","messageId":"m4","userId":"u1","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:05:00Z"}`,
	}
	unsub := `{"name":"contact.unsubscribed","eventId":"e3","originalTimestamp":"1709294700","properties":{"channel":"voice","phone":"` + phone + `"},"traits":{"phone":"` + phone + `"}}`
	at := time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC)
	for _, order := range [][]int{{0, 1, 3, 2}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 0, 3, 1}, {1, 3, 0, 2}} {
		f := newFixture(t, nil)
		for _, i := range order {
			if i == 3 {
				f.processRegal(unsub)
			} else {
				f.one(msgs[i])
			}
		}
		d, err := f.p.Guard(nil).Check(context.Background(), phone, optin.Voice, at)
		require.NoError(t, err)
		assert.False(t, d.Allowed, "order %v", order)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "order %v", order)
	}
}

// TestGuard_RegalOptOutEveryDoor_RuleG1: a Regal opt-out without a userId counts for
// its phone whatever contact the event itself went to: through Regal's Segment source
// with a Segment anonymousId, or through the webhook with the phone written in a
// national form that regalio cannot make E.164 but the Processor's region can. Both
// arrival orders.
func TestGuard_RegalOptOutEveryDoor_RuleG1(t *testing.T) {
	at := time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, phone, identify, regal string
		segment                      bool
		opts                         *regalkit.Options
	}{
		{
			name:     "Segment source, Segment anonymousId",
			phone:    nyPhone,
			identify: identifyPhone("u1", nyPhone, optInSMS),
			regal: `{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"xyz","messageId":"s1","timestamp":"2024-03-01T12:00:00Z",
				"properties":{"channel":"sms","phone":"` + nyPhone + `"},"context":{"traits":{"phone":"` + nyPhone + `"}}}`,
			segment: true,
		},
		{
			name:     "webhook, national number, region GB",
			phone:    "+447911123456",
			identify: `{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","traits":{"phone":"07911 123456","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"1.2.3.4"}}}`,
			regal:    `{"eventId":"e1","name":"contact.unsubscribed","originalTimestamp":"1709294400","traits":{"phone":"07911 123456"},"properties":{"channel":"SMS","phone":"07911 123456"}}`,
			opts:     &regalkit.Options{Region: "GB"},
		},
	} {
		for _, regalFirst := range []bool{true, false} {
			f := newFixture(t, tc.opts)
			send := func() {
				if tc.segment {
					f.one(tc.regal)
				} else {
					f.processRegal(tc.regal)
				}
			}
			if regalFirst {
				send()
			}
			f.one(tc.identify)
			if !regalFirst {
				send()
			}
			d, err := f.p.Guard(nil).Check(context.Background(), tc.phone, optin.SMS, at)
			require.NoError(t, err)
			assert.Equal(t, diag.GuardOptedOut, d.Reason, "%s, regal first: %v", tc.name, regalFirst)
		}
	}
}

// TestGuard_RegalOptOutOnALinkedAnonymousContact_RuleG1: a Regal event matched an
// anonymous contact by phone, which then holds the event under the phone's Regal
// anonymousId; a Regal opt-out for that phone from Regal's Segment source lands on the
// same anonymous contact, which a user later links. The opt-out still counts for the
// phone, in every arrival order.
func TestGuard_RegalOptOutOnALinkedAnonymousContact_RuleG1(t *testing.T) {
	const other = "+19175554444"
	msgs := []string{
		`{"type":"identify","anonymousId":"a2","messageId":"m1","timestamp":"2024-03-01T12:06:00Z","traits":{"phone":"` + other + `"}}`,
		`{"eventId":"e1","name":"sms.received","originalTimestamp":"1709294700","eventSource":"Regal Voice","traits":{"phone":"` + other + `"},"properties":{"content":"hi","contact_phone":"+19545552399"}}`,
		`{"type":"track","event":"contact.unsubscribed","eventSource":"Regal Voice","anonymousId":"a2","messageId":"m2","timestamp":"2024-03-01T12:05:00Z","properties":{"channel":"SMS","phone":"+19545552399"}}`,
		`{"type":"identify","userId":"u3","anonymousId":"a2","messageId":"m3","timestamp":"2024-03-01T12:01:00Z","traits":{}}`,
	}
	at := time.Date(2024, 3, 1, 14, 0, 0, 0, time.UTC)
	for _, order := range [][]int{{3, 2, 1, 0}, {0, 1, 2, 3}, {1, 0, 3, 2}, {0, 1, 3, 2}} {
		f := newFixture(t, nil)
		for _, i := range order {
			if i == 1 {
				f.processRegal(msgs[i])
			} else {
				f.one(msgs[i])
			}
		}
		d, err := f.p.Guard(nil).Check(context.Background(), "+19545552399", optin.SMS, at)
		require.NoError(t, err)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "order %v", order)
	}
}

// TestGuard_RegalTraitsNotApplied_RuleR5: with ApplyContextTraits on, a Regal event
// without a userId that matched a contact by phone does not give it the phone: when a
// later link takes the phone's message away (Rule I4), the contact has no phone in
// every arrival order, and its own opt-in does not start counting for the phone.
func TestGuard_RegalTraitsNotApplied_RuleR5(t *testing.T) {
	const phone = "+19175554444"
	opts := func() *regalkit.Options {
		return &regalkit.Options{ApplyContextTraits: true, OptInEvents: map[string][]optin.Channel{"Call Opt In": {optin.Voice}}}
	}
	msgs := []string{
		`{"type":"identify","anonymousId":"a2","messageId":"m1","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"` + phone + `"}}`,
		`{"eventId":"e1","name":"sms.received","originalTimestamp":"1709294700","eventSource":"Regal Voice","traits":{"phone":"` + phone + `"},"properties":{"content":"hi"}}`,
		`{"type":"track","event":"Call Opt In","userId":"u1","anonymousId":"a2","messageId":"m3","timestamp":"2024-03-01T12:06:00Z","context":{"ip":"8.8.8.8"}}`,
		`{"type":"identify","userId":"u2","anonymousId":"a2","messageId":"m4","timestamp":"2024-03-01T12:03:00Z","traits":{}}`,
	}
	at := time.Date(2024, 3, 1, 14, 0, 0, 0, time.UTC)
	var reasons []diag.Code
	for _, order := range [][]int{{0, 1, 2, 3}, {2, 0, 1, 3}} {
		f := newFixture(t, opts())
		for _, i := range order {
			if i == 1 {
				f.processRegal(msgs[i])
			} else {
				f.one(msgs[i])
			}
		}
		d, err := f.p.Guard(nil).Check(context.Background(), phone, optin.Voice, at)
		require.NoError(t, err)
		reasons = append(reasons, d.Reason)
	}
	assert.Equal(t, reasons[0], reasons[1])
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
	a, b := msg(`{}`), msg(`{"ip":"8.8.8.8"}`)
	var histories []string
	for _, order := range [][2]string{{a, b}, {b, a}} {
		f := newFixture(t, nil)
		f.one(order[0])
		f.one(order[1])
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

// TestGuard_AnonymousContactThatLostThePhone_RuleG1: an anonymous contact that took in
// a Regal event by phone (Rule R5) holds it under the phone's Regal anonymousId, but is
// not the phone's own Regal contact: once it loses the phone, its records no longer
// count for the phone, in either arrival order.
func TestGuard_AnonymousContactThatLostThePhone_RuleG1(t *testing.T) {
	const phone = "+19545552399"
	m1 := `{"type":"identify","messageId":"m1","anonymousId":"a1","timestamp":"2024-03-01T12:01:00Z",
		"traits":{"phone":"` + phone + `","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:01:00Z","ip":"1.2.3.4"}}}`
	m2 := `{"type":"identify","messageId":"m2","anonymousId":"a1","timestamp":"2024-03-01T12:02:00Z","traits":{"phones":{"` + phone + `":null}}}`
	r := `{"eventId":"e1","name":"call.completed","traits":{"phone":"` + phone + `"},"originalTimestamp":"1709294700","eventSource":"Regal Voice"}`
	at := time.Date(2024, 3, 1, 20, 0, 0, 0, time.UTC)
	for _, regalSecond := range []bool{false, true} {
		f := newFixture(t, nil)
		f.one(m1)
		if regalSecond {
			f.processRegal(r)
			f.one(m2)
		} else {
			f.one(m2)
			f.processRegal(r)
		}
		d, err := f.p.Guard(nil).Check(context.Background(), phone, optin.SMS, at)
		require.NoError(t, err)
		assert.Equal(t, diag.GuardNotSubscribed, d.Reason, "regal second: %v", regalSecond)
	}
}
