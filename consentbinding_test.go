package regalkit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/optin"
)

// TestConsentEvent_bindsToTheMessagesPhone_RuleC5: an opt-in or opt-out event (Rule
// C8) whose context.traits carry a phone, applied as traits (ApplyContextTraits),
// binds to that phone, as the same consent sent in an optIn trait does: the phone "in
// the same message" (C5). A review found both bound to the phone primary at the
// message's time: a Stop for one number opted out another, and the Guard allowed
// texting the number that said Stop. Anonymous-only messages (held, Rule I4) bind the
// same way, and an opt-in in a message whose phone was refused applies to no phone.
func TestConsentEvent_bindsToTheMessagesPhone_RuleC5(t *testing.T) {
	opts := func() *regalkit.Options {
		return &regalkit.Options{ApplyContextTraits: true,
			OptInEvents:  map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
			OptOutEvents: map[string][]optin.Channel{"Stop": {optin.SMS}}}
	}
	const primary, other = "+19545552399", "+19175554444"
	at := rfc("2024-03-02T15:00:00Z")
	base := `{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phones":{"` + primary + `":{"isPrimary":true},"` + other + `":{"smsOptIn":{"subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}}}`
	baseIn := `{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T11:00:00Z","traits":{"phones":{"` + primary + `":{"isPrimary":true}}}}`
	stop := `{"type":"track","event":"Stop","messageId":"m2","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"traits":{"phone":"` + other + `"}}}`
	optIn := `{"type":"track","event":"SMS Opt In","messageId":"m2","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8","traits":{"phone":"` + other + `"}}}`
	t.Run("opt-out", func(t *testing.T) {
		guardInOrders(t, opts(), []string{base, stop}, [][]int{{0, 1}, {1, 0}}, other, optin.SMS, at, diag.GuardOptedOut, "the Stop's own phone")
		guardInOrders(t, opts(), []string{base, stop}, [][]int{{0, 1}, {1, 0}}, primary, optin.SMS, at, diag.GuardNotSubscribed, "the primary phone, never opted in or out")
	})
	t.Run("opt-in", func(t *testing.T) {
		guardInOrders(t, opts(), []string{baseIn, optIn}, [][]int{{0, 1}, {1, 0}}, other, optin.SMS, at, "", "the opt-in's own phone")
		guardInOrders(t, opts(), []string{baseIn, optIn}, [][]int{{0, 1}, {1, 0}}, primary, optin.SMS, at, diag.GuardNotSubscribed, "the primary phone, which never opted in")
	})
	t.Run("held, then linked", func(t *testing.T) {
		anon := `{"type":"track","event":"SMS Opt In","messageId":"m2","anonymousId":"a1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8","traits":{"phone":"` + other + `"}}}`
		link := `{"type":"identify","messageId":"m3","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T12:30:00Z"}`
		guardInOrders(t, opts(), []string{baseIn, anon, link}, [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}}, other, optin.SMS, at, "", "the held opt-in's own phone")
		guardInOrders(t, opts(), []string{baseIn, anon, link}, [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}}, primary, optin.SMS, at, diag.GuardNotSubscribed, "the primary phone")
	})
	t.Run("a refused phone", func(t *testing.T) {
		f := newFixture(t, opts())
		f.one(baseIn)
		res := f.one(`{"type":"track","event":"SMS Opt In","messageId":"m2","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8","traits":{"phone":"+11115555555"}}}`)
		codes := map[diag.Code]bool{}
		for _, d := range res.Diagnostics {
			codes[d.Code] = true
		}
		assert.True(t, codes[diag.PhoneInvalid] && codes[diag.OptinInvalid], "%v", res.Diagnostics)
		assert.Equal(t, diag.GuardNotSubscribed, f.guardReason(primary, optin.SMS, at), "the opt-in was given for a refused number, not the primary")
	})
}

// TestEmails_bindsAndReports_RuleT7: an email opt-in sent beside Regal's emails object
// (no email trait) is for that object's primary email, as with an email trait: a
// review found it bound to whatever email the contact had later. And an emails
// entry's isPrimary that is no boolean, or a label (which is not kept), is reported,
// as a phones entry's is.
func TestEmails_bindsAndReports_RuleT7(t *testing.T) {
	a := `{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"emails":{"ann@example.com":{"isPrimary":true}},"optIn":{"channel":"email","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`
	b := `{"type":"identify","messageId":"m2","userId":"u1","timestamp":"2024-03-01T13:00:00Z","traits":{"email":"bob@example.com"}}`
	for _, order := range [][]string{{a, b}, {b, a}} {
		f := newFixture(t, nil)
		for _, m := range order {
			f.one(m)
		}
		c := f.user("u1")
		assert.Equal(t, "bob@example.com", c.Email())
		hist := c.ConsentView().History()
		require.Len(t, hist, 1)
		assert.Equal(t, "ann@example.com", hist[0].Address, "bound to the message's email")
	}
	f := newFixture(t, nil)
	res := f.one(`{"type":"identify","messageId":"m3","userId":"u2","timestamp":"2024-03-01T12:00:00Z","traits":{"emails":{"bob@example.com":{"isPrimary":"maybe","label":5},"cy@example.com":{"label":"work"}}}}`)
	reported := map[string]int{} // by the field's last part: the addresses are masked
	for _, d := range res.Diagnostics {
		if d.Code == diag.TraitInvalid {
			reported[d.Field[strings.LastIndexByte(d.Field, '.')+1:]]++
		}
	}
	assert.Equal(t, 1, reported["isPrimary"], "%v", res.Diagnostics)
	assert.Equal(t, 2, reported["label"], "%v", res.Diagnostics)
}

// TestTraits_twoSpellingsOfOneTrait_RuleT1: first_name and FirstName are one trait
// (T1): a message that gives both, with different values, keeps one, the same whatever
// their order, and reports both keys (which one lost depends on the values, not on
// where they stand; a review found the kept one reported when it came second); with
// equal values nothing is lost, and nothing is said. A review found one value dropped
// silently.
func TestTraits_twoSpellingsOfOneTrait_RuleT1(t *testing.T) {
	for _, pair := range [][2]string{{`"first_name":"Xavier"`, `"FirstName":"Yann"`}, {`"firstName":"Ann"`, `"first_name":"Bob"`}} {
		var kept []string
		for _, traits := range []string{pair[0] + "," + pair[1], pair[1] + "," + pair[0]} {
			f := newFixture(t, nil)
			res := f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","traits":{` + traits + `}}`)
			var fields []string
			for _, d := range res.Diagnostics {
				assert.Equal(t, diag.TraitInvalid, d.Code)
				fields = append(fields, d.Field)
			}
			key := func(s string) string { return "traits." + s[1:strings.Index(s[1:], `"`)+1] }
			assert.ElementsMatch(t, []string{key(pair[0]), key(pair[1])}, fields, "both keys reported")
			kept = append(kept, f.user("u1").FirstName())
		}
		assert.Equal(t, kept[0], kept[1], "the same value kept whatever the keys' order")
	}
	f := newFixture(t, nil)
	res := f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","traits":{"first_name":"Ann","FirstName":"Ann","plan":"a","Plan":"b"}}`)
	assert.Empty(t, res.Diagnostics, "equal values, and custom keys (kept as sent, T1), lose nothing")
}

// TestConsent_twoPhonesUnderOneTrait_RulesC5T1: a message that gives two numbers as its
// phone (phone and Phone, T1) names no phone its consent could be for: an opt-in
// naming none is refused, as in a message whose phone was refused, in an optIn trait
// and in an opt-in event alike, and whatever the keys' order. A review found the
// record bound to the number of the key that came last, which the contact may not
// keep: consent for a number by where a key stood.
func TestConsent_twoPhonesUnderOneTrait_RulesC5T1(t *testing.T) {
	const a, b = "+19545552399", "+19175554444"
	at := rfc("2024-03-02T15:00:00Z")
	opts := func() *regalkit.Options {
		return &regalkit.Options{ApplyContextTraits: true, OptInEvents: map[string][]optin.Channel{"SMS Opt In": {optin.SMS}}}
	}
	for _, keys := range [][2]string{{"phone", "Phone"}, {"Phone", "phone"}} {
		phones := `"` + keys[0] + `":"` + a + `","` + keys[1] + `":"` + b + `"`
		for name, msg := range map[string]string{
			"optIn trait":  `{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{` + phones + `,"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`,
			"opt-in event": `{"type":"track","event":"SMS Opt In","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8","traits":{` + phones + `}}}`,
		} {
			f := newFixture(t, opts())
			res := f.one(msg)
			codes := map[diag.Code]int{}
			for _, d := range res.Diagnostics {
				codes[d.Code]++
			}
			assert.Equal(t, 1, codes[diag.OptinInvalid], "%s %v: %v", name, keys, res.Diagnostics)
			for _, p := range []string{a, b} {
				assert.Equal(t, diag.GuardNotSubscribed, f.guardReason(p, optin.SMS, at), "%s %v: %s", name, keys, p)
			}
		}
	}
	// An opt-out in such a message is honoured on each of its numbers: a review found it
	// on one only, the other left subscribed though the person sent it.
	for _, keys := range [][2]string{{"phone", "Phone"}, {"Phone", "phone"}} {
		f := newFixture(t, opts())
		f.one(`{"type":"identify","messageId":"m0","userId":"u1","timestamp":"2024-03-01T11:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"phones":{"` + a + `":{"isPrimary":true,"smsOptIn":{"subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}},"` + b + `":{"smsOptIn":{"subscribed":true,"timestamp":"2024-03-01T11:00:00Z"}}}}}`)
		f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","traits":{"` + keys[0] + `":"` + a + `","` + keys[1] + `":"` + b + `","optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:00:00Z"}}}`)
		for _, p := range []string{a, b} {
			assert.Equal(t, diag.GuardOptedOut, f.guardReason(p, optin.SMS, at), "%v: %s", keys, p)
		}
	}
	// email and emails (the email form of C5): the email trait is the message's email
	// whatever the keys' order (a review found it bound by their order).
	var bound []string
	for _, traits := range []string{`"email":"ann@example.com","emails":{"zed@example.com":{"isPrimary":true}}`, `"emails":{"zed@example.com":{"isPrimary":true}},"email":"ann@example.com"`} {
		f := newFixture(t, nil)
		f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{` + traits + `,"optIn":{"channel":"email","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`)
		hist := f.user("u1").ConsentView().History()
		require.Len(t, hist, 1)
		bound = append(bound, hist[0].Address)
	}
	assert.Equal(t, []string{"ann@example.com", "ann@example.com"}, bound)
	// Two emails: the email records bind as the contact's email, the one kept.
	for _, keys := range [][2]string{{"email", "E-mail"}, {"E-mail", "email"}} {
		f := newFixture(t, nil)
		f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},"traits":{"` + keys[0] + `":"ann@example.com","` + keys[1] + `":"bob@example.com","optIn":{"channel":"email","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`)
		c := f.user("u1")
		hist := c.ConsentView().History()
		require.Len(t, hist, 1)
		assert.Empty(t, hist[0].Address, "%v: bound to no address the message chose by key order", keys)
	}
}

// TestDiagnostics_boundedPerMessage_RulesD7T10: a message cannot make its answer many
// times its own size. A review sent 16 identifies of 30 KB, each with an optIn array of
// 15,000 records of two bytes: the webhook answered 60 MB, 240,000 diagnostics. An
// optIn array is read for its first 100 records, and a result carries at most 100
// diagnostics, the last counting the rest; a message of thousands of tiny traits
// (T10's 300) is held to the same.
func TestDiagnostics_boundedPerMessage_RulesD7T10(t *testing.T) {
	recs := strings.TrimSuffix(strings.Repeat("1,", 15000), ",")
	keys := make([]string, 3000)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"k%d":0`, i)
	}
	for name, c := range map[string]struct {
		traits    string
		wantCodes map[diag.Code]bool
		more      string
	}{
		// 100 records read and refused, and one trait.limit for the rest: 101.
		"optIn records": {`"optIn":[` + recs + `]`, map[diag.Code]bool{diag.OptinInvalid: true, diag.MessageLimit: true}, "2 more diagnostics"},
		// 2,700 keys past T10's 300, each refused.
		"traits": {strings.Join(keys, ","), map[diag.Code]bool{diag.TraitLimit: true, diag.MessageLimit: true}, "2601 more diagnostics"},
		// 120 valid records: 100 read, 20 refused in one trait.limit.
		"valid records": {`"optIn":[` + strings.TrimSuffix(strings.Repeat(`{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:00:00Z"},`, 120), ",") + `]`, map[diag.Code]bool{diag.TraitLimit: true}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			res := f.one(`{"type":"identify","messageId":"m1","userId":"u1","timestamp":"2024-03-01T12:00:00Z","traits":{` + c.traits + `}}`)
			assert.LessOrEqual(t, len(res.Diagnostics), regalkit.MaxDiagnostics)
			codes := map[diag.Code]bool{}
			for _, d := range res.Diagnostics {
				codes[d.Code] = true
				assert.Equal(t, "m1", d.MessageID)
			}
			assert.Equal(t, c.wantCodes, codes)
			last := res.Diagnostics[len(res.Diagnostics)-1]
			if c.more == "" {
				require.Len(t, res.Diagnostics, 1)
				assert.Equal(t, diag.TraitLimit, last.Code)
				assert.Contains(t, last.Message, "optIn holds 120 records")
				return
			}
			assert.Equal(t, diag.MessageLimit, last.Code)
			assert.Contains(t, last.Message, c.more)
		})
	}
}
