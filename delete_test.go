package regalkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/storestate"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
)

// TestDelete_RuleI7_AnonymousHistoryGoes: a delete removes the anonymous-only messages
// that belong to the user through a link the user's own messages made before it: the
// anonymous browsing a login claimed (I3, I4), in every arrival order, each message
// also delivered twice, one by one and in batches of two workers. Before, the delete
// erased the link first, so those messages went to an anonymous contact of their own,
// and to the next user who linked the anonymous ID.
func TestDelete_RuleI7_AnonymousHistoryGoes(t *testing.T) {
	link := `{"type":"identify","messageId":"m3","userId":"u3","anonymousId":"a1","timestamp":"2024-03-01T12:02:00Z"}`
	before := `{"type":"page","messageId":"m1","anonymousId":"a1","name":"Home","timestamp":"2024-03-01T12:01:00Z"}`
	after := `{"type":"identify","messageId":"m4","anonymousId":"a1","timestamp":"2024-03-01T12:03:00Z","traits":{"phone":"+19545552399","email":"ann@example.com","firstName":"Ann"}}`
	del := `{"type":"delete","messageId":"m5","userId":"u3","timestamp":"2024-03-01T12:04:00Z"}`
	later := `{"type":"track","messageId":"m7","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:05:00Z"}`
	other := `{"type":"identify","messageId":"m6","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T12:06:00Z"}`
	del2 := `{"type":"delete","messageId":"m8","userId":"u3","timestamp":"2024-03-01T12:10:00Z"}`
	aliasAnon := `{"type":"alias","messageId":"m2","previousId":"a1","userId":"u3","timestamp":"2024-03-01T12:01:30Z"}`
	// analytics.js's alias(userId) carries the visitor's anonymousId too (Rule I3).
	aliasJS := `{"type":"alias","messageId":"m2","previousId":"a1","anonymousId":"a1","userId":"u3","timestamp":"2024-03-01T12:01:30Z"}`
	aliasJSFromUser := `{"type":"alias","messageId":"m23","previousId":"p1","anonymousId":"a1","userId":"u3","timestamp":"2024-03-01T12:02:30Z"}`
	ownU3 := `{"type":"track","messageId":"m20","userId":"u3","event":"Signed","timestamp":"2024-03-01T12:03:30Z"}`
	aliasUser := `{"type":"alias","messageId":"m22","previousId":"p1","userId":"u3","timestamp":"2024-03-01T12:02:30Z"}`
	ownP1 := `{"type":"track","messageId":"m21","userId":"p1","event":"Viewed","timestamp":"2024-03-01T12:01:00Z"}`
	tests := []struct {
		name string
		msgs []string
		want func(t *testing.T, got []string)
	}{
		{"history after the login", []string{link, after, del}, none},
		{"history before the login", []string{before, link, del}, none},
		{"both, and a user who links the ID later gets none of it", []string{before, link, after, del, other}, func(t *testing.T, got []string) {
			require.Len(t, got, 1)
			assert.Contains(t, got[0], `"userId":"u1"`)
			for _, s := range []string{"Ann", "ann@", "2399", "Home"} {
				assert.NotContains(t, got[0], s)
			}
		}},
		{"what the ID did after the delete stays", []string{link, after, del, later}, func(t *testing.T, got []string) {
			require.Len(t, got, 1)
			assert.Contains(t, got[0], `"messageId":"m7"`)
			assert.NotContains(t, got[0], "Ann")
		}},
		{"a later delete takes what came between", []string{link, after, del, later, del2}, none},
		// analytics.js's alias(userId): previousId and anonymousId are the visitor's
		// ID. The alias is a message under u3 that links the ID (I3): erased with u3's
		// others, its link still claims the visitor's history before the delete. A
		// first version left the lead's email, phone and opt-in on the ID's contact.
		{"analytics.js alias", []string{before, aliasJS, after, del}, none},
		{"analytics.js alias, then the user's own messages", []string{before, aliasJS, ownU3, del}, none},
		{"analytics.js alias, and what came after the delete", []string{before, aliasJS, after, del, later}, anonymousOnly("m7")},
		{"analytics.js alias, and a user who links the ID later gets none of it", []string{before, aliasJS, after, del, other}, func(t *testing.T, got []string) {
			require.Len(t, got, 1)
			assert.Contains(t, got[0], `"userId":"u1"`)
			for _, s := range []string{"Ann", "ann@", "2399", "Home"} {
				assert.NotContains(t, got[0], s)
			}
		}},
		{"analytics.js alias of an identified visitor", []string{before, ownP1, aliasJSFromUser, after, del}, func(t *testing.T, got []string) {
			// p1 keeps its own message (it was never u3's); the visitor's anonymous
			// history went to u3 through the alias's link, and goes with u3.
			require.Len(t, got, 1)
			assert.Contains(t, got[0], `"userId":"p1"`)
			assert.Contains(t, got[0], `"messageId":"m21"`)
			for _, s := range []string{"u3", "Ann", "ann@", "2399", "Home"} {
				assert.NotContains(t, got[0], s)
			}
		}},
		// A server-side alias names the anonymous ID only as previousId: it leaves no
		// link, so the ID's history is left to its own contact, what RULES.md, I7 says
		// is not done yet.
		{"alias from the anonymous ID", []string{before, aliasAnon, after, del}, anonymousOnly("m1")},
		{"alias from the anonymous ID, then the user's own messages", []string{before, aliasAnon, ownU3, del}, anonymousOnly("m1")},
		{"alias from the anonymous ID, and what came after the delete", []string{aliasAnon, after, del, later}, anonymousOnly("m7")},
		// A previousId that is a user of its own keeps its own messages: they were never
		// u3's. Its contact is its own again, without u3.
		{"alias from another user", []string{aliasUser, ownP1, ownU3, del}, func(t *testing.T, got []string) {
			require.Len(t, got, 1)
			assert.Contains(t, got[0], `"userId":"p1"`)
			assert.Contains(t, got[0], `"messageId":"m21"`)
			assert.NotContains(t, got[0], "u3")
			assert.NotContains(t, got[0], "formerUserIds")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			i := 0
			permutations(tt.msgs, func(order []string) {
				i++
				for _, twice := range []bool{false, true} {
					msgs := order
					if twice {
						msgs = append(append([]string(nil), order...), order...)
					}
					for _, workers := range []int{0, 2} {
						got := replayDeleting(t, msgs, workers)
						if want == nil {
							want = got
							tt.want(t, visible(got))
						}
						require.Equal(t, want, got, "order %d (twice: %v, workers: %d):\n%s", i, twice, workers, strings.Join(msgs, "\n"))
					}
				}
			})
		})
	}
}

// anonymousOnly requires one contact, a1's own, with the events of the messageIds
// given and nothing of u3's.
func anonymousOnly(messageIDs ...string) func(t *testing.T, got []string) {
	return func(t *testing.T, got []string) {
		require.Len(t, got, 1)
		assert.NotContains(t, got[0], "u3")
		assert.NotContains(t, got[0], `"userId"`)
		assert.NotContains(t, got[0], "m20", "u3's own message")
		for _, id := range messageIDs {
			assert.Contains(t, got[0], `"messageId":"`+id+`"`)
		}
	}
}

// TestDelete_RuleI7_TouchesOnlyTheUsersMessages: a delete takes only the deleted
// user's messages (Rule I7), whatever aliases name the user; three cases a review found,
// in every order. An alias that was a conflict (Rule I5) made nothing the user's, so
// its erasure hides nothing (a first version hid the other user's page and opt-out,
// and the Guard then allowed texting an opted-out phone); the anonymous-only messages
// of an ID aliased into another user are that user's (I5), so a delete of the ID as a
// userId leaves them; and an alias from an anonymous ID made after a delete takes the
// ID's history from before it as any first link does, which the delete hides.
func TestDelete_RuleI7_TouchesOnlyTheUsersMessages(t *testing.T) {
	t.Run("a conflicting alias", func(t *testing.T) {
		got := requireSameInEveryOrder(t, []string{
			`{"type":"identify","messageId":"m0","userId":"u1","timestamp":"2024-03-01T11:59:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:59:00Z"}}}`,
			`{"type":"alias","messageId":"m1","previousId":"a1","userId":"u1","timestamp":"2024-03-01T12:01:00Z"}`,
			`{"type":"alias","messageId":"m2","previousId":"a1","userId":"u2","timestamp":"2024-03-01T12:02:00Z"}`,
			`{"type":"identify","messageId":"m3","anonymousId":"a1","timestamp":"2024-03-01T12:03:00Z","context":{"ip":"8.8.8.8"},"traits":{"optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:03:00Z"}}}`,
			`{"type":"delete","messageId":"m4","userId":"u2","timestamp":"2024-03-01T12:05:00Z"}`,
		})
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `"userId":"u1"`)
		assert.Contains(t, got[0], `"sms":"unsubscribed"`, "a1's opt-out is u1's and stays")
	})
	t.Run("an ID aliased into another user, deleted as a user", func(t *testing.T) {
		got := requireSameInEveryOrder(t, []string{
			`{"type":"identify","messageId":"m01","userId":"u1","timestamp":"2024-03-01T12:00:00Z"}`,
			`{"type":"alias","messageId":"m03","previousId":"u1","userId":"u2","timestamp":"2024-03-01T12:02:00Z"}`,
			`{"type":"track","messageId":"m04","anonymousId":"u1","event":"Viewed","timestamp":"2024-03-01T12:03:00Z"}`,
			`{"type":"delete","messageId":"m05","userId":"u1","timestamp":"2024-03-01T12:05:00Z"}`,
		})
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `"userId":"u2"`)
		assert.Contains(t, got[0], `"messageId":"m04"`)
	})
	t.Run("an ID aliased into a former userId, the External ID deleted", func(t *testing.T) {
		// a1's opt-out is p1's (alias m5), and p1 is u1's former userId (alias m6); u1's
		// delete at 12:03 came before any message of u1's, so it takes nothing. A first
		// version linked a1 to u1, buried a1's opt-out under u1's delete, and the Guard
		// allowed texting the phone.
		msgs := []string{
			`{"type":"identify","messageId":"m1","anonymousId":"a1","timestamp":"2024-03-01T12:01:00Z","traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:08:00Z"}}}`,
			`{"type":"alias","messageId":"m5","previousId":"a1","userId":"p1","timestamp":"2024-03-01T12:05:00Z"}`,
			`{"type":"alias","messageId":"m6","previousId":"p1","userId":"u1","timestamp":"2024-03-01T12:06:00Z"}`,
			`{"type":"identify","messageId":"m7","userId":"u1","timestamp":"2024-03-01T12:07:00Z","context":{"ip":"8.8.8.8"},"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:07:00Z"}}}`,
			`{"type":"delete","messageId":"m3","userId":"u1","timestamp":"2024-03-01T12:03:00Z"}`,
		}
		got := requireSameInEveryOrder(t, msgs)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `"sms":"unsubscribed"`)
		p := regalkit.New(memstore.New(), nil)
		for _, m := range msgs {
			_, err := p.ProcessBytes(context.Background(), []byte(m))
			require.NoError(t, err)
		}
		d, err := p.Guard(nil).Check(context.Background(), "+19545552399", optin.SMS, time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.False(t, d.Allowed)
		assert.Equal(t, diag.GuardOptedOut, d.Reason)
	})
	t.Run("the deleted user's first login after the delete, sent again", func(t *testing.T) {
		// u2's links to a1 are all after the delete; the first (m2) still makes u2 the
		// earliest-linked user (before u1's m3), so a1's history (m1) is u2's from
		// before the delete, and hidden. Counted from its latest sending (m4), u2's link
		// left u1 the earliest, and u1 took m1's opt-out.
		got := requireSameInEveryOrder(t, []string{
			`{"type":"identify","messageId":"m1","anonymousId":"a1","timestamp":"2026-06-01T12:00:00Z","traits":{"optIn":{"channel":"sms","subscribed":false,"timestamp":"2026-06-01T12:00:00Z"}}}`,
			`{"type":"identify","messageId":"m2","userId":"u2","anonymousId":"a1","timestamp":"2026-06-01T12:01:30Z","traits":{}}`,
			`{"type":"identify","messageId":"m3","userId":"u1","anonymousId":"a1","timestamp":"2026-06-01T12:01:45Z","traits":{}}`,
			`{"type":"identify","messageId":"m4","userId":"u2","anonymousId":"a1","timestamp":"2026-06-01T12:02:00Z","traits":{}}`,
			`{"type":"delete","messageId":"del","userId":"u2","timestamp":"2026-06-01T12:01:00Z"}`,
		})
		for _, c := range got {
			assert.NotContains(t, c, `"m1"`, "m1 happened before u2's delete, and is u2's")
		}
	})
	t.Run("an alias from an anonymous ID after the delete", func(t *testing.T) {
		got := requireSameInEveryOrder(t, []string{
			`{"type":"page","messageId":"m03","anonymousId":"a1","name":"Home","timestamp":"2024-03-01T12:02:00Z"}`,
			`{"type":"delete","messageId":"m06","userId":"u3","timestamp":"2024-03-01T12:05:00Z"}`,
			`{"type":"alias","messageId":"m07","previousId":"a1","userId":"u3","timestamp":"2024-03-01T12:06:00Z"}`,
		})
		for _, c := range got {
			assert.NotContains(t, c, `"m03"`, "the page happened before u3's delete")
		}
	})
}

// none requires that no contact shows.
func none(t *testing.T, got []string) {
	assert.Empty(t, got)
}

// visible leaves out what storestate.Hidden adds.
func visible(state []string) []string {
	var out []string
	for _, s := range state {
		if !strings.HasPrefix(s, "hidden ") {
			out = append(out, s)
		}
	}
	return out
}

// replayDeleting processes msgs, one by one (workers 0) or in one ProcessBatch of
// workers, and returns the store's state with its hidden contacts. It also checks that
// the store's own reads find no hidden contact.
func replayDeleting(t *testing.T, msgs []string, workers int) []string {
	t.Helper()
	ctx := context.Background()
	var n atomic.Int64 // NewID is called from every worker
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Now: func() time.Time { return t0.Add(48 * time.Hour) },
		NewID: func() string { return fmt.Sprintf("c%04d", n.Add(1)) }, Workers: workers})
	if workers == 0 {
		for _, m := range msgs {
			_, err := p.ProcessBytes(ctx, []byte(m))
			require.NoError(t, err)
		}
	} else {
		_, err := p.ProcessBytes(ctx, []byte(strings.Join(msgs, "\n")))
		require.NoError(t, err)
	}
	keys := []identity.Key{identity.AnonymousKey("a1"), identity.AnonymousKey("p1")}
	hidden, err := storestate.Hidden(ctx, store, keys)
	require.NoError(t, err)
	found, err := store.Find(ctx, identity.AnonymousKey("a1"))
	require.NoError(t, err)
	for _, c := range found {
		assert.False(t, c.Hidden(), "Store.Find returned a hidden contact")
		_, err := store.Contact(ctx, c.ID())
		require.NoError(t, err)
	}
	for c, err := range store.Contacts(ctx) {
		require.NoError(t, err)
		assert.False(t, c.Hidden(), "Store.Contacts yielded a hidden contact")
	}
	shown, err := storestate.Canonical(ctx, store)
	require.NoError(t, err)
	return append(shown, hidden...)
}

// TestDelete_RuleI7_RelinkStreamCostGrowsLinearly: after a delete, a stream of the
// user's messages with the same anonymous ID, in increasing time (live traffic), does
// not attribute the ID's held messages again on every message: only a change of the
// stamp the link counts from can move them (Rule I7), and the user did not link the ID
// before the delete, so the link counts from its earliest sending, which the stream
// never moves. A review measured every message re-attributing all of them, quadratic:
// 4,000,000 visits for 2,000 messages. (A stream in decreasing time moves the earliest
// sending on every message, with or without a delete, and re-attributes each time.)
func TestDelete_RuleI7_RelinkStreamCostGrowsLinearly(t *testing.T) {
	base := time.Date(2024, 3, 1, 13, 0, 0, 0, time.UTC)
	alloc := func(n int) uint64 {
		p := regalkit.New(memstore.New(), nil)
		send := func(s string) {
			_, err := p.ProcessBytes(context.Background(), []byte(s))
			require.NoError(t, err)
		}
		send(`{"type":"delete","userId":"u1","messageId":"del","timestamp":"2024-03-01T12:00:00Z"}`)
		send(`{"type":"identify","userId":"u1","anonymousId":"a1","messageId":"first","timestamp":"2024-03-01T13:00:00Z"}`)
		for i := range n {
			send(fmt.Sprintf(`{"type":"page","anonymousId":"a1","name":"Home","messageId":"p%d","timestamp":%q}`,
				i, base.Add(time.Duration(i+1)*time.Second).Format(time.RFC3339Nano)))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			at := base.Add(time.Duration(i+1)*time.Second + time.Millisecond)
			send(fmt.Sprintf(`{"type":"track","userId":"u1","anonymousId":"a1","event":"Viewed","messageId":"t%d","timestamp":%q}`, i, at.Format(time.RFC3339Nano)))
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(300), alloc(600)
	assert.Less(t, float64(large)/float64(small), 3.0, "%d bytes for 300 messages, %d for 600", small, large)
}

// TestDelete_RuleI7_BuriedRecordIsTheContactsOwn: an anonymous-only message of a
// deleted user's time, arriving after the delete, is kept out of sight on the user's
// contact with its event record (Rule I7). That record is the contact's own copy:
// changing the message afterwards, which its caller may (and ProcessStream does with
// the memory of its properties), changes nothing stored (contact.Store, "Copies").
// Before, the contact kept the message's properties themselves.
func TestDelete_RuleI7_BuriedRecordIsTheContactsOwn(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Now: func() time.Time { return t0.Add(48 * time.Hour) }})
	for _, pl := range []string{
		`{"type":"identify","messageId":"m2","userId":"u3","anonymousId":"a1","timestamp":"2024-03-01T12:02:00Z"}`,
		`{"type":"delete","messageId":"m4","userId":"u3","timestamp":"2024-03-01T12:04:00Z"}`,
	} {
		_, err := p.ProcessBytes(ctx, []byte(pl))
		require.NoError(t, err)
	}
	var m event.Message
	require.NoError(t, segmentio.Unmarshal([]byte(`{"type":"track","messageId":"m1","anonymousId":"a1","event":"Viewed","timestamp":"2024-03-01T12:01:00Z","properties":{"plan":"gold","seats":3}}`), &m))
	_, err := p.Process(ctx, m)
	require.NoError(t, err)
	hidden := func() []string {
		out, err := storestate.Hidden(ctx, store, []identity.Key{identity.AnonymousKey("a1")})
		require.NoError(t, err)
		return out
	}
	want := hidden()
	require.Len(t, want, 1)
	require.Contains(t, want[0], `"gold"`, "the deleted user's contact keeps the message's record")

	m.Properties[0].Value[1] = 'X'
	m.Properties[1] = event.Member{Key: "changed", Value: json.RawMessage(`"after Process"`)}
	assert.Equal(t, want, hidden())
}
