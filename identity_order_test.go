package regalkit_test

import (
	"slices"
	"strings"
	"testing"
)

// permutations calls f with every order of msgs.
func permutations(msgs []string, f func([]string)) {
	var rec func(k int)
	p := slices.Clone(msgs)
	rec = func(k int) {
		if k == len(p) {
			f(slices.Clone(p))
			return
		}
		for i := k; i < len(p); i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

// requireSameInEveryOrder replays msgs in every order, and every order again with each
// message delivered twice (the second copies after the first ones, reversed), and
// requires the contacts of the input order every time (Rule S3), hidden contacts
// included; it returns the contacts that show (hidden ones left out).
func requireSameInEveryOrder(t *testing.T, msgs []string) []string {
	t.Helper()
	want := replayAll(t, msgs)
	permutations(msgs, func(order []string) {
		again := slices.Clone(order)
		slices.Reverse(again)
		for _, o := range [][]string{order, append(slices.Clone(order), again...)} {
			if got := replayAll(t, o); !slices.Equal(want, got) {
				t.Fatalf("order changed the contacts\nmessages:\n  %s\nwant:\n  %s\ngot:\n  %s",
					strings.Join(o, "\n  "), strings.Join(want, "\n  "), strings.Join(got, "\n  "))
			}
		}
	})
	return visible(want)
}

// TestDeleteThenRelink_RuleI7 is the second reproducer of issue 11: what happened after
// a delete (m2's link, m4's page) belongs to the fresh contact in every order, and what
// happened before it is gone.
func TestDeleteThenRelink_RuleI7(t *testing.T) {
	msgs := []string{
		`{"type":"identify","messageId":"m1","userId":"u2","anonymousId":"a2","timestamp":"2024-03-01T12:01:00Z","traits":{"firstName":"Old"}}`,
		`{"type":"identify","messageId":"m2","userId":"u2","anonymousId":"a2","timestamp":"2024-03-01T12:05:00Z","traits":{"lastName":"New"}}`,
		`{"type":"delete","messageId":"m3","userId":"u2","timestamp":"2024-03-01T12:03:00Z"}`,
		`{"type":"page","messageId":"m4","anonymousId":"a2","name":"Home","timestamp":"2024-03-01T12:06:00Z"}`,
	}
	got := requireSameInEveryOrder(t, msgs) // m1's link stays, hidden: a ghost (Rule I7)
	if len(got) != 1 {
		t.Fatalf("want one contact, u2's fresh one; got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, want := range []string{`"userId":"u2"`, `"anonymousIds":["a2"]`, `"lastName":"New"`, `"messageId":"m4"`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the fresh contact lacks %s:\n%s", want, got[0])
		}
	}
	if strings.Contains(got[0], "Old") {
		t.Errorf("what m1 said before the delete survived it:\n%s", got[0])
	}
}

// TestDeleteBetweenResentConsent_RuleI7: a consent record that the browser library
// re-sends on both sides of a delete survives it, carried by its latest message, in
// every order; one sent only before it is gone (Rules I7, C7).
func TestDeleteBetweenResentConsent_RuleI7(t *testing.T) {
	optIn := `"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"8.8.8.8"}`
	msgs := []string{
		`{"type":"identify","messageId":"m1","userId":"u2","timestamp":"2024-03-01T12:01:00Z","traits":{` + optIn + `}}`,
		`{"type":"identify","messageId":"m2","userId":"u2","timestamp":"2024-03-01T12:04:00Z","traits":{` + optIn + `}}`,
		`{"type":"identify","messageId":"m5","userId":"u2","timestamp":"2024-03-01T12:05:00Z","traits":{` + optIn + `}}`,
		`{"type":"delete","messageId":"m3","userId":"u2","timestamp":"2024-03-01T12:03:00Z"}`,
	}
	got := requireSameInEveryOrder(t, msgs)
	if len(got) != 1 || !strings.Contains(got[0], `"sms":"subscribed"`) || !strings.Contains(got[0], `"messageId":"m5"`) {
		t.Fatalf("want u2 subscribed on sms by the record m5 carried last; got:\n%s", strings.Join(got, "\n"))
	}
	if strings.Contains(got[0], `"m1"`) {
		t.Errorf("m1, before the delete, is still named:\n%s", got[0])
	}
}

// TestDeleteAndSharedAnonymousID_RuleI7: an anonymous-only message that happened before
// a delete goes to the user linked to its anonymous ID at the time, whichever user was
// deleted, in every order (Rules I4, I7).
func TestDeleteAndSharedAnonymousID_RuleI7(t *testing.T) {
	msgs := []string{
		`{"type":"identify","messageId":"m1","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T12:01:00Z"}`,
		`{"type":"identify","messageId":"m2","userId":"u2","anonymousId":"a1","timestamp":"2024-03-01T12:05:00Z"}`,
		`{"type":"delete","messageId":"m3","userId":"u2","timestamp":"2024-03-01T12:03:00Z"}`,
		`{"type":"track","messageId":"m4","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:02:00Z"}`,
		`{"type":"track","messageId":"m6","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:06:00Z"}`,
	}
	got := requireSameInEveryOrder(t, msgs)
	joined := strings.Join(got, "\n")
	if len(got) != 2 || !strings.Contains(joined, `"m4"`) || !strings.Contains(joined, `"m6"`) {
		t.Fatalf("want u1 with m4 and u2 with m6; got:\n%s", joined)
	}
}

// TestAliasBeforeItsPreviousID_RuleI5 is the first reproducer of issue 11: an alias
// that arrives before the messages of its previousId still makes one contact, u3, with
// everything, in every order; old-3 finds it and owns nothing of its own.
func TestAliasBeforeItsPreviousID_RuleI5(t *testing.T) {
	for _, aliasAt := range []string{"12:00:22", "12:00:19"} { // after the identify, and before it
		t.Run("alias at "+aliasAt, func(t *testing.T) {
			msgs := []string{
				`{"type":"alias","messageId":"a-3","previousId":"old-3","userId":"u3","timestamp":"2024-03-01T` + aliasAt + `Z"}`,
				`{"type":"identify","messageId":"a-1","userId":"old-3","timestamp":"2024-03-01T12:00:20Z","context":{"ip":"8.8.8.8"},"traits":{"firstName":"Cy","phone":"954.555.2399"}}`,
				`{"type":"track","messageId":"a-2","userId":"old-3","event":"Old Event","timestamp":"2024-03-01T12:00:21Z"}`,
			}
			got := requireSameInEveryOrder(t, msgs)
			if len(got) != 1 {
				t.Fatalf("want one contact; got %d:\n%s", len(got), strings.Join(got, "\n"))
			}
			for _, want := range []string{`"userId":"u3"`, `"formerUserIds":["old-3"]`, `"phone":"+19545552399"`, `"inAudience":true`, `"name":"Old Event"`} {
				if !strings.Contains(got[0], want) {
					t.Errorf("the contact lacks %s:\n%s", want, got[0])
				}
			}
			if strings.Contains(got[0], "anonymousIds") {
				t.Errorf("old-3 became an anonymous ID:\n%s", got[0])
			}
		})
	}
}

// TestAliasFromAnonymousID_RuleI5: an alias whose previousId is an anonymous visitor's
// ID (as analytics.js sends it) stitches that ID as Rule I3 does: the contact's export
// lists it among its anonymousIds, in every order, while a previousId that only ever
// was a userId is not listed there (TestAliasBeforeItsPreviousID_RuleI5).
func TestAliasFromAnonymousID_RuleI5(t *testing.T) {
	msgs := []string{
		`{"type":"page","messageId":"v-1","anonymousId":"visitor-1","name":"Pricing","timestamp":"2024-03-01T12:00:00Z"}`,
		`{"type":"alias","messageId":"v-2","previousId":"visitor-1","userId":"u7","timestamp":"2024-03-01T12:01:00Z"}`,
		`{"type":"identify","messageId":"v-3","userId":"u7","anonymousId":"visitor-2","timestamp":"2024-03-01T12:02:00Z","traits":{"firstName":"Di"}}`,
		`{"type":"track","messageId":"v-4","anonymousId":"visitor-1","event":"Viewed","timestamp":"2024-03-01T12:03:00Z"}`,
	}
	got := requireSameInEveryOrder(t, msgs)
	if len(got) != 1 {
		t.Fatalf("want one contact; got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, want := range []string{`"userId":"u7"`, `"anonymousIds":["visitor-1","visitor-2"]`, `"messageId":"v-1"`, `"messageId":"v-4"`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the contact lacks %s:\n%s", want, got[0])
		}
	}
	// The Go API says what the export says.
	f := newFixture(t, nil)
	for _, m := range msgs {
		f.send(m)
	}
	if ids := f.user("u7").AnonymousIDs(); !slices.Equal(ids, []string{"visitor-1", "visitor-2"}) {
		t.Errorf("AnonymousIDs() = %v, want visitor-1 and visitor-2", ids)
	}
}

// TestAliasToItself_RuleI5: alias with userId == previousId changes nothing, in every
// order: the contact does not gain itself as an anonymous ID or a former userId.
func TestAliasToItself_RuleI5(t *testing.T) {
	msgs := []string{
		`{"type":"alias","messageId":"s-1","previousId":"u1","userId":"u1","timestamp":"2024-03-01T12:00:00Z"}`,
		`{"type":"identify","messageId":"s-2","userId":"u1","timestamp":"2024-03-01T12:01:00Z","traits":{"firstName":"Ann"}}`,
	}
	got := requireSameInEveryOrder(t, msgs)
	if len(got) != 1 || strings.Contains(got[0], "anonymousIds") || strings.Contains(got[0], "formerUserIds") {
		t.Fatalf("want u1 alone, unchanged by the alias; got:\n%s", strings.Join(got, "\n"))
	}
	only := replayAll(t, msgs[:1])
	if len(only) != 0 {
		t.Fatalf("an alias of a userId to itself made a contact: %s", only)
	}
}

// TestAliasConflictByEventTime_RuleI5: previousId and userId conflict exactly when each
// has a message under its own userId that happened before the alias; then the alias
// changes nothing. Otherwise the alias joins them. The same set gives the same answer
// in every order, a late message that makes the alias a conflict included.
func TestAliasConflictByEventTime_RuleI5(t *testing.T) {
	alias := `{"type":"alias","messageId":"al","previousId":"p","userId":"u","timestamp":"2024-03-01T12:05:00Z"}`
	msg := func(id, user, at, name string) string {
		return `{"type":"identify","messageId":"` + id + `","userId":"` + user + `","timestamp":"2024-03-01T12:` + at + `:00Z","traits":{"firstName":"` + name + `"}}`
	}
	tests := []struct {
		name     string
		msgs     []string
		contacts int
	}{
		{"both before: conflict", []string{alias, msg("m1", "p", "01", "P"), msg("m2", "u", "02", "U")}, 2},
		{"previous before, user after: one contact", []string{alias, msg("m1", "p", "01", "P"), msg("m2", "u", "09", "U")}, 1},
		{"user before, previous after: one contact", []string{alias, msg("m1", "p", "09", "P"), msg("m2", "u", "02", "U")}, 1},
		{"both after: one contact", []string{alias, msg("m1", "p", "08", "P"), msg("m2", "u", "09", "U")}, 1},
		{"a late message before the alias makes it a conflict", []string{alias, msg("m1", "p", "08", "P"), msg("m2", "u", "09", "U"),
			msg("m3", "p", "01", "P0"), msg("m4", "u", "02", "U0")}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requireSameInEveryOrder(t, tt.msgs)
			if len(got) != tt.contacts {
				t.Fatalf("want %d contacts, got %d:\n%s", tt.contacts, len(got), strings.Join(got, "\n"))
			}
			if tt.contacts == 1 && !strings.Contains(got[0], `"userId":"u"`) {
				t.Errorf("the joined contact's External ID is not the alias's userId:\n%s", got[0])
			}
		})
	}
}

// TestRebornPartConsentFromLatest_RuleI7 is a rapid failure of TestOrderIndependence_RuleS3:
// u3 was deleted, then sent the same opt-in twice, and an alias joins u3 to u1 only
// once the second sending arrives (u3 reborn counts from its latest message, so the
// alias is no conflict then). The record on u1's contact counts from its latest sending
// (m11 and no lastMessageId) whether the alias arrived before or after it (Rules I5,
// I7, C7): the second sending's message moved u3 to u1's contact, and the erase that
// makes a reborn ledger count from the latest sending must follow it there.
func TestRebornPartConsentFromLatest_RuleI7(t *testing.T) {
	optIn := `"context":{"ip":"8.8.8.8"},"traits":{"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:03:00Z","ip":""}}`
	identifyU1 := `{"timestamp":"2024-03-01T12:00:00Z","type":"identify","userId":"u1","context":{},"traits":{}}`
	deleteU1 := `{"timestamp":"2024-03-01T12:00:00Z","type":"delete","userId":"u1"}`
	aliasSelf := `{"timestamp":"2024-03-01T12:00:00Z","type":"alias","userId":"u1","previousId":"u1"}`
	identifyU3 := `{"timestamp":"2024-03-01T12:00:00Z","type":"identify","userId":"u3",` + optIn + `}` // derived messageId, after the delete's
	deleteU3 := `{"timestamp":"2024-03-01T12:00:00Z","type":"delete","userId":"u3"}`
	page := `{"timestamp":"2024-03-01T12:00:00Z","type":"page","userId":"u1","context":{},"name":"Home"}`
	alias := `{"timestamp":"2024-03-01T12:00:00Z","messageId":"m09","type":"alias","userId":"u1","previousId":"u3"}`
	identifyU3Again := `{"timestamp":"2024-03-01T12:00:00Z","messageId":"m11","type":"identify","userId":"u3",` + optIn + `}`
	wantRecord := `"consentHistory":[{"channel":"sms","ip":"8.8.8.8","messageId":"m11","messageTime":"2024-03-01T12:00:00Z","outcome":"pending"`

	check := func(t *testing.T, got []string) {
		t.Helper()
		if len(got) != 1 || !strings.Contains(got[0], `"userId":"u1"`) || !strings.Contains(got[0], `"formerUserIds":["u3"]`) ||
			!strings.Contains(got[0], wantRecord) || strings.Contains(got[0], "lastMessageId") {
			t.Fatalf("want u1's contact with u3 joined and the opt-in counted from m11 alone; got:\n%s", strings.Join(got, "\n"))
		}
	}
	for _, tt := range []struct {
		name string
		msgs []string
	}{
		{"alias before the second sending", []string{identifyU1, identifyU1, identifyU1, deleteU1, aliasSelf, identifyU3, deleteU3,
			identifyU1, page, alias, identifyU1, identifyU3Again}},
		{"alias after the second sending", []string{identifyU1, identifyU1, identifyU1, deleteU1, aliasSelf, identifyU3, deleteU3,
			identifyU1, page, identifyU3Again, identifyU1, alias}},
	} {
		t.Run(tt.name, func(t *testing.T) { check(t, replayAll(t, tt.msgs)) })
	}
	t.Run("every order", func(t *testing.T) {
		check(t, requireSameInEveryOrder(t, []string{identifyU1, identifyU3, deleteU3, alias, identifyU3Again}))
	})
}

// TestOrderIndependence_AliasOfAUserIDThatIsAnAnonymousID_RuleI5: a userId that is also an
// anonymousId (a site that uses one id for both) is linked by every alias that makes it
// a previousId, whichever contact holds its anonymous-only messages: their own
// anonymous contact included, when a later alias regroups the userIds (Rules I3, I5,
// S3). A review found both sets order-dependent.
func TestOrderIndependence_AliasOfAUserIDThatIsAnAnonymousID_RuleI5(t *testing.T) {
	requireSameInEveryOrder(t, []string{
		`{"type":"page","anonymousId":"u4","name":"Home","messageId":"p0","timestamp":"2024-03-01T12:00:00Z"}`,
		`{"type":"alias","previousId":"u1","userId":"u2","messageId":"a3","timestamp":"2024-03-01T12:01:00Z"}`,
		`{"type":"alias","previousId":"u1","userId":"u4","messageId":"a1","timestamp":"2024-03-01T12:02:00Z"}`,
		`{"type":"alias","previousId":"u4","userId":"u1","messageId":"a2","timestamp":"2024-03-01T12:03:00Z"}`,
	})
	requireSameInEveryOrder(t, []string{
		`{"type":"track","userId":"u1","event":"E","messageId":"m1","timestamp":"2024-03-01T12:00:00Z"}`,
		`{"type":"page","userId":"u2","name":"H","messageId":"m2","timestamp":"2024-03-01T12:01:00Z"}`,
		`{"type":"page","anonymousId":"u2","name":"H","messageId":"m3","timestamp":"2024-03-01T12:03:00Z"}`,
		`{"type":"delete","userId":"u2","messageId":"m4","timestamp":"2024-03-01T12:02:00Z"}`,
		`{"type":"alias","previousId":"u2","userId":"u1","messageId":"m5","timestamp":"2024-03-01T12:04:00Z"}`,
	})
}
