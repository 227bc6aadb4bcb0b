package regalkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/storestate"
	"github.com/regalkit/regalkit/optin"
)

// genPayload draws one Segment message for a handful of users and anonymous IDs: every
// kind the order-independence promise covers (Rule S3), with traits, phones, opt-ins,
// opt-in events, Regal's consent events, anonymous-only messages, links and shared
// anonymous IDs, aliases from anonymous IDs and from userIds (their own included),
// deletes, equal timestamps, times from receivedAt or Segment's clock-skew correction,
// and missing messageIds.
func genPayload(t *rapid.T, i int) string {
	users := []string{"u1", "u2", "u3"}
	anons := []string{"a1", "a2", "a3", "u3", // u3 is an anonymousId too: an alias of u3 then also links it (Rules I3, I5)
		"sms-keyword:+19545552399"} // a phone's keyword register, which a message may not name (Rule D6)
	at := func(label string) string {
		return `"` + t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, label))*time.Minute).Format(time.RFC3339) + `"`
	}
	var fields []string
	switch rapid.IntRange(0, 9).Draw(t, "time from") { // Rule D5's sources
	case 0: // receivedAt alone: with no messageId, it is part of the derived one (E2)
		fields = append(fields, `"receivedAt":`+at("minute"))
	case 1: // Segment's clock-skew correction
		fields = append(fields, `"originalTimestamp":`+at("minute"), `"sentAt":`+at("sent minute"), `"receivedAt":`+at("received minute"))
	default:
		fields = append(fields, `"timestamp":`+at("minute"))
	}
	if rapid.IntRange(0, 9).Draw(t, "no messageId?") > 0 {
		fields = append(fields, fmt.Sprintf(`"messageId":"m%02d"`, i)) // else derived (Rule E2)
	}
	add := func(k, v string) { fields = append(fields, fmt.Sprintf("%q:%s", k, v)) }
	kind := rapid.SampledFrom([]string{"identify", "identify", "identify", "track", "track", "page", "screen", "alias", "alias", "group", "delete"}).Draw(t, "kind")
	add("type", `"`+kind+`"`)
	switch kind {
	case "alias":
		// previousId: an anonymous ID or a userId, the alias's own userId included.
		add("userId", `"`+rapid.SampledFrom(users).Draw(t, "alias user")+`"`)
		prev := rapid.SampledFrom(append(slices.Clone(users), anons...)).Draw(t, "alias previous")
		add("previousId", `"`+prev+`"`)
		// analytics.js sends its anonymousId with an alias too, which links it (Rule
		// I3): the previousId when the visitor was anonymous, any ID otherwise.
		switch rapid.IntRange(0, 2).Draw(t, "alias anonymousId") {
		case 1:
			add("anonymousId", `"`+prev+`"`)
		case 2:
			add("anonymousId", `"`+rapid.SampledFrom(anons).Draw(t, "alias anon")+`"`)
		}
		return "{" + strings.Join(fields, ",") + "}"
	case "delete":
		add("userId", `"`+rapid.SampledFrom(users).Draw(t, "deleted user")+`"`)
		return "{" + strings.Join(fields, ",") + "}"
	}
	switch rapid.IntRange(0, 2).Draw(t, "ids") {
	case 0:
		add("userId", `"`+rapid.SampledFrom(users).Draw(t, "user")+`"`)
	case 1:
		add("userId", `"`+rapid.SampledFrom(users).Draw(t, "user")+`"`)
		add("anonymousId", `"`+rapid.SampledFrom(anons).Draw(t, "anon")+`"`)
	default:
		add("anonymousId", `"`+rapid.SampledFrom(anons).Draw(t, "anon")+`"`)
	}
	add("context", rapid.SampledFrom([]string{`{}`, `{"ip":"8.8.8.8"}`, `{"ip":"203.0.113.9","traits":{"plan":"ctx"}}`,
		`{"timezone":"America/Chicago"}`, `{"ip":"8.8.8.8","timezone":"America/Phoenix"}`,
		`{"ip":"8.8.8.8","traits":{"phone":"+19545552399"}}`,                                      // Rule G3; a context phone, never applied from a Regal event (R5)
		`{"ip":"8.8.8.8","traits":{"phone":"+19545552399","Phone":"+12125550123"}}`,               // T1, C5: two numbers as an opt-in or opt-out event's phone
		`{"traits":{"email":"ann@example.com"}}`,                                                  // a Regal opt-out naming only an email (R5)
		`{"ip":"8.8.8.8","campaign":{"name":"spring"},"device":{"id":"d1"}}`}).Draw(t, "context")) // E1: the whole context
	switch kind {
	case "identify":
		var traits []string
		pick := func(key string, pool ...string) {
			if rapid.Bool().Draw(t, "has "+key) {
				traits = append(traits, fmt.Sprintf("%q:%s", key, rapid.SampledFrom(pool).Draw(t, key)))
			}
		}
		// Escaped: Bob again; A"nn, and A\"nn, whose text is A"nn's escaped (Rule T4).
		pick("firstName", `"Ann"`, `"Bob"`, `null`, `"B\u006fb"`, `"A\"nn"`, `"A\\\"nn"`)
		pick("first\u00a0name", `"Cy"`)   // Rule T1: a no-break space is dropped like any punctuation
		pick("name", `"Ann Lee"`, `"Cy"`) // Rule T1: first and last name when neither is sent
		pick("lastName", `"Lee"`, `null`)
		pick("age", `41`, `"42"`, `-1`)
		pick("gender", `"female"`, `null`)
		pick("email", `"ann@example.com"`, `"bob@example.com"`, `"nope"`, `" "`)
		pick("phone", `"+19545552399"`, `"(917) 555-4444"`, `"+1 555 555 5555"`, `null`, `"(917)\u00a0555\u20134444"`, // T8: another keyboard's separators
			`""`) // T4: an empty standard trait
		pick("Phone", `"+12125550123"`, `"+19545552399"`) // T1: a second spelling, with another number or the same (C5)
		pick("plan", `"gold"`, `12345678901234567890`, `null`, `{"a":[1]}`)
		pick("address", `{"City":"Austin","zip":"78701"}`, `{"city":"Aust\u0069n"}`, `"1 Main St"`, `null`)
		pick("phones", `{"+12125550123":{"isPrimary":true,"label":"work"}}`, `{"+19175554444":null}`,
			`{"+12125550123":{"label":"home"}}`, `{"+1 555 555 5555":{}}`, // C5: the message's phone when it has no phone trait
			`{"+19545552399":{"voiceOptIn":{"subscribed":false,"timestamp":"2024-03-01T12:05:00Z"}}}`,
			`{"+19545552399":{"smsOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:02:00Z","ip":"1.2.3.4"}}}`)
		pick("emails", `{"ann@example.com":{"isPrimary":true,"emailOptIn":{"subscribed":true,"timestamp":"2024-03-01T12:02:00Z","ip":"1.2.3.4"}}}`,
			`{"bob@example.com":{"label":"work"}}`)
		pick("optIn",
			`{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:03:00Z","ip":""}`,
			`[{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:04:00Z"},{"channel":"voice","subscribed":true,"timestamp":"2024-03-01T12:01:00Z","ip":"1.2.3.4"}]`,
			`{"channel":"voice","subscribed":true,"timestamp":"2024-03-01T12:03:00Z","ip":"1.2.3.4"}`,
			`{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:02:30Z","source":"sms_keyword","text":"STOP"}`, // the source replies reserve (Rule G7)
			`{"channel":"sms","subscribed":false,"timestamp":"2024-03-01T12:04:30Z","phone":"+12125550123"}`,               // C5: a record's own phone
			`{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:03:30Z","ip":"1.2.3.4","phoneNumber":"(917) 555-4444","note":1}`)
		add("traits", "{"+strings.Join(traits, ",")+"}")
	case "track":
		name := rapid.SampledFrom([]string{"Viewed", "SMS Opt In", "Stop", "contact.subscribed", "contact.unsubscribed", "sms.received"}).Draw(t, "event")
		add("event", `"`+name+`"`)
		if name == "sms.received" { // a keyword reply from a phone, before or after any contact has it (Rule G7)
			if rapid.IntRange(0, 4).Draw(t, "sms without id or time?") == 0 {
				// Neither a messageId nor a time: a new message at each delivery, a
				// START refused (Rule G8).
				fields = slices.DeleteFunc(fields, func(f string) bool {
					for _, k := range []string{"timestamp", "originalTimestamp", "sentAt", "receivedAt", "messageId"} {
						if strings.HasPrefix(f, `"`+k+`"`) {
							return true
						}
					}
					return false
				})
			}
			add("eventSource", `"Regal Voice"`)
			// The sender as contact_phone, or as from_number, as Regal's Segment source
			// names it (Rule G8); a START needs the context's IP here (Rule G6).
			add("properties", fmt.Sprintf(`{"content":%q,%q:%q}`,
				rapid.SampledFrom([]string{"STOP", "start", "Please stop texting me", "hi", "UNSTOP", "stopall", "YES", "Stop \u2764\ufe0f"}).Draw(t, "sms body"),
				rapid.SampledFrom([]string{"contact_phone", "from_number"}).Draw(t, "sms sender field"),
				rapid.SampledFrom([]string{"+19545552399", "(917) 555-4444", "+12125550123"}).Draw(t, "sms sender")))
		} else if strings.HasPrefix(name, "contact.") { // Regal's consent events, from its Segment source (Rule R5)
			add("eventSource", `"Regal Voice"`)
			add("properties", rapid.SampledFrom([]string{
				`{"channel":"SMS","phone":"+19545552399","ip":"1.2.3.4","timestamp":"2024-03-01T12:06:00Z","text":"Reply STOP"}`,
				`{"channel":"SMS","phone":"+19545552399","ip":"not an ip","timestamp":"2024-03-01T12:06:10Z"}`, // C4: context.ip stands in
				`{"channel":"voice","timestamp":1709294760,"source":"RegalVoice.agent"}`,
				`{"channel":"sms"}`,
				`{"channel":"email","email":"ann@example.com","timestamp":"2024-03-01T12:07:00Z"}`,
				`{"channel":"sms","source":"sms_keyword","text":"STOP","timestamp":"2024-03-01T12:06:30Z"}`,
				`{"channel":"sms","contact_phone":"(917) 555-4444","timestamp":""}`,                                             // R5: the phone as contact_phone; an empty timestamp is none
				`{"channel":"SMS","phone":"+19545552399","ip":"1.2.3.4","timestamp":"2024-03-01T12:06:20Z","subscribed":false}`, // R5: a property that contradicts the name
			}).Draw(t, "regal properties"))
		} else {
			add("properties", `{"amount":30000.50}`)
		}
	case "page", "screen":
		add("name", `"Home"`)
	case "group":
		add("groupId", `"g1"`)
		add("traits", `{"name":"Acme"}`)
	}
	return "{" + strings.Join(fields, ",") + "}"
}

// drawPayloads draws 1 to max messages of genPayload.
func drawPayloads(t *rapid.T, max int) []string {
	payloads := make([]string, rapid.IntRange(1, max).Draw(t, "messages"))
	for i := range payloads {
		payloads[i] = genPayload(t, i)
		// The same call at another time, told by receivedAt only: with no messageId of
		// its own it is another message, not a re-delivery (Rules D5, E2).
		if i > 0 && rapid.IntRange(0, 5).Draw(t, "later copy?") == 0 {
			if p := payloads[rapid.IntRange(0, i-1).Draw(t, "copied")]; strings.Contains(p, `"receivedAt"`) && !strings.Contains(p, `"messageId"`) {
				payloads[i] = receivedAtRE.ReplaceAllString(p, `"receivedAt":`+
					`"`+t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, "copy minute"))*time.Minute).Format(time.RFC3339)+`"`)
			}
		}
	}
	return payloads
}

// receivedAtRE finds a genPayload's receivedAt.
var receivedAtRE = regexp.MustCompile(`"receivedAt":"[^"]*"`)

// fataler is what state and replayAll need of *testing.T and *rapid.T.
type fataler interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// state is every contact of a store in a canonical form (storestate.Canonical), and
// the hidden contacts the generator's anonymous IDs find (storestate.Hidden).
func state(t fataler, store contact.Store) []string {
	out, err := storestate.Canonical(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	var keys []identity.Key
	for _, a := range []string{"a1", "a2", "a3", "u3"} {
		keys = append(keys, identity.AnonymousKey(a))
	}
	hidden, err := storestate.Hidden(context.Background(), store, keys)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, hidden...)
}

// drawReplayed draws up to max messages and a variant of the options, and returns them
// with the contacts replayWith gives.
func drawReplayed(t *rapid.T, max int) (payloads []string, v variant, want []string) {
	payloads = drawPayloads(t, max)
	v = drawVariant(t)
	return payloads, v, replayWith(t, payloads, v)
}

// requireAnyOrder fails t unless payloads give the contacts of their input order (with
// the options of v) in a drawn order too, with up to four drawn duplicates when
// duplicates is set (Rules S3, E2).
func requireAnyOrder(t *rapid.T, payloads []string, v variant, duplicates bool) {
	want := replayWith(t, payloads, v)
	shuffled := rapid.Permutation(payloads).Draw(t, "order")
	if duplicates {
		for range rapid.IntRange(0, 4).Draw(t, "duplicates") {
			shuffled = append(shuffled, rapid.SampledFrom(payloads).Draw(t, "duplicate"))
		}
		shuffled = rapid.Permutation(shuffled).Draw(t, "order with duplicates")
	}
	if got := replayWith(t, shuffled, v); !slices.Equal(want, got) {
		t.Fatalf("order changed the contacts\nmessages in input order:\n  %s\nshuffled:\n  %s\nwant:\n  %s\ngot:\n  %s",
			strings.Join(payloads, "\n  "), strings.Join(shuffled, "\n  "), strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
}

// requireSameContacts fails t when two canonical states (state) differ, showing both.
func requireSameContacts(t fataler, want, got []string) {
	if !slices.Equal(want, got) {
		t.Fatalf("contacts differ\nwant:\n  %s\ngot:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
}

func replayAll(t fataler, payloads []string) []string {
	return replayWith(t, payloads, variant{})
}

// variant is what the order-independence properties draw of the options: those that
// change what a message does to contacts.
type variant struct {
	contextTraits bool                 // Options.ApplyContextTraits (Rule T3)
	keywords      optin.KeywordOptions // Options.Keywords (Rules G5–G7)
}

func drawVariant(t *rapid.T) variant {
	return variant{
		contextTraits: rapid.Bool().Draw(t, "ApplyContextTraits"),
		keywords: optin.KeywordOptions{YesOptsIn: rapid.Bool().Draw(t, "YesOptsIn"), Voice: rapid.Bool().Draw(t, "keyword Voice"),
			ContainedOptsOut: rapid.Bool().Draw(t, "ContainedOptsOut")},
	}
}

// options returns the Processor options of v, with a fixed clock.
func (v variant) options() *regalkit.Options {
	return &regalkit.Options{
		Now:                func() time.Time { return t0.Add(48 * time.Hour) },
		OptInEvents:        map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
		OptOutEvents:       map[string][]optin.Channel{"Stop": nil},
		ApplyContextTraits: v.contextTraits,
		Keywords:           v.keywords,
	}
}

// replayWith is replayAll with the options of v.
func replayWith(t fataler, payloads []string, v variant) []string {
	n := 0
	store := memstore.New()
	opts := v.options()
	opts.NewID = func() string { n++; return fmt.Sprintf("c%04d", n) }
	p := regalkit.New(store, opts)
	for _, pl := range payloads {
		if _, err := p.ProcessBytes(context.Background(), []byte(pl)); err != nil {
			t.Fatalf("processing %s: %v", pl, err)
		}
	}
	return state(t, store)
}

// TestOrderIndependence_RuleS3 is the promise of Rule S3: the same messages in any
// order, any number of times, give the same contacts, events and consent states (T4,
// C5, C6, E2, I3, I4). It processes a drawn set of messages in input order and again
// shuffled with duplicates, and requires identical contacts.
func TestOrderIndependence_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads := drawPayloads(t, 14)
		requireAnyOrder(t, payloads, drawVariant(t), true)
	})
}

// TestOrderIndependence_WithDeletes extends the S3 promise to deletes (Rule I7) of any
// user, among messages with anonymous IDs shared between users, consent records re-sent
// on both sides of a delete, and aliases: a delete erases what came before it and
// nothing after, in any order.
func TestOrderIndependence_WithDeletes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 14).Draw(t, "messages")
		var payloads []string
		for i := range n {
			if rapid.IntRange(0, 5).Draw(t, "delete?") == 0 {
				payloads = append(payloads, fmt.Sprintf(`{"type":"delete","userId":%q,"messageId":"m%02d","timestamp":%q}`,
					rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(t, "deleted user"), i,
					t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, "minute"))*time.Minute).Format(time.RFC3339)))
				continue
			}
			p := genPayload(t, i)
			payloads = append(payloads, p)
		}
		requireAnyOrder(t, payloads, drawVariant(t), false)
	})
}

// TestOrderIndependence_GuardWithRegalMatching_RuleS3: Regal events without a userId find
// their contact by phone or email when they arrive (Rule R5), so the contacts may
// differ by order; the Guard's answers, deciding records included, may not (Rule G1).
// The property adds such events (the anonymousId regalio gives them) to the drawn
// messages and compares every Decision for two phones on both channels.
func TestOrderIndependence_GuardWithRegalMatching_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads := drawPayloads(t, 10)
		for i := range rapid.IntRange(1, 4).Draw(t, "regal events") {
			name := rapid.SampledFrom([]string{"contact.subscribed", "contact.unsubscribed", "sms.received", "call.completed"}).Draw(t, "regal event")
			anon := rapid.SampledFrom([]string{"regal-contact:+19545552399", "regal-contact:+19175554444", "regal-contact:ann@example.com"}).Draw(t, "regal anon")
			props := rapid.SampledFrom([]string{`{"channel":"sms"}`, `{"channel":"voice","ip":"1.2.3.4"}`,
				`{"channel":"sms","phone":"+19175554444"}`, `{"content":"STOP"}`, `{"content":"START","contact_phone":"+19545552399"}`}).Draw(t, "regal properties")
			traits := rapid.SampledFrom([]string{`{}`, `{"phone":"+19545552399"}`, `{"email":"ann@example.com"}`}).Draw(t, "regal traits")
			payloads = append(payloads, fmt.Sprintf(`{"type":"track","event":%q,"eventSource":"Regal Voice","anonymousId":%q,"messageId":"r%02d",`+
				`"timestamp":%q,"context":{"ip":"8.8.8.8","traits":%s},"properties":%s}`,
				name, anon, i, t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, "regal minute"))*time.Minute).Format(time.RFC3339), traits, props))
		}
		shuffled := rapid.Permutation(payloads).Draw(t, "order")
		if rapid.Bool().Draw(t, "duplicate") {
			shuffled = append(shuffled, rapid.SampledFrom(payloads).Draw(t, "duplicate"))
		}
		want, got := guardAnswers(t, payloads), guardAnswers(t, shuffled)
		if !slices.Equal(want, got) {
			t.Fatalf("order changed the Guard's answers\nmessages:\n  %s\nshuffled:\n  %s\nwant:\n  %s\ngot:\n  %s",
				strings.Join(payloads, "\n  "), strings.Join(shuffled, "\n  "), strings.Join(want, "\n  "), strings.Join(got, "\n  "))
		}
	})
}

// guardAnswers processes payloads in order and returns the Guard's Decisions, as JSON
// with the deciding record's ProcessedAt left out, for two phones on sms and voice.
func guardAnswers(t fataler, payloads []string) []string {
	p := regalkit.New(memstore.New(), &regalkit.Options{Now: func() time.Time { return t0.Add(48 * time.Hour) }})
	for _, pl := range payloads {
		if _, err := p.ProcessBytes(context.Background(), []byte(pl)); err != nil {
			t.Fatalf("processing %s: %v", pl, err)
		}
	}
	var out []string
	for _, phone := range []string{"+19545552399", "+19175554444"} {
		for _, ch := range []optin.Channel{optin.SMS, optin.Voice} {
			d, err := p.Guard(nil).Check(context.Background(), phone, ch, t0.Add(4*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if d.Deciding != nil {
				d.Deciding.ProcessedAt = time.Time{}
			}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

// TestOrderIndependence_HeldBursts_RuleS3 is Rule S3 for a visitor's burst of
// anonymous-only messages: 16 to 40 of them under one anonymousId (Rule I4), long
// enough for the contact to append them to the array its stored versions share
// (contactcore appendHeld), among drawn messages that link, alias and delete, in input
// order and shuffled with duplicates, each message in a transaction of its own.
func TestOrderIndependence_HeldBursts_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads := drawPayloads(t, 8)
		for i := range rapid.IntRange(16, 40).Draw(t, "burst") {
			payloads = append(payloads, fmt.Sprintf(`{"type":"page","anonymousId":"a1","name":"P","messageId":"b%02d","timestamp":%q}`,
				i, t0.Add(time.Duration(rapid.IntRange(0, 12*60).Draw(t, "second"))*time.Second).Format(time.RFC3339)))
		}
		if rapid.Bool().Draw(t, "delete?") {
			payloads = append(payloads, fmt.Sprintf(`{"type":"delete","userId":%q,"messageId":"del","timestamp":%q}`,
				rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(t, "deleted user"),
				t0.Add(time.Duration(rapid.IntRange(0, 12).Draw(t, "delete minute"))*time.Minute).Format(time.RFC3339)))
		}
		requireAnyOrder(t, payloads, drawVariant(t), true)
	})
}
