package regalkit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/regalio"
	"github.com/regalkit/regalkit/segmentio"
	"github.com/regalkit/regalkit/trigger"
)

const (
	nyPhone  = "+19175554444"
	optInSMS = `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"8.8.8.8"}`
)

func identifyPhone(user, phone, extra string) string {
	s := `{"type":"identify","userId":"` + user + `","messageId":"id-` + user + `","timestamp":"2024-03-01T11:00:00Z","traits":{"phone":"` + phone + `"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}}"
}

func regalSMS(id, from, body, at string) string {
	return `{"type":"track","event":"sms.received","eventSource":"Regal Voice","anonymousId":"regal-contact:` + from +
		`","messageId":"` + id + `","timestamp":"` + at + `","properties":{"content":"` + body + `","contact_phone":"` + from + `"}}`
}

func (f *fixture) receive(in regalkit.InboundSMS) regalkit.Result {
	f.t.Helper()
	r, err := f.p.ReceiveSMS(context.Background(), in)
	require.NoError(f.t, err)
	return r
}

// TestReceiveSMS_StopAppliesToEveryContact_RuleG7: a STOP opts the phone out on every
// contact that has it, with the reply as evidence, whether it arrives before or after
// the contacts get the phone.
func TestReceiveSMS_StopAppliesToEveryContact_RuleG7(t *testing.T) {
	stop := regalkit.InboundSMS{From: "(917) 555-4444", Body: "Stop.", Time: t0, MessageID: "sms-1"}
	for _, stopFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "stop first", false: "stop last"}[stopFirst], func(t *testing.T) {
			f := newFixture(t, nil)
			if stopFirst {
				f.receive(stop)
			}
			f.one(identifyPhone("u1", nyPhone, optInSMS))
			f.one(identifyPhone("u2", nyPhone, optInSMS))
			if !stopFirst {
				r := f.receive(stop)
				assert.Contains(t, r.Changed, "consent")
			}
			for _, u := range []string{"u1", "u2"} {
				c := f.user(u)
				require.NotNil(t, c)
				assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS), u)
				assert.Equal(t, optin.StateNone, c.Subscription(optin.Voice), "voice only by option")
				e, ok := c.ConsentView().Current(nyPhone, optin.SMS)
				require.True(t, ok)
				assert.Equal(t, optin.SourceSMSKeyword, e.Source)
				assert.Equal(t, "Stop.", e.Text)
				assert.Equal(t, t0, e.Timestamp)
				assert.Equal(t, "sms-1", e.MessageID)
			}
			// A redelivery changes nothing (Rule E2).
			r := f.receive(stop)
			assert.True(t, r.Duplicate)
		})
	}
}

// TestReceiveSMS_StartAndOptions_RuleG6: START re-subscribes SMS without an IP; YES only
// by option; a STOP widened to voice by option.
func TestReceiveSMS_StartAndOptions_RuleG6(t *testing.T) {
	f := newFixture(t, &regalkit.Options{Keywords: optin.KeywordOptions{YesOptsIn: true, Voice: true}})
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "s1"})
	c := f.user("u1")
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.Voice))
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "start", Time: t0.Add(time.Minute), MessageID: "s2"})
	c = f.user("u1")
	assert.Equal(t, optin.StateSubscribed, c.Subscription(optin.SMS))
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.Voice), "START re-subscribes SMS only")
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0.Add(2 * time.Minute), MessageID: "s3"})
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "Yes", Time: t0.Add(3 * time.Minute), MessageID: "s4"})
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS))

	g := newFixture(t, nil)
	g.one(identifyPhone("u1", nyPhone, optInSMS))
	g.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "s1"})
	r := g.receive(regalkit.InboundSMS{From: nyPhone, Body: "yes", Time: t0.Add(time.Minute), MessageID: "s2"})
	assert.Empty(t, r.Changed)
	assert.Equal(t, optin.StateUnsubscribed, g.user("u1").Subscription(optin.SMS), "YES is not START by default")
}

// TestReceiveSMS_PossibleOptOut_RuleG5: a longer message is a diagnostic and an event,
// not a revocation, unless the option says so.
func TestReceiveSMS_PossibleOptOut_RuleG5(t *testing.T) {
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	r := f.receive(regalkit.InboundSMS{From: nyPhone, Body: "please stop texting me", Time: t0, MessageID: "s1"})
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.KeywordPossibleOptOut, r.Diagnostics[0].Code)
	assert.NotContains(t, r.Diagnostics[0].Message, "5554444", "no whole phone in a diagnostic")
	assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS))
	regs, err := f.store.Find(context.Background(), identity.AnonymousKey(regalkit.KeywordRegisterPrefix+nyPhone))
	require.NoError(t, err)
	require.Len(t, regs, 1)
	assert.Equal(t, []string{"s1"}, f.events(regs[0]))

	g := newFixture(t, &regalkit.Options{Keywords: optin.KeywordOptions{ContainedOptsOut: true}})
	g.one(identifyPhone("u1", nyPhone, optInSMS))
	g.receive(regalkit.InboundSMS{From: nyPhone, Body: "please stop texting me", Time: t0, MessageID: "s1"})
	assert.Equal(t, optin.StateUnsubscribed, g.user("u1").Subscription(optin.SMS))

	h := newFixture(t, nil)
	r = h.receive(regalkit.InboundSMS{From: "+1 555 555 5555", Body: "STOP", Time: t0})
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.PhoneInvalid, r.Diagnostics[0].Code)
	assert.Equal(t, 0, h.count())
}

// TestRegalSMSReceived_RuleG8: Regal's sms.received takes the same path, and the phone a
// contact gains later gets the STOP; a phone the contact loses takes it away.
func TestRegalSMSReceived_RuleG8(t *testing.T) {
	f := newFixture(t, nil)
	f.one(regalSMS("e1", nyPhone, "STOP", "2024-03-01T12:00:00Z"))
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	c := f.user("u1")
	assert.Equal(t, optin.StateUnsubscribed, c.Subscription(optin.SMS))
	// The phone changes: the keyword record leaves with it.
	f.one(`{"type":"identify","userId":"u1","messageId":"later","timestamp":"2024-03-01T13:00:00Z","traits":{"phones":{"` + nyPhone + `":null,"+13105550123":{"isPrimary":true}}}}`)
	c = f.user("u1")
	assert.NotContains(t, c.Phones(), nyPhone)
	for _, e := range c.ConsentView().History() {
		assert.NotEqual(t, optin.SourceSMSKeyword, e.Source, "the STOP belongs to the phone the contact no longer has")
	}

	// A keyword reply without a sender applies to no phone, and says so.
	res := f.one(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","userId":"u1","messageId":"r-nosender","timestamp":"2024-03-02T11:00:00Z","properties":{"content":"STOP"}}`)
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.RegalInvalid, res.Diagnostics[0].Code)
	assert.Equal(t, "properties.contact_phone", res.Diagnostics[0].Field)
	none := f.one(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","userId":"u1","messageId":"r-chat","timestamp":"2024-03-02T11:01:00Z","properties":{"content":"thanks!"}}`)
	assert.Empty(t, none.Diagnostics, "no keyword, nothing to say")
}

// TestReceiveSMS_Limits: a messageId over 100 characters is refused, and one of 100
// characters of two bytes each is not (Rule D6); a long
// body is kept cut to 1,600 bytes.
func TestReceiveSMS_Limits(t *testing.T) {
	f := newFixture(t, nil)
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'x'
	}
	r := f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: string(long)})
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.MessageInvalidID, r.Diagnostics[0].Code)
	assert.Equal(t, 0, f.count())
	// The limit counts characters, as a message's messageId does (event.Validate).
	r = f.receive(regalkit.InboundSMS{From: nyPhone, Body: "hi", Time: t0, MessageID: strings.Repeat("é", 100)})
	assert.Empty(t, r.Diagnostics, "100 two-byte characters are within the limit")

	body := "please stop " + string(make([]byte, 3000))
	r = f.receive(regalkit.InboundSMS{From: nyPhone, Body: body, Time: t0, MessageID: "s-long"})
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.KeywordPossibleOptOut, r.Diagnostics[0].Code)

	// Identifiers are text (Rule D6), and the body is kept as text: a store that writes
	// JSON keeps what memory keeps.
	n := f.count()
	r = f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "s\xff"})
	require.Len(t, r.Diagnostics, 1)
	assert.Equal(t, diag.MessageInvalid, r.Diagnostics[0].Code)
	assert.Empty(t, r.MessageID)
	assert.Equal(t, n, f.count())
	r = f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP\xff", Time: t0, MessageID: "s-bad-body"})
	require.Empty(t, r.Diagnostics)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	for _, e := range f.user("u1").ConsentView().History() {
		assert.True(t, utf8.ValidString(e.Text), "%q", e.Text)
	}
}

// TestKeyword_OrderRegressions replays, in every order, two sets the S3 property test
// once found order-dependent (Rule G7): the same STOP carried by two messages (the
// register must keep the earlier carrier whichever arrives first), and a STOP before an
// anonymous contact gets the phone and is then aliased away (the emptied contact must
// go, as it does without the STOP).
func TestKeyword_OrderRegressions(t *testing.T) {
	stop := func(extra string) string {
		return `{"timestamp":"2024-03-01T12:00:00Z","type":"track","userId":"u1",` + extra + `"context":{},"event":"sms.received","eventSource":"Regal Voice","properties":{"content":"STOP","contact_phone":"+19545552399"}}`
	}
	sets := [][]string{
		{`{"type":"delete","userId":"u1","messageId":"m00","timestamp":"2024-03-01T12:00:00Z"}`, stop(``), stop(`"anonymousId":"a1",`)},
		{stop(``),
			`{"timestamp":"2024-03-01T12:00:00Z","type":"identify","anonymousId":"a1","context":{},"traits":{"phones":{"+19545552399":{"voiceOptIn":{"subscribed":false,"timestamp":"2024-03-01T12:05:00Z"}}}}}`,
			`{"timestamp":"2024-03-01T12:00:00Z","type":"alias","userId":"u2","previousId":"a1"}`},
	}
	perms := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for i, set := range sets {
		want := replayAll(t, set)
		for _, p := range perms {
			got := replayAll(t, []string{set[p[0]], set[p[1]], set[p[2]]})
			assert.Equal(t, want, got, "set %d, order %v", i, p)
		}
	}
}

// TestReservedSource_RuleG7: a record sent with the source reserved for replies (an
// optIn trait, a Regal consent event) is kept under SourceSentSMSKeyword with a
// diagnostic, so that the phone's replies never replace it: an opt-out that names it
// counts in every arrival order, and an opt-in that names it still needs its IP (C4).
func TestReservedSource_RuleG7(t *testing.T) {
	optIn := identifyPhone("u1", nyPhone, optInSMS)
	stop := `{"type":"identify","userId":"u1","messageId":"id-u1-stop","timestamp":"2024-03-02T11:00:00Z","traits":{"phone":"` + nyPhone +
		`","optIn":{"channel":"sms","subscribed":false,"timestamp":"2024-03-02T11:00:00Z","source":"sms_keyword","text":"STOP"}}}`
	assert.Equal(t, replayAll(t, []string{optIn, stop}), replayAll(t, []string{stop, optIn}), "the same contacts in either order (Rule S3)")
	for _, order := range [][]string{{optIn, stop}, {stop, optIn}} {
		f := newFixture(t, nil)
		var diags []diag.Diagnostic
		for _, m := range order {
			diags = append(diags, f.one(m).Diagnostics...)
		}
		assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS), "the sent opt-out counts")
		require.Len(t, diags, 1)
		assert.Equal(t, diag.OptinInvalid, diags[0].Code)
		assert.Equal(t, "traits.optIn.source", diags[0].Field)
	}

	// Regal's consent events: an opt-out in either order, and an opt-in without an IP
	// that a reply's evidence cannot stand in for.
	identify := identifyPhone("u1", "+19545552399", `"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T11:00:00Z","ip":"8.8.8.8"}`)
	unsub := regalEvent("contact.unsubscribed", "e1", "u1", 3600, `{"channel":"SMS","source":"sms_keyword","text":"STOP"}`)
	for _, regalFirst := range []bool{false, true} {
		f := newFixture(t, nil)
		if regalFirst {
			f.processRegal(unsub)
		}
		f.one(identify)
		if !regalFirst {
			f.processRegal(unsub)
		}
		assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS), "regal first: %v", regalFirst)
	}
	f := newFixture(t, nil)
	f.one(identifyPhone("u2", "+19545552399", ""))
	res := f.processRegal(regalEvent("contact.subscribed", "e2", "u2", 3600, `{"channel":"SMS","source":"sms_keyword","text":"yes"}`))
	codes := []diag.Code{}
	for _, d := range res.Diagnostics {
		codes = append(codes, d.Code)
	}
	assert.ElementsMatch(t, []diag.Code{diag.OptinInvalid, diag.OptinNoIP}, codes)
	assert.NotEqual(t, optin.StateSubscribed, f.user("u2").Subscription(optin.SMS), "a YES that names the source is no START reply (Rule C4)")
}

func TestOptInEvents_ReservedName(t *testing.T) {
	_, err := optin.NewEvents(map[string][]optin.Channel{optin.SourceSMSKeyword: nil}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reserved")
}

// TestReceiveSMS_ReachesRegalAndTriggers_RuleO1: a STOP sent outside Regal goes
// through the same transaction as a message: the contact it unsubscribes gets an
// outbox entry, so that Regal hears of it (Rule O1), the phone's keyword register does
// not, and a trigger that requires SMS consent reports the contact leaving (Rule J4).
func TestReceiveSMS_ReachesRegalAndTriggers_RuleO1(t *testing.T) {
	tr, err := trigger.Decode(strings.NewReader(`{"name":"approved","entry":{"event":"Approved"},"require":{"subscribed":"sms"}}`))
	require.NoError(t, err)
	f := newFixture(t, &regalkit.Options{Outbox: true, Triggers: []*trigger.Trigger{tr}})
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	f.one(`{"type":"track","userId":"u1","event":"Approved","messageId":"m-approved","timestamp":"2024-03-01T12:30:00Z"}`)
	drain(t, f.store)
	u1 := f.user("u1").ID()

	r := f.receive(regalkit.InboundSMS{From: "(917) 555-4444", Body: "STOP", Time: t0, MessageID: "sms-1"})
	require.Len(t, r.Triggers, 1, "the contact leaves the trigger that requires SMS consent")
	assert.NotZero(t, r.Triggers[0].Seq)
	assert.Equal(t, regalkit.TriggerChange{Trigger: "approved", ContactID: u1, Entered: false, Seq: r.Triggers[0].Seq}, r.Triggers[0])
	es := drain(t, f.store)
	require.Len(t, es, 1, "one entry, for the unsubscribed contact and not for the keyword register")
	assert.Equal(t, u1, es[0].ContactID)
	assert.Equal(t, "sms-1", es[0].MessageID)
	assert.Nil(t, es[0].Event)

	r = f.receive(regalkit.InboundSMS{From: "(917) 555-4444", Body: "STOP", Time: t0, MessageID: "sms-1"})
	assert.True(t, r.Duplicate)
	assert.Empty(t, drain(t, f.store), "a redelivery adds nothing (Rule E2)")
}

// TestRegalStart_evidence_RuleG6: a START is its own evidence only from Regal's
// authenticated webhook (RegalSink). One reported through Segment, where anyone
// holding a write key can send a track marked "Regal Voice", is an opt-in like any
// other: without an IP it is refused (Rule C4) and the person's STOP stands; with
// context.ip it applies.
func TestRegalStart_evidence_RuleG6(t *testing.T) {
	at := rfc("2024-03-04T16:00:00Z")
	start := func(id, ip string) string {
		return `{"type":"track","anonymousId":"attacker","messageId":"` + id + `","timestamp":"2024-03-02T00:00:00Z","context":{"ip":"` + ip + `"},` +
			`"event":"sms.received","properties":{"eventSource":"Regal Voice","content":"START","contact_phone":"` + nyPhone + `"}}`
	}
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "real-stop"})
	require.Equal(t, diag.GuardOptedOut, f.guardReason(nyPhone, optin.SMS, at))

	res := f.one(start("forged", ""))
	require.Len(t, res.Diagnostics, 1)
	assert.Equal(t, diag.OptinNoIP, res.Diagnostics[0].Code)
	assert.Equal(t, diag.GuardOptedOut, f.guardReason(nyPhone, optin.SMS, at), "a START through Segment without an IP changes nothing")
	assert.Equal(t, optin.StateUnsubscribed, f.user("u1").Subscription(optin.SMS))

	res = f.one(start("with-ip", "8.8.8.8"))
	assert.Empty(t, res.Diagnostics)
	assert.Empty(t, f.guardReason(nyPhone, optin.SMS, at), "with context.ip it is an opt-in with its evidence")

	// From Regal's webhook, through RegalSink, the reply is its own evidence.
	f = newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "real-stop"})
	e, err := regalio.DecodeEvent([]byte(`{"name":"sms.received","eventId":"e1","originalTimestamp":"1709337600","properties":{"content":"START","contact_phone":"` + nyPhone + `"}}`))
	require.NoError(t, err)
	out, err := f.p.RegalSink()(context.Background(), []event.Message{e.Message()})
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Empty(t, out[0].Diagnostics)
	assert.Empty(t, f.guardReason(nyPhone, optin.SMS, at))
}

// TestRegalStop_fromNumber_RuleG8: Regal's Segment source names an inbound text's
// sender properties.from_number; a STOP with only that opts the phone out.
func TestRegalStop_fromNumber_RuleG8(t *testing.T) {
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	res := f.one(`{"type":"track","userId":"u1","event":"sms.received","messageId":"s1","timestamp":"2024-03-01T13:00:00Z",
		"properties":{"eventSource":"Regal Voice","content":"STOP","from_number":"` + nyPhone + `","to_number":"+13055550100","direction":"INBOUND"}}`)
	assert.Empty(t, res.Diagnostics)
	assert.Equal(t, diag.GuardOptedOut, f.guardReason(nyPhone, optin.SMS, rfc("2024-03-01T15:00:00Z")))
}

// TestReceiveSMS_withoutTimeOrID_RuleE2: a text given neither a Time nor a MessageID
// cannot be told from a redelivery: each delivery is a new message, so a person's
// second STOP after a START is not dropped as a duplicate of the first, and a START is
// refused, so that a START delivered again never undoes a later STOP.
func TestReceiveSMS_withoutTimeOrID_RuleE2(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 3, 1, 16, 0, 0, 0, time.UTC)
	for _, bodies := range [][]string{{"STOP", "START", "STOP"}, {"START", "STOP", "START"}} {
		clock := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		p := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return clock }})
		_, err := p.ReceiveSMS(ctx, regalkit.InboundSMS{From: nyPhone, Body: "START", Time: clock.Add(-time.Hour), MessageID: "SMstart"})
		require.NoError(t, err)
		for _, body := range bodies {
			res, err := p.ReceiveSMS(ctx, regalkit.InboundSMS{From: nyPhone, Body: body})
			require.NoError(t, err)
			assert.False(t, res.Duplicate, "%v: %s is a new message", bodies, body)
			if body == "START" {
				require.Len(t, res.Diagnostics, 1)
				assert.Equal(t, diag.MessageInvalid, res.Diagnostics[0].Code)
			}
			clock = clock.Add(10 * time.Minute)
		}
		d, err := p.Guard(nil).Check(ctx, nyPhone, optin.SMS, at)
		require.NoError(t, err)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "%v", bodies)
	}
}

// TestRegalReply_withoutTimeOrID_RuleG8: a keyword reply reported as Regal's
// sms.received with neither an id nor a time follows ReceiveSMS's rule (above), through
// RegalSink and through Segment alike. A review found that the messageId derived from
// its content (Rule E2) made a person's second STOP, after a START, a duplicate of the
// first: dropped, so the START decided and the Guard allowed texting.
func TestRegalReply_withoutTimeOrID_RuleG8(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 3, 5, 15, 0, 0, 0, time.UTC)
	viaSink := func(p *regalkit.Processor, body string) regalkit.Result {
		e, err := regalio.DecodeEvent([]byte(`{"name":"sms.received","properties":{"content":"` + body + `","contact_phone":"` + nyPhone + `"}}`))
		require.NoError(t, err)
		out, err := p.RegalSink()(ctx, []event.Message{e.Message()})
		require.NoError(t, err)
		return regalkit.Result{MessageID: out[0].MessageID, Duplicate: out[0].Duplicate, Diagnostics: out[0].Diagnostics}
	}
	viaSegment := func(p *regalkit.Processor, body string) regalkit.Result {
		res, err := p.ProcessBytes(ctx, []byte(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","anonymousId":"regal-contact:`+nyPhone+`","properties":{"content":"`+body+`","contact_phone":"`+nyPhone+`"}}`))
		require.NoError(t, err)
		return res[0]
	}
	var clock time.Time
	viaHandler := func(p *regalkit.Processor, body string) regalkit.Result {
		// The tracking API stamps receivedAt, after deriving the messageId (Rule E2).
		h := segmentio.NewHandler(p.Sink(), &segmentio.HandlerOptions{Now: func() time.Time { return clock }})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/track", strings.NewReader(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","anonymousId":"regal-contact:`+nyPhone+`","properties":{"content":"`+body+`","contact_phone":"`+nyPhone+`"}}`)))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out segmentio.HandlerResponse
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		require.Len(t, out.Results, 1)
		return regalkit.Result{MessageID: out.Results[0].MessageID, Duplicate: out.Results[0].Duplicate, Diagnostics: out.Results[0].Diagnostics}
	}
	for name, deliver := range map[string]func(*regalkit.Processor, string) regalkit.Result{"RegalSink": viaSink, "Segment": viaSegment, "tracking API": viaHandler} {
		for _, bodies := range [][]string{{"STOP", "START", "STOP"}, {"START", "STOP", "START"}, {"STOP", "STOP"}} {
			clock = time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
			p := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return clock }})
			_, err := p.ReceiveSMS(ctx, regalkit.InboundSMS{From: nyPhone, Body: "START", Time: clock.Add(-time.Hour), MessageID: "SMstart"})
			require.NoError(t, err)
			for _, body := range bodies {
				res := deliver(p, body)
				assert.False(t, res.Duplicate, "%s %v: %s is a new message", name, bodies, body)
				if body == "START" {
					require.Len(t, res.Diagnostics, 1, "%s %v", name, bodies)
					assert.Equal(t, diag.MessageInvalid, res.Diagnostics[0].Code)
				}
				clock = clock.Add(time.Hour)
			}
			d, err := p.Guard(nil).Check(ctx, nyPhone, optin.SMS, at)
			require.NoError(t, err)
			assert.Equal(t, diag.GuardOptedOut, d.Reason, "%s %v", name, bodies)
		}
	}
	// Through the tracking API with a timestamp it cannot read, the time is the
	// receivedAt the Handler stamps after deriving the ID: no time of the event's own
	// (a review found the second STOP a duplicate of the first).
	for _, bodies := range [][]string{{"STOP", "START", "STOP"}} {
		clock = time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
		p := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return clock }})
		h := segmentio.NewHandler(p.Sink(), &segmentio.HandlerOptions{Now: func() time.Time { return clock }})
		for _, body := range bodies {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/track", strings.NewReader(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","timestamp":"soon","anonymousId":"regal-contact:`+nyPhone+`","properties":{"content":"`+body+`","contact_phone":"`+nyPhone+`"}}`)))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.NotContains(t, rec.Body.String(), `"duplicate":true`, body)
			clock = clock.Add(time.Hour)
		}
		d, err := p.Guard(nil).Check(ctx, nyPhone, optin.SMS, at)
		require.NoError(t, err)
		assert.Equal(t, diag.GuardOptedOut, d.Reason, "unreadable timestamp %v", bodies)
	}
	// A receivedAt the sender gave is a time of the event's own: the ID covers it, a
	// redelivery is one message and a START is taken (a review found it refused).
	p0 := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return at }})
	for i, c := range []struct {
		body, minute string
		duplicate    bool
	}{{"START", "00", false}, {"STOP", "05", false}, {"STOP", "05", true}} {
		res, err := p0.ProcessBytes(ctx, []byte(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","receivedAt":"2024-03-01T12:`+c.minute+`:00Z","anonymousId":"regal-contact:`+nyPhone+`","context":{"ip":"8.8.8.8"},"properties":{"content":"`+c.body+`","contact_phone":"`+nyPhone+`"}}`))
		require.NoError(t, err)
		assert.Empty(t, res[0].Diagnostics, "delivery %d", i)
		assert.Equal(t, c.duplicate, res[0].Duplicate, "delivery %d", i)
	}
	// With an id, or a time, a redelivery is still one message (Rule E2).
	p := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return at }})
	for _, msg := range []string{regalSMS("e1", nyPhone, "STOP", "2024-03-01T12:00:00Z"),
		`{"type":"track","event":"sms.received","eventSource":"Regal Voice","anonymousId":"regal-contact:` + nyPhone + `","timestamp":"2024-03-01T12:00:00Z","properties":{"content":"STOP","contact_phone":"` + nyPhone + `"}}`} {
		for i := range 2 {
			res, err := p.ProcessBytes(ctx, []byte(msg))
			require.NoError(t, err)
			assert.Empty(t, res[0].Diagnostics)
			assert.Equal(t, i == 1, res[0].Duplicate, "delivery %d of %s", i+1, msg)
		}
	}
}

// TestKeyword_longStart_RuleG6: a START padded past the 1,600 bytes a record's text
// keeps (blanks before it) is still a START: its record keeps the normalized word, and
// re-subscribes as a START does, with no IP.
func TestKeyword_longStart_RuleG6(t *testing.T) {
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, ""))
	f.receive(regalkit.InboundSMS{From: nyPhone, Body: "STOP", Time: t0, MessageID: "s1"})
	for _, pad := range []string{" ", "\u200b"} {
		body := strings.Repeat(pad, 1700) + "START"
		require.Equal(t, optin.OptInKeyword, optin.ClassifyKeyword(body, optin.KeywordOptions{}))
		res := f.receive(regalkit.InboundSMS{From: nyPhone, Body: body, Time: t0.Add(time.Hour), MessageID: "s2-" + strconv.Itoa(len(pad))})
		assert.Empty(t, res.Diagnostics)
		assert.Equal(t, optin.StateSubscribed, f.user("u1").Subscription(optin.SMS), "pad %q", pad)
	}
}

// TestRegalStop_senderInAnonymousID_RuleG8: a STOP from Regal's Segment source whose
// only sender is its anonymousId regal-contact:<phone> opts that phone out.
func TestRegalStop_senderInAnonymousID_RuleG8(t *testing.T) {
	f := newFixture(t, nil)
	f.one(identifyPhone("u1", nyPhone, optInSMS))
	res := f.one(`{"type":"track","event":"sms.received","eventSource":"Regal Voice","anonymousId":"regal-contact:` + nyPhone + `",
		"messageId":"r1","timestamp":"2024-03-01T12:30:00Z","properties":{"content":"STOP"}}`)
	assert.Empty(t, res.Diagnostics)
	assert.Equal(t, diag.GuardOptedOut, f.guardReason(nyPhone, optin.SMS, rfc("2024-03-01T16:00:00Z")))
}
