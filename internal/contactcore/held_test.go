package contactcore

import (
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func anonymous(t testing.TB, minutes int, anon, traits string) *event.Message {
	m := identify(t, minutes, traits)
	m.UserID = ""
	m.AnonymousID = anon
	return m
}

func TestLink_EarliestStands_RuleI4(t *testing.T) {
	c := New("c")
	c.SetUserID("u1")
	assert.True(t, c.LinkAs(c.UserID(), "a1", seedTime.Add(time.Hour), "m2"))
	assert.False(t, c.LinkAs(c.UserID(), "a1", seedTime.Add(2*time.Hour), "m3"), "a later link changes nothing")
	assert.True(t, c.LinkAs(c.UserID(), "a1", seedTime, "m1"), "an earlier link replaces it")
	assert.Equal(t, []identity.Link{{AnonymousID: "a1", UserID: "u1", Time: seedTime, MessageID: "m1"}}, c.Links())
	c.AddAnonymousID("a2")
	assert.Equal(t, []string{"a1", "a2"}, c.AnonymousIDs())
	assert.Len(t, c.Links(), 1, "an anonymous contact's own ID is not a link")
	c.RemoveAnonymousID("a1")
	assert.Equal(t, []string{"a2"}, c.AnonymousIDs())
}

func TestHold_RuleI3_AnonymousTraitsJoinKnownContact(t *testing.T) {
	own := identify(t, 10, `{"firstName":"Rebecca","phone":"+19545552399"}`)
	anonMsg := anonymous(t, 5, "a1", `{"firstName":"Becky","plan":"trial","optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:00:00Z","ip":"1.2.3.4"}}`)

	c, _ := apply(t, own)
	h, ch := NewHeld(anonMsg, nil, false, nil)
	require.Empty(t, ch.Diagnostics)
	changes := c.Hold(h)
	assert.ElementsMatch(t, []string{"custom.plan", "consent"}, changes.Fields)
	assert.Equal(t, "Rebecca", c.FirstName(), "the newer own message wins")
	plan, _ := c.Custom("plan")
	assert.Equal(t, `"trial"`, plan)
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS), "the anonymous opt-in binds to the contact's phone (Rule C5)")
	assert.Empty(t, c.Hold(h).Fields, "holding it again changes nothing")

	// The same contact as applying both as one person's messages.
	both, _ := apply(t, own, anonMsg)
	assert.Equal(t, exportOf(t, both), exportOf(t, c))

	// Releasing it gives back the own contact.
	released := c.Release("a1", func(Held) bool { return true })
	require.Len(t, released, 1)
	alone, _ := apply(t, own)
	assert.Equal(t, exportBytes(t, alone), exportBytes(t, c))
}

// TestHeld_OrderIndependence: own and held messages in any order, holds and merges, give
// the export of applying them all as one person's messages; releasing every held
// message gives the own messages' contact (Rules I3, I4, S3).
func TestHeld_OrderIndependence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		anon := make([]bool, len(msgs))
		var own []*event.Message
		for i, m := range msgs {
			if anon[i] = rapid.Bool().Draw(t, "anonymous"); anon[i] {
				m.UserID, m.AnonymousID = "", rapid.SampledFrom([]string{"a1", "a2"}).Draw(t, "anon id")
			} else {
				own = append(own, m)
			}
		}
		want := exportOf(t, applyAll(msgs))
		c := New("")
		for _, m := range shuffled(t, "order", msgs) {
			if m.UserID == "" {
				h, _ := NewHeld(m, nil, false, nil)
				c.Hold(h)
			} else {
				c.ApplyTraits(m, nil)
			}
		}
		if got := exportOf(t, c); !assert.ObjectsAreEqual(want, got) {
			t.Fatalf("held and own messages differ from applying all:\nwant %v\ngot  %v", want, got)
		}
		// The storage round trip keeps the held messages apart.
		b, err := EncodeStorage(c)
		require.NoError(t, err)
		back, err := DecodeStorage(b)
		require.NoError(t, err)
		if again, _ := EncodeStorage(back); string(again) != string(b) {
			t.Fatalf("round trip with held messages:\n%s\n%s", b, again)
		}
		for _, id := range []string{"a1", "a2"} {
			c.Release(id, func(Held) bool { return true })
			back.Release(id, func(Held) bool { return true })
		}
		if x, y := exportBytes(t, c), exportBytes(t, applyAll(own)); x != y {
			t.Fatalf("releasing every held message:\n%s\n%s", x, y)
		}
		if x, y := exportBytes(t, back), exportBytes(t, applyAll(own)); x != y {
			t.Fatalf("releasing every held message after a round trip:\n%s\n%s", x, y)
		}
	})
}

func TestErase_RuleI7(t *testing.T) {
	before := identify(t, 0, `{"firstName":"Old","phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:00:00Z","ip":"1.2.3.4"},"plan":"a"}`)
	after := identify(t, 20, `{"lastName":"New","plan":"b"}`)
	deleteAt := seedTime.Add(10 * time.Minute)
	for _, order := range [][]*event.Message{{before, after}, {after, before}} {
		c, _ := apply(t, order...)
		c.LinkAs(c.UserID(), "a-old", seedTime, "m000")
		c.LinkAs(c.UserID(), "a-new", seedTime.Add(30*time.Minute), "m030")
		h, _ := NewHeld(anonymous(t, 1, "a-old", `{"gender":"x"}`), nil, false, nil)
		c.Hold(h)
		require.True(t, c.Erase(deleteAt, "del"))
		assert.Empty(t, c.FirstName())
		assert.Equal(t, "x", c.Gender(), "held messages stay, for the processor to attribute again")
		c.Release("a-old", func(Held) bool { return true })
		assert.Empty(t, c.Gender())
		assert.Equal(t, "New", c.LastName())
		plan, _ := c.Custom("plan")
		assert.Equal(t, `"b"`, plan)
		assert.False(t, c.InAudience(), "the phone set before the delete is gone")
		assert.Zero(t, c.Consent().Len())
		assert.Equal(t, []string{"a-new"}, c.AnonymousIDs())
	}
	c, _ := apply(t, before)
	assert.False(t, c.Erase(deleteAt, "del"))
	assert.True(t, c.IsEmpty())
}
