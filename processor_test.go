package regalkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a processor on a fresh memory store with a fixed clock and counting ids.
type fixture struct {
	t     testing.TB
	store contact.Store
	p     *regalkit.Processor
}

func newFixture(t testing.TB, opts *regalkit.Options) *fixture {
	t.Helper()
	if opts == nil {
		opts = &regalkit.Options{}
	}
	n := 0
	var mu sync.Mutex
	opts.NewID = func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("c%03d", n)
	}
	opts.Now = func() time.Time { return t0.Add(24 * time.Hour) }
	store := memstore.New()
	return &fixture{t: t, store: store, p: regalkit.New(store, opts)}
}

// send processes Segment JSON and returns its results.
func (f *fixture) send(payload string) []regalkit.Result {
	f.t.Helper()
	res, err := f.p.ProcessBytes(context.Background(), []byte(payload))
	require.NoError(f.t, err)
	return res
}

func (f *fixture) one(payload string) regalkit.Result {
	f.t.Helper()
	res := f.send(payload)
	require.Len(f.t, res, 1)
	return res[0]
}

func (f *fixture) user(userID string) *contact.Contact {
	f.t.Helper()
	cs, err := f.store.Find(context.Background(), identity.UserKey(userID))
	require.NoError(f.t, err)
	if len(cs) == 0 {
		return nil
	}
	require.Len(f.t, cs, 1)
	return cs[0]
}

func (f *fixture) events(c *contact.Contact) []string {
	f.t.Helper()
	var names []string
	for r, err := range f.store.Events(context.Background(), c.ID(), contact.EventQuery{}) {
		require.NoError(f.t, err)
		names = append(names, r.MessageID)
	}
	return names
}

func (f *fixture) count() int {
	n := 0
	for _, err := range f.store.Contacts(context.Background()) {
		require.NoError(f.t, err)
		n++
	}
	return n
}

func msg(fields string) string { return "{" + fields + "}" }

func at(minutes int) string {
	return `"timestamp":"` + t0.Add(time.Duration(minutes)*time.Minute).Format(time.RFC3339) + `"`
}

func TestProcess_SeedIdentify(t *testing.T) {
	f := newFixture(t, nil)
	res := f.one(`{"type":"identify","messageId":"m1","anonymousId":"507f191e810c19729de860ea","userId":"92980cfccc067","timestamp":"2020-08-25T21:23:43.000Z","context":{"ip":"8.8.8.8"},"traits":{"email":"rebecca@example.com","firstName":"Rebecca","lastName":"Greene","phone":"+19545552399","age":23,"gender":"other","salaryBracket":"$100k-$500k","address":{"AddressLine1":"201 Maiden Lane.","City":"New York"},"optIn":[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":""},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":""}]}}`)
	assert.Empty(t, res.Diagnostics)
	assert.Equal(t, "c001", res.ContactID)
	assert.Contains(t, res.Changed, "contact")
	c := f.user("92980cfccc067")
	require.NotNil(t, c)
	assert.True(t, c.InAudience())
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.Voice))
	assert.Equal(t, []string{"507f191e810c19729de860ea"}, c.AnonymousIDs())
	assert.Equal(t, t0.Add(24*time.Hour), c.CreatedAt())
}

func TestProcess_RuleD6_InvalidMessageIsADiagnostic(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		payload string
		code    diag.Code
	}{
		{msg(`"type":"track","userId":"u1","messageId":"m1"`), diag.MessageNoEvent},
		{msg(`"type":"identify","messageId":"m2"`), diag.MessageNoIdentity},
		{msg(`"type":"launch","userId":"u1","messageId":"m3"`), diag.MessageUnsupportedType},
		{`{"type":"identify",`, diag.MessageInvalid},
	} {
		res := f.one(tt.payload)
		require.Len(t, res.Diagnostics, 1, tt.payload)
		assert.Equal(t, tt.code, res.Diagnostics[0].Code, tt.payload)
		assert.Empty(t, res.ContactID)
	}
	assert.Zero(t, f.count())
}

// TestProcess_RuleD1_GoBuiltObjectsMustBeJSON: a message built in Go whose objects no
// store can write as JSON (a key twice, a value that is not JSON, a context ip beside an
// extra "ip") is refused whole, as the decoder refuses such a message, by Process, by
// the Sink and by ProcessBatch with one and two workers. Before, such a message was
// stored, and its contact's events then failed every export as JSON.
func TestProcess_RuleD1_GoBuiltObjectsMustBeJSON(t *testing.T) {
	bad := []event.Message{
		{Kind: event.Track, MessageID: "b1", UserID: "u1", Event: "E", Time: t0,
			Properties: event.Object{{Key: "a", Value: []byte(`1`)}, {Key: "a", Value: []byte(`2`)}}},
		{Kind: event.Track, MessageID: "b2", UserID: "u1", Event: "E", Time: t0,
			Context: event.Context{IP: "1.2.3.4", Extra: event.Object{{Key: "ip", Value: []byte(`"5.6.7.8"`)}}}},
		{Kind: event.Identify, MessageID: "b3", UserID: "u1", Time: t0,
			Traits: event.Object{{Key: "plan", Value: []byte(`{`)}}},
		{Kind: event.Page, UserID: "u1", Name: "Home", Time: t0, // no messageId: one is derived
			Properties: event.Object{{Key: "url", Value: []byte(`https://x`)}}},
	}
	good := event.Message{Kind: event.Track, MessageID: "g1", UserID: "u1", Event: "E", Time: t0,
		Properties: event.Object{{Key: "a", Value: []byte(`1`)}}}
	check := func(t *testing.T, f *fixture, results []regalkit.Result) {
		t.Helper()
		require.Len(t, results, len(bad)+1)
		for i, res := range results[:len(bad)] {
			require.Len(t, res.Diagnostics, 1, i)
			d := res.Diagnostics[0]
			assert.Equal(t, diag.MessageInvalid, d.Code, i)
			assert.Empty(t, res.ContactID, i)
			assert.NotEmpty(t, res.MessageID, i)
			assert.Equal(t, res.MessageID, d.MessageID, i)
		}
		assert.Equal(t, "properties", results[0].Diagnostics[0].Field)
		assert.Equal(t, "context", results[1].Diagnostics[0].Field)
		assert.Equal(t, "traits", results[2].Diagnostics[0].Field)
		assert.Equal(t, "properties", results[3].Diagnostics[0].Field)
		assert.Equal(t, "g1", results[len(bad)].MessageID)
		assert.NotEmpty(t, results[len(bad)].ContactID)
		c := f.user("u1")
		require.NotNil(t, c)
		assert.Equal(t, []string{"g1"}, f.events(c))
		var events []event.Record
		for r, err := range f.store.Events(context.Background(), c.ID(), contact.EventQuery{}) {
			require.NoError(t, err)
			events = append(events, r)
		}
		_, err := json.Marshal(contact.Export{Contact: c, Events: events})
		require.NoError(t, err, "the contact's export is JSON")
	}
	t.Run("Process", func(t *testing.T) {
		f := newFixture(t, nil)
		var results []regalkit.Result
		for _, m := range append(slices.Clone(bad), good) {
			res, err := f.p.Process(context.Background(), m)
			require.NoError(t, err)
			results = append(results, res)
		}
		check(t, f, results)
	})
	// The sinks answer with diagnostics alone; the RegalSink's function is public too:
	// a caller may hand it messages of its own.
	sinks := map[string]func(f *fixture, msgs []event.Message) ([][]diag.Diagnostic, error){
		"Sink": func(f *fixture, msgs []event.Message) ([][]diag.Diagnostic, error) {
			out, err := f.p.Sink()(context.Background(), msgs)
			var ds [][]diag.Diagnostic
			for _, r := range out {
				ds = append(ds, r.Diagnostics)
			}
			return ds, err
		},
		"RegalSink": func(f *fixture, msgs []event.Message) ([][]diag.Diagnostic, error) {
			out, err := f.p.RegalSink()(context.Background(), msgs)
			var ds [][]diag.Diagnostic
			for _, r := range out {
				ds = append(ds, r.Diagnostics)
			}
			return ds, err
		},
	}
	for name, sink := range sinks {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			ds, err := sink(f, append(slices.Clone(bad), good))
			require.NoError(t, err)
			require.Len(t, ds, len(bad)+1)
			for i, d := range ds[:len(bad)] {
				require.Len(t, d, 1, i)
				assert.Equal(t, diag.MessageInvalid, d[0].Code, i)
			}
			assert.Equal(t, []string{"g1"}, f.events(f.user("u1")))
		})
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("ProcessBatch/workers=%d", workers), func(t *testing.T) {
			f := newFixture(t, &regalkit.Options{Workers: workers})
			results, err := f.p.ProcessBatch(context.Background(), append(slices.Clone(bad), good))
			require.NoError(t, err)
			check(t, f, results)
		})
	}
}

// TestProcess_RuleD4_ClockOutOfRange: an Options.Now outside Rule D4's years would be
// stamped on consent evidence (processed-at, and the time of a message without one)
// where no store reads it back: pgstore then failed every later read of the contact.
// Process, ProcessBytes and ReceiveSMS fail with an error instead, and apply nothing.
func TestProcess_RuleD4_ClockOutOfRange(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	} {
		t.Run(now.Format("2006"), func(t *testing.T) {
			store := memstore.New()
			p := regalkit.New(store, &regalkit.Options{Now: func() time.Time { return now }})
			ctx := context.Background()
			_, err := p.ProcessBytes(ctx, []byte(`{"type":"identify","userId":"u1","messageId":"m1","context":{"ip":"1.2.3.4"},"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-01-01T00:00:00Z"}}}`))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Options.Now")
			_, err = p.Process(ctx, event.Message{Kind: event.Track, MessageID: "m2", UserID: "u1", Event: "E", Time: t0})
			require.Error(t, err, "the clock is read for every message: its processed-at time")
			_, err = p.ReceiveSMS(ctx, regalkit.InboundSMS{From: "+19545552399", Body: "STOP", MessageID: "s1", Time: t0})
			require.Error(t, err)
			for c, err := range store.Contacts(ctx) {
				require.NoError(t, err)
				t.Fatalf("contact %s stored under a clock out of range", c.ID())
			}
		})
	}
}

func TestProcess_RuleE2_DuplicatesChangeNothing(t *testing.T) {
	f := newFixture(t, nil)
	payload := msg(`"type":"track","userId":"u1","messageId":"m1","event":"Viewed",` + at(1))
	first := f.one(payload)
	again := f.one(payload)
	assert.False(t, first.Duplicate)
	assert.True(t, again.Duplicate)
	assert.Empty(t, again.Changed)
	assert.Equal(t, []string{"m1"}, f.events(f.user("u1")))

	// Without a messageId, one is derived from the content, so re-deliveries dedupe.
	noID := msg(`"type":"track","userId":"u1","event":"Clicked",` + at(2))
	a, b := f.one(noID), f.one(noID)
	assert.True(t, strings.HasPrefix(a.MessageID, event.DerivedIDPrefix))
	assert.Equal(t, a.MessageID, b.MessageID)
	assert.True(t, b.Duplicate)
	assert.Len(t, f.events(f.user("u1")), 2)
}

func TestProcess_RuleE3_TrackBeforeIdentify(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"track","userId":"u1","messageId":"t1","event":"Loan Application Approved",` + at(1)))
	c := f.user("u1")
	require.NotNil(t, c)
	assert.False(t, c.InAudience())
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399"},` + at(2)))
	c = f.user("u1")
	assert.True(t, c.InAudience())
	assert.Equal(t, []string{"t1"}, f.events(c))
}

func TestProcess_RuleI2_I3_AnonymousContactMergesIntoKnown(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"page","anonymousId":"a1","messageId":"p1","name":"Home",` + at(1)))
	f.one(msg(`"type":"identify","anonymousId":"a1","messageId":"i1","traits":{"plan":"trial","phone":"+19545552399"},` + at(2)))
	require.Equal(t, 1, f.count(), "anonymous messages share one anonymous contact (I2)")
	cs, err := f.store.Find(context.Background(), identity.AnonymousKey("a1"))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Empty(t, cs[0].UserID())
	assert.True(t, cs[0].InAudience())

	res := f.one(msg(`"type":"identify","userId":"u1","anonymousId":"a1","messageId":"i2","traits":{"firstName":"Ann"},` + at(3)))
	assert.Contains(t, res.Changed, "identity")
	assert.Equal(t, 1, f.count(), "the anonymous contact merged into the known one (I3)")
	c := f.user("u1")
	assert.Equal(t, "Ann", c.FirstName())
	plan, _ := c.Custom("plan")
	assert.Equal(t, `"trial"`, plan)
	assert.Equal(t, "+19545552399", c.Phone())
	assert.Equal(t, []string{"p1"}, f.events(c), "its events moved over")

	// Later anonymous-only messages go to the known contact.
	f.one(msg(`"type":"track","anonymousId":"a1","messageId":"t2","event":"Clicked",` + at(4)))
	assert.Equal(t, []string{"p1", "t2"}, f.events(f.user("u1")))
	assert.Equal(t, 1, f.count())
}

func TestProcess_RuleI4_SharedAnonymousIDHandsOverByTime(t *testing.T) {
	f := newFixture(t, nil)
	// Anonymous browsing on a shared device, then alice logs in at 10, bob at 20.
	for _, m := range []string{
		msg(`"type":"page","anonymousId":"a","messageId":"p05","name":"x",` + at(5)),
		msg(`"type":"page","anonymousId":"a","messageId":"p15","name":"x",` + at(15)),
		msg(`"type":"page","anonymousId":"a","messageId":"p25","name":"x",` + at(25)),
		msg(`"type":"identify","userId":"alice","anonymousId":"a","messageId":"la",` + at(10)),
	} {
		f.one(m)
	}
	assert.Equal(t, []string{"p05", "p15", "p25"}, f.events(f.user("alice")))
	// Bob's link arrives late: the messages after it move to him.
	res := f.one(msg(`"type":"identify","userId":"bob","anonymousId":"a","messageId":"lb",` + at(20)))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.IdentityConflict, res.Diagnostics[0].Code)
	assert.Equal(t, []string{"p05", "p15"}, f.events(f.user("alice")))
	assert.Equal(t, []string{"p25"}, f.events(f.user("bob")))
	assert.Equal(t, 2, f.count(), "two userIds never merge (I1)")
}

func TestProcess_RuleI5_Alias(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"identify","userId":"old","messageId":"i1","traits":{"firstName":"Ann"},` + at(1)))
	res := f.one(msg(`"type":"alias","userId":"new","previousId":"old","messageId":"al1",` + at(2)))
	assert.Empty(t, res.Diagnostics)
	c := f.user("new")
	require.NotNil(t, c)
	assert.Equal(t, "Ann", c.FirstName())
	assert.Equal(t, []string{"old"}, c.FormerUserIDs())
	assert.Equal(t, c.ID(), f.user("old").ID(), "the old External ID stays a lookup key")
	f.one(msg(`"type":"track","userId":"old","messageId":"t1","event":"E",` + at(3)))
	assert.Equal(t, []string{"t1"}, f.events(f.user("new")))

	// Both userIds already own contacts: conflict, nothing merges.
	f.one(msg(`"type":"identify","userId":"other","messageId":"i2",` + at(4)))
	res = f.one(msg(`"type":"alias","userId":"other","previousId":"new","messageId":"al2",` + at(5)))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.IdentityConflict, res.Diagnostics[0].Code)
	assert.Equal(t, 2, f.count())

	// An alias from an anonymous ID stitches like I3.
	f.one(msg(`"type":"page","anonymousId":"a9","messageId":"p9","name":"x",` + at(6)))
	f.one(msg(`"type":"alias","userId":"other","previousId":"a9","messageId":"al3",` + at(7)))
	assert.Equal(t, []string{"p9"}, f.events(f.user("other")))
	assert.Equal(t, 2, f.count())
}

func TestProcess_RuleI7_Delete(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399"},` + at(1)))
	f.one(msg(`"type":"track","userId":"u1","messageId":"t1","event":"E",` + at(2)))
	f.one(msg(`"type":"delete","userId":"u1","messageId":"d1",` + at(10)))
	assert.Nil(t, f.user("u1"))
	assert.Zero(t, f.count())

	late := f.one(msg(`"type":"track","userId":"u1","messageId":"t-late","event":"E",` + at(5)))
	require.Len(t, late.Diagnostics, 1)
	assert.Equal(t, diag.MessageDeleted, late.Diagnostics[0].Code)
	assert.Zero(t, f.count())

	fresh := f.one(msg(`"type":"identify","userId":"u1","messageId":"i2","traits":{"firstName":"New"},` + at(20)))
	assert.Empty(t, fresh.Diagnostics)
	c := f.user("u1")
	require.NotNil(t, c)
	assert.Equal(t, "New", c.FirstName())
	assert.False(t, c.InAudience())
}

func TestProcess_RuleI7_DeleteArrivingLate(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399","lastName":"Old"},` + at(1)))
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i2","traits":{"firstName":"New"},` + at(20)))
	f.one(msg(`"type":"track","userId":"u1","messageId":"t1","event":"E",` + at(2)))
	f.one(msg(`"type":"track","userId":"u1","messageId":"t2","event":"E",` + at(21)))
	f.one(msg(`"type":"delete","userId":"u1","messageId":"d1",` + at(10)))
	c := f.user("u1")
	require.NotNil(t, c)
	assert.Equal(t, "New", c.FirstName())
	assert.Empty(t, c.LastName())
	assert.False(t, c.InAudience())
	assert.Equal(t, []string{"t2"}, f.events(c))
}

func TestProcess_RuleC8_OptInEvents(t *testing.T) {
	f := newFixture(t, &regalkit.Options{
		OptInEvents:  map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
		OptOutEvents: map[string][]optin.Channel{"Unsubscribed": nil},
	})
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399"},` + at(1)))
	f.one(msg(`"type":"track","userId":"u1","messageId":"t1","event":"SMS Opt In","context":{"ip":"8.8.8.8"},` + at(2)))
	c := f.user("u1")
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateNone, c.Subscription(optin.Voice))
	f.one(msg(`"type":"track","userId":"u1","messageId":"t2","event":"Unsubscribed",` + at(3)))
	c = f.user("u1")
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.Voice))
	// An opt-in event without an IP is refused (Rule C4).
	res := f.one(msg(`"type":"track","userId":"u1","messageId":"t3","event":"SMS Opt In",` + at(4)))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinNoIP, res.Diagnostics[0].Code)
}

func TestProcess_RuleC5_PendingConsentAppliesWhenAPhoneArrives(t *testing.T) {
	f := newFixture(t, nil)
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","context":{"ip":"8.8.8.8"},"traits":{"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}},` + at(1)))
	assert.Equal(t, optin.StateNone, f.user("u1").Subscription(optin.SMS))
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i2","traits":{"phone":"+19545552399"},` + at(5)))
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS))
}

func TestProcess_RuleI6_MatchByPhone(t *testing.T) {
	f := newFixture(t, &regalkit.Options{MatchByPhone: true})
	f.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399"},` + at(1)))
	res := f.one(msg(`"type":"identify","anonymousId":"a1","messageId":"i2","traits":{"phone":"(954) 555-2399","plan":"x"},` + at(2)))
	assert.Equal(t, f.user("u1").ID(), res.ContactID)
	plan, _ := f.user("u1").Custom("plan")
	assert.Equal(t, `"x"`, plan)

	off := newFixture(t, nil)
	off.one(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+19545552399"},` + at(1)))
	off.one(msg(`"type":"identify","anonymousId":"a1","messageId":"i2","traits":{"phone":"(954) 555-2399"},` + at(2)))
	assert.Equal(t, 2, off.count(), "off by default")
}

func TestProcess_CancelledContextAppliesNothing(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var m event.Message
	res, err := f.p.ProcessBytes(ctx, []byte(msg(`"type":"identify","userId":"u1","messageId":"i1",`+at(1))))
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, res)
	_ = m
	assert.Zero(t, f.count())
	// The message was not marked processed: a retry applies it.
	assert.False(t, f.one(msg(`"type":"identify","userId":"u1","messageId":"i1",`+at(1))).Duplicate)
}

func TestProcess_ConcurrentUse(t *testing.T) {
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				user := fmt.Sprintf("u%d", i%5)
				payload := msg(fmt.Sprintf(`"type":"track","userId":%q,"anonymousId":"a%d","messageId":"g%d-%d","event":"E",`, user, g%3, g, i) + at(i))
				if _, err := f.p.ProcessBytes(context.Background(), []byte(payload)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for u := range 5 {
		total += len(f.events(f.user(fmt.Sprintf("u%d", u))))
	}
	assert.Equal(t, 8*25, total, "every event landed once")
}

func TestProcess_LoggerNeverSeesPhonesOrEmails(t *testing.T) {
	var buf bytes.Buffer
	f := newFixture(t, &regalkit.Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	f.send(msg(`"type":"identify","userId":"u1","messageId":"i1","traits":{"phone":"+1 555 555 5555","email":"rebecca.greene@example"},` + at(1)))
	f.send(msg(`"type":"identify","userId":"u1","messageId":"i2","traits":{"phone":"+19545552399","email":"rebecca@example.com"},` + at(2)))
	require.NotEmpty(t, buf.String())
	for _, secret := range []string{"555 555", "5555555", "9545552399", "rebecca"} {
		assert.NotContains(t, buf.String(), secret)
	}
}

func TestNew_PanicsOnInvalidOptions(t *testing.T) {
	assert.Panics(t, func() { regalkit.New(memstore.New(), &regalkit.Options{Region: "XX"}) })
	assert.Panics(t, func() {
		regalkit.New(memstore.New(), &regalkit.Options{OptInEvents: map[string][]optin.Channel{"E": {"fax"}}})
	})
	assert.Error(t, (&regalkit.Options{Region: "XX"}).Validate())
	assert.NoError(t, (*regalkit.Options)(nil).Validate())
}

var _ = slices.Sort[[]string]
var _ = json.Marshal

// TestTimesOutsideTheRange_RuleD4: a time a contact cannot keep (outside the years of
// 64-bit nanoseconds since 1970; RFC 3339 itself ends at 9999) never reaches one: a
// consent record with it is refused as one without a timestamp (Rule C3), a message
// built in Go with it is refused, and so is an inbound text; the contact can still be
// exported and stored.
func TestTimesOutsideTheRange_RuleD4(t *testing.T) {
	f := newFixture(t, nil)
	res := f.one(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-01-01T00:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"phone":"+19545552399","optIn":{"channel":"sms","subscribed":true,"timestamp":"9999-12-31T23:30:00-01:00"}}}`)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinNoTimestamp, res.Diagnostics[0].Code)
	c := f.user("u1")
	_, err := json.Marshal(c)
	require.NoError(t, err, "the contact exports")
	b, err := contact.EncodeStorage(c)
	require.NoError(t, err)
	_, err = contact.DecodeStorage(b)
	require.NoError(t, err, "and reads back")

	m := event.Message{Kind: event.Track, UserID: "u1", Event: "Viewed", MessageID: "m2", Time: time.Date(30000, 1, 1, 0, 0, 0, 0, time.UTC)}
	res, err = f.p.Process(context.Background(), m)
	require.NoError(t, err)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.TimestampInvalid, res.Diagnostics[0].Code)
	assert.NotContains(t, f.events(f.user("u1")), "m2")

	r, err := f.p.ReceiveSMS(context.Background(), regalkit.InboundSMS{From: "+19545552399", Body: "STOP", Time: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.TimestampInvalid, r.Diagnostics[0].Code)
}

// TestRefusedMessageID_sameEveryWay_RuleE2: a message refused whole (Rule D6) without a
// messageId gets the same derived one (Rule E2) through ProcessBytes as through
// Process, on its result and its diagnostic.
func TestRefusedMessageID_sameEveryWay_RuleE2(t *testing.T) {
	f := newFixture(t, nil)
	raw := []byte(`{"type":"track","userId":"u"}`)
	res, err := f.p.ProcessBytes(context.Background(), raw)
	require.NoError(t, err)
	require.Len(t, res, 1)
	var m event.Message
	require.Error(t, segmentio.Unmarshal(raw, &m), "the message is refused (no event), and read all the same")
	require.Equal(t, event.Track, m.Kind)
	direct, err := f.p.Process(context.Background(), m)
	require.NoError(t, err)
	require.NotEmpty(t, direct.MessageID)
	assert.Equal(t, direct.MessageID, res[0].MessageID)
	require.Len(t, res[0].Diagnostics, 1)
	assert.Equal(t, direct.MessageID, res[0].Diagnostics[0].MessageID)
}

// TestProcess_LongMessageIDNotEchoed_RuleD6: a messageId refused for its length is not
// in the result nor its diagnostic: it may hold anything, a sender's email included.
func TestProcess_LongMessageIDNotEchoed_RuleD6(t *testing.T) {
	f := newFixture(t, nil)
	res := f.one(`{"type":"track","event":"E","userId":"u","messageId":"` + strings.Repeat("x", 90) + `bob.secret@example.com"}`)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.MessageInvalidID, res.Diagnostics[0].Code)
	assert.Empty(t, res.MessageID)
	assert.Empty(t, res.Diagnostics[0].MessageID)

	res, err := f.p.Process(context.Background(), event.Message{Kind: event.Track, Event: "E", UserID: "u", MessageID: strings.Repeat("y", 101)})
	require.NoError(t, err)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.MessageInvalidID, res.Diagnostics[0].Code)
	assert.Empty(t, res.MessageID)
	assert.Empty(t, res.Diagnostics[0].MessageID)

	// Another identifier refused for its length (over event.MaxIDBytes) leaves the
	// messageId where it was, as the decoder does.
	res, err = f.p.Process(context.Background(), event.Message{Kind: event.Track, Event: "E", UserID: strings.Repeat("u", event.MaxIDBytes+1), MessageID: "keep-me"})
	require.NoError(t, err)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.MessageInvalidID, res.Diagnostics[0].Code)
	assert.Equal(t, "userId", res.Diagnostics[0].Field)
	assert.Equal(t, "keep-me", res.MessageID)
	assert.Equal(t, "keep-me", res.Diagnostics[0].MessageID)
}

// TestAlias_RuleI4_RenameWithTheAnonymousIDIsNoConflict: the mobile libraries and
// analytics.js send the device's anonymousId with every call, so renaming a user is
// identify(P, A) then alias(P→U, A). A is then linked to P and to U, which the alias
// made one person: once the alias is applied no message reports identity.conflict, in
// any order (before it, P and U with A are two contacts, and the second to link A
// reports it, as any result says what was known when it was applied). A second person's
// link of A still does (Rule I4).
func TestAlias_RuleI4_RenameWithTheAnonymousIDIsNoConflict(t *testing.T) {
	identify := `{"type":"identify","userId":"P11","anonymousId":"dev-11","traits":{"firstName":"Pee"},"messageId":"r11-1","timestamp":"2024-03-01T08:00:00Z"}`
	alias := `{"type":"alias","previousId":"P11","userId":"U11","anonymousId":"dev-11","messageId":"r11-2","timestamp":"2024-03-01T09:00:00Z"}`
	track := `{"type":"track","userId":"U11","anonymousId":"dev-11","event":"E","messageId":"r11-3","timestamp":"2024-03-01T10:00:00Z"}`
	anon := `{"type":"track","anonymousId":"dev-11","event":"A","messageId":"r11-4","timestamp":"2024-03-01T11:00:00Z"}`
	other := `{"type":"identify","userId":"Q11","anonymousId":"dev-11","messageId":"r11-5","timestamp":"2024-03-01T12:00:00Z"}`
	permutations([]string{identify, alias, track, anon}, func(order []string) {
		f := newFixture(t, nil)
		aliased := false
		for _, m := range order {
			aliased = aliased || m == alias
			res := f.one(m)
			for _, d := range res.Diagnostics {
				if aliased {
					assert.NotEqual(t, diag.IdentityConflict, d.Code, "order %v: %s: %v", order, res.MessageID, d)
				}
			}
		}
		c := f.user("U11")
		require.NotNil(t, c, "order %v", order)
		assert.Equal(t, []string{"P11"}, c.FormerUserIDs(), "order %v", order)
		assert.Equal(t, []string{"r11-3", "r11-4"}, f.events(c), "order %v", order)
		assert.Equal(t, 1, f.count(), "order %v", order)
		res := f.one(other)
		require.Len(t, res.Diagnostics, 1, "order %v", order)
		assert.Equal(t, diag.IdentityConflict, res.Diagnostics[0].Code, "order %v: another person's link is a conflict", order)
	})
}

// TestAlias_RuleI5_ConflictMadeByALateMessageIsReported: an alias from P to U is a
// conflict when both had messages of their own before it (Rule I5); when the message
// that makes it one arrives after the alias, the alias's result said it joined, and the
// late message reports the conflict (identity.conflict), whichever side it is on:
// nothing is dropped silently. An acceptance run found the contacts split without a word.
func TestAlias_RuleI5_ConflictMadeByALateMessageIsReported(t *testing.T) {
	p := `{"type":"identify","userId":"P10","traits":{"firstName":"Pee"},"messageId":"c10-1","timestamp":"2024-03-01T08:00:00Z"}`
	u := `{"type":"identify","userId":"U10","traits":{"lastName":"You"},"messageId":"c10-2","timestamp":"2024-03-01T08:30:00Z"}`
	alias := `{"type":"alias","previousId":"P10","userId":"U10","messageId":"c10-3","timestamp":"2024-03-01T09:00:00Z"}`
	for _, tt := range []struct {
		name  string
		order []string
		late  string // the message whose result reports the conflict
	}{
		{"U's message last", []string{p, alias, u}, "c10-2"},
		{"P's message last", []string{u, alias, p}, "c10-1"},
		{"the alias last", []string{p, u, alias}, "c10-3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			var reported []string
			for _, m := range tt.order {
				res := f.one(m)
				for _, d := range res.Diagnostics {
					if d.Code == diag.IdentityConflict {
						reported = append(reported, res.MessageID)
					}
				}
			}
			assert.Equal(t, []string{tt.late}, reported)
			assert.Equal(t, 2, f.count(), "P10 and U10 stand apart")
		})
	}
}

// TestHold_RuleI4_CostGrowsLinearly: a visitor's anonymous-only messages under one
// anonymousId, then the link that claims them all, cost bytes that grow linearly with
// their number. A hostile-sender review measured 277 MB for 2,500 tracks and 3.8 GB for
// the eighth 2,500 (each message copied every earlier one: copy-on-write of the held
// list), and 51 s for the link after 20,000 (each moved message rebuilt the contact from
// every message it still held, and looked itself up among the removed events).
func TestHold_RuleI4_CostGrowsLinearly(t *testing.T) {
	alloc := func(n int) uint64 {
		store := memstore.New()
		p := regalkit.New(store, nil)
		var b strings.Builder
		b.WriteString("[")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type":"track","event":"E","anonymousId":"crawler","messageId":"h%d","timestamp":"2024-01-01T%02d:%02d:%02dZ"}`, i, i/3600, i/60%60, i%60)
		}
		b.WriteString("]")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := p.ProcessBytes(context.Background(), []byte(b.String()))
		require.NoError(t, err)
		res, err := p.ProcessBytes(context.Background(), []byte(`{"type":"identify","userId":"U","anonymousId":"crawler","messageId":"link","timestamp":"2024-01-02T00:00:00Z"}`))
		require.NoError(t, err)
		runtime.ReadMemStats(&after)
		require.Len(t, res, 1)
		c, err := store.Find(context.Background(), identity.UserKey("U"))
		require.NoError(t, err)
		require.Len(t, c, 1, "the link claims the visitor's contact")
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(1000), alloc(2000)
	assert.Less(t, float64(large)/float64(small), 3.0, "%d bytes for 1,000 messages, %d for 2,000", small, large)
}
