package regalkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
)

// Some Segment sources send the user's email and phone only in context.traits of
// their events (issue 12).
const (
	ctxIdentify = `{"type":"identify","userId":"u-ctx","messageId":"i-1","timestamp":"2024-03-01T12:00:00Z","traits":{"email":"old@example.com","firstName":"Ann"}}`
	ctxTrack    = `{"type":"track","userId":"u-ctx","event":"Viewed","messageId":"t-1","timestamp":"2024-03-01T13:00:00Z",
		"context":{"ip":"203.0.113.9","traits":{"email":"new@example.com","phone":"+19545552399"}}}`
	ctxOlderPage = `{"type":"page","userId":"u-ctx","name":"Home","messageId":"p-0","timestamp":"2024-03-01T11:00:00Z",
		"context":{"traits":{"firstName":"Stale","email":"older@example.com"}}}`
)

func recordedTraits(t *testing.T, f *fixture, c *contact.Contact) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rec, err := range f.store.Events(context.Background(), c.ID(), contact.EventQuery{}) {
		require.NoError(t, err)
		out[rec.MessageID] = string(mustJSON(t, rec.Context.Traits))
	}
	return out
}

func mustJSON(t *testing.T, o event.Object) []byte {
	t.Helper()
	b, err := o.AppendJSON(nil)
	require.NoError(t, err)
	return b
}

// TestContextTraits_keptNotApplied: by default (Rule T3) the context.traits of a track
// or page change no trait, and are kept on the event record.
func TestContextTraits_keptNotApplied(t *testing.T) {
	f := newFixture(t, nil)
	f.send(ctxIdentify)
	res := f.one(ctxTrack)
	assert.NotContains(t, res.Changed, "email")
	f.send(ctxOlderPage)
	c := f.user("u-ctx")
	assert.Equal(t, "old@example.com", c.Email())
	assert.Equal(t, "Ann", c.FirstName())
	assert.False(t, c.InAudience())
	assert.Equal(t, map[string]string{
		"t-1": `{"email":"new@example.com","phone":"+19545552399"}`,
		"p-0": `{"firstName":"Stale","email":"older@example.com"}`,
	}, recordedTraits(t, f, c))
}

// TestContextTraits_applied: with ApplyContextTraits, context.traits of track, page and
// screen apply with the message's event time, and Rule T4 still decides: a newer event
// wins over an older identify, an older one loses, whatever the arrival order.
func TestContextTraits_applied(t *testing.T) {
	for _, order := range [][]string{{ctxIdentify, ctxTrack, ctxOlderPage}, {ctxOlderPage, ctxTrack, ctxIdentify}} {
		f := newFixture(t, &regalkit.Options{ApplyContextTraits: true})
		for _, m := range order {
			f.send(m)
		}
		c := f.user("u-ctx")
		assert.Equal(t, "new@example.com", c.Email(), "13:00 beats 12:00 and 11:00")
		assert.Equal(t, "+19545552399", c.Phone())
		assert.True(t, c.InAudience())
		assert.Equal(t, "Ann", c.FirstName(), "the 11:00 page loses to the 12:00 identify")
		assert.Len(t, recordedTraits(t, f, c), 2, "still kept on the records")
	}

	// Diagnostics name the field where it was sent; an anonymous-only event holds its
	// context.traits for the contact it is attributed to.
	f := newFixture(t, &regalkit.Options{ApplyContextTraits: true})
	res := f.one(`{"type":"screen","anonymousId":"a-ctx","name":"Home","messageId":"s-1","context":{"traits":{"email":"not an email","age":"old"}}}`)
	require.Len(t, res.Diagnostics, 2)
	assert.Equal(t, "context.traits.email", res.Diagnostics[0].Field)
	assert.Equal(t, "context.traits.age", res.Diagnostics[1].Field)
	f.send(`{"type":"track","anonymousId":"a-ctx","event":"E","messageId":"t-2","context":{"traits":{"phone":"+19545552399"}}}`)
	f.send(`{"type":"identify","userId":"u-late","anonymousId":"a-ctx","messageId":"i-2","timestamp":"2020-01-01T00:00:00Z"}`)
	assert.Equal(t, "+19545552399", f.user("u-late").Phone(), "held, then moved with the anonymous history (Rule I3)")

	// Identify and group are untouched by the option: group traits are the group's.
	f = newFixture(t, &regalkit.Options{ApplyContextTraits: true})
	f.send(`{"type":"group","userId":"u-g","groupId":"acme","messageId":"g-1","traits":{"email":"acme@example.com"},"context":{"traits":{"email":"x@example.com"}}}`)
	assert.Empty(t, f.user("u-g").Email())
}

// TestContextTraits_buriedThenLinked_RuleS3: an anonymous track whose context.traits
// apply (Rule T3) arrives after its anonymous ID's user was deleted, so it is kept out
// of sight on the deleted user's contact (Rule I7), until a link moves it to another
// user (Rule I4). Its traits must show there in every arrival order (Rule S3), as they
// do when it is held rather than buried.
func TestContextTraits_buriedThenLinked_RuleS3(t *testing.T) {
	msgs := []string{
		`{"type":"identify","userId":"u1","anonymousId":"a1","messageId":"m1","timestamp":"2024-03-01T12:06:00Z"}`,
		`{"type":"delete","userId":"u1","messageId":"m2","timestamp":"2024-03-01T12:05:00Z"}`,
		`{"type":"track","anonymousId":"a1","event":"Viewed","messageId":"m3","timestamp":"2024-03-01T12:03:00Z","context":{"traits":{"plan":"ctx"}}}`,
		`{"type":"identify","userId":"u2","anonymousId":"a1","messageId":"m4","timestamp":"2024-03-01T12:02:00Z"}`,
	}
	want := replayWith(t, msgs, variant{contextTraits: true})
	require.Contains(t, strings.Join(want, "\n"), `"custom":{"plan":"ctx"}`, "the track's context.traits reach a contact")
	permutations(msgs, func(order []string) {
		assert.Equal(t, want, replayWith(t, order, variant{contextTraits: true}), "order %v", order)
	})
}

// TestEventContext_keptWhole_RuleE1: an event keeps its whole context (Rule E1), as
// Segment's mobile and browser libraries send it: campaign, device, os, app, a key of
// the sender's own, values exact; only the channel is left out, being the message's
// (Rule D3). Nothing is dropped silently.
func TestEventContext_keptWhole_RuleE1(t *testing.T) {
	const ctx = `{"ip":"203.0.113.9","library":{"name":"analytics-ios","version":"4.1.8"},` +
		`"campaign":{"name":"spring","source":"newsletter","medium":"email"},` +
		`"device":{"id":"B5372DB0-C21E","manufacturer":"Apple","model":"iPhone15,2"},` +
		`"os":{"name":"iOS","version":"17.4"},"app":{"build":"3.0.1.545","version":"3.0.1"},` +
		`"timezone":"America/Chicago","network":{"wifi":true},"screen":{"density":3},` +
		`"loyaltyTier":12345678901234567890,"active":true}`
	f := newFixture(t, nil)
	f.send(`{"type":"track","userId":"u-ctx","event":"Viewed","messageId":"t-1","timestamp":"2024-03-01T13:00:00Z","context":` +
		strings.TrimSuffix(ctx, "}") + `,"channel":"mobile"}}`)
	c := f.user("u-ctx")
	var got []string
	for rec, err := range f.store.Events(context.Background(), c.ID(), contact.EventQuery{}) {
		require.NoError(t, err)
		b, err := rec.Context.MarshalJSON()
		require.NoError(t, err)
		got = append(got, string(b))
	}
	require.Len(t, got, 1)
	assert.JSONEq(t, ctx, got[0])
	assert.Contains(t, got[0], `12345678901234567890`, "a number digit for digit")
}
