package regalkit_test

import (
	"context"
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

// TestGuard_ZeroTimeIsInputError_RuleG2: an at left unset is the zero time, year 1,
// whose calling window says nothing about now; judged, it answered Allowed for a
// subscribed phone whatever the hour. It is an input error, as is a time outside Rule
// D4's years.
func TestGuard_ZeroTimeIsInputError_RuleG2(t *testing.T) {
	f := newFixture(t, nil)
	f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+19175554444","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}`)
	g := f.p.Guard(nil)
	d, err := g.Check(context.Background(), "+19175554444", optin.SMS, rfc("2026-06-10T12:30:00Z"))
	require.NoError(t, err)
	require.True(t, d.Allowed, "the phone is subscribed, and 8:30 is in New York's window")
	for _, at := range []time.Time{{}, time.Date(3000, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 15, 0, 0, 0, time.UTC)} {
		d, err := g.Check(context.Background(), "+19175554444", optin.SMS, at)
		var ge *regalkit.GuardInputError
		require.ErrorAs(t, err, &ge, "at %v", at)
		assert.Equal(t, "at", ge.Field)
		assert.ErrorIs(t, err, regalkit.ErrGuardInput)
		assert.False(t, d.Allowed)
		assert.Contains(t, err.Error(), "time.Now()")
	}
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

// TestGuard_HostZoneNamesIgnored_RuleG3: names a zone directory holds beside the IANA
// zones ("localtime", the host's own zone; "posixrules"; "right/...", clocks counting leap
// seconds) would make the answer depend on the machine: the Guard reads the number's
// zones instead, as for a name it does not know.
func TestGuard_HostZoneNamesIgnored_RuleG3(t *testing.T) {
	for _, name := range []string{"localtime", "posixrules", "right/America/Los_Angeles", "posix/America/Los_Angeles", "Local", "Mars/Olympus"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8","timezone":"` + name + `"},
				"traits":{"phone":"+13105550123","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}`)
			g := f.p.Guard(nil)
			for range 2 { // the second time from what the Guard remembers
				d, err := g.Check(context.Background(), "+13105550123", optin.SMS, rfc("2026-06-10T12:30:00Z")) // 5:30 PDT
				require.NoError(t, err)
				assert.Equal(t, diag.GuardQuietHours, d.Reason)
				assert.Equal(t, "America/Los_Angeles", d.Zone, "the number's zone")
			}
		})
	}
}

// TestGuard_HostZoneNamesFromOptions_RuleG3: a zone name from GuardOptions
// (ContactZone reading a custom trait, FallbackZone) is held to the same shape: a path
// such as "./localtime" would load the host's own zone.
func TestGuard_HostZoneNamesFromOptions_RuleG3(t *testing.T) {
	for _, name := range []string{"./localtime", "./posixrules", "America//Los_Angeles", "LocalTime", "Right/America/Los_Angeles"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},
				"traits":{"phone":"+13105550123","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}`)
			g := f.p.Guard(&regalkit.GuardOptions{ContactZone: func(*contact.Contact) string { return name }})
			d, err := g.Check(context.Background(), "+13105550123", optin.SMS, rfc("2026-06-10T12:30:00Z")) // 5:30 PDT
			require.NoError(t, err)
			assert.Equal(t, diag.GuardQuietHours, d.Reason)
			assert.Equal(t, "America/Los_Angeles", d.Zone, "the number's zone")

			// As a fallback it is a configuration error, as an unknown zone is.
			assert.Panics(t, func() { f.p.Guard(&regalkit.GuardOptions{FallbackZone: name}) })
		})
	}
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
