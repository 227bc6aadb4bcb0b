package pgstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/storestate"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/segmentio"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// corpus returns n Segment messages for the given number of users, drawn from seed:
// identifies with traits, phones and opt-ins, tracks (some of them opt-in and opt-out
// events), pages, groups, aliases, anonymous-only messages, anonymous IDs shared by two
// users (Rule I4) and, with deletes, a few deletes. Times fall in a six-hour window in
// no particular order, so messages arrive late and out of order.
func corpus(tb testing.TB, seed uint64, n, users int, deletes bool) []event.Message {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]event.Message, 0, n)
	for i := range n {
		u := rng.IntN(users)
		user := fmt.Sprintf("user-%04d", u)
		anon := fmt.Sprintf("anon-%04d-%d", u, rng.IntN(2))
		if rng.IntN(20) == 0 { // a device two users share
			anon = fmt.Sprintf("shared-%03d", u/2)
		}
		ts := t0.Add(time.Duration(rng.IntN(6*3600)) * time.Second).Format(time.RFC3339)
		fields := []string{fmt.Sprintf(`"messageId":"msg-%d-%06d"`, seed, i), `"timestamp":"` + ts + `"`}
		add := func(k, v string) { fields = append(fields, fmt.Sprintf("%q:%s", k, v)) }
		ids := func() {
			switch rng.IntN(4) {
			case 0:
				add("userId", `"`+user+`"`)
			case 1:
				add("anonymousId", `"`+anon+`"`)
			default:
				add("userId", `"`+user+`"`)
				add("anonymousId", `"`+anon+`"`)
			}
		}
		switch k := rng.IntN(100); {
		case k < 35:
			add("type", `"identify"`)
			ids()
			traits := []string{fmt.Sprintf(`"firstName":%q`, []string{"Ann", "Bob", "Cy"}[rng.IntN(3)])}
			if rng.IntN(2) == 0 {
				traits = append(traits, fmt.Sprintf(`"email":"person%d.%d@example.com"`, u, rng.IntN(2)))
			}
			if rng.IntN(3) == 0 {
				traits = append(traits, fmt.Sprintf(`"phone":"+1954555%04d"`, u))
			}
			if rng.IntN(4) == 0 {
				traits = append(traits, fmt.Sprintf(`"plan":%q`, []string{"gold", "free"}[rng.IntN(2)]),
					`"amount":12345678901234567890`)
			}
			if rng.IntN(5) == 0 {
				traits = append(traits, fmt.Sprintf(`"optIn":{"channel":"sms","subscribed":%t,"timestamp":%q,"ip":"203.0.113.7"}`, rng.IntN(2) == 0, ts))
			}
			add("traits", "{"+strings.Join(traits, ",")+"}")
			add("context", `{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"2.11.1"}}`)
		case k < 70:
			add("type", `"track"`)
			ids()
			add("event", `"`+[]string{"Viewed", "Viewed", "Clicked", "SMS Opt In", "Stop"}[rng.IntN(5)]+`"`)
			add("properties", fmt.Sprintf(`{"amount":%d.50,"sku":"sku-%d"}`, rng.IntN(1000), rng.IntN(50)))
			add("context", `{"ip":"198.51.100.4","page":{"path":"/pricing"}}`)
		case k < 85:
			add("type", `"page"`)
			ids()
			add("name", `"Home"`)
			add("category", `"Docs"`)
		case k < 92:
			add("type", `"group"`)
			ids()
			add("groupId", fmt.Sprintf(`"g-%d"`, u%7))
			add("traits", `{"name":"Acme"}`)
		case k < 98 || !deletes:
			add("type", `"alias"`)
			add("userId", `"`+user+`"`)
			add("previousId", `"`+anon+`"`)
		default:
			add("type", `"delete"`)
			add("userId", `"`+user+`"`)
		}
		payload := "{" + strings.Join(fields, ",") + "}"
		items, err := segmentio.DecodeAll([]byte(payload), nil)
		if err != nil || len(items) != 1 || items[0].Err != nil {
			tb.Fatalf("decoding corpus message %d: %v %v", i, err, items)
		}
		out = append(out, items[0].Message)
	}
	return out
}

// processorOptions are the options of every Processor in these tests: a fixed clock,
// opt-in events, and ids from next (distinct per Processor).
func processorOptions(prefix string) *regalkit.Options {
	var n atomic.Int64
	return &regalkit.Options{
		Now:          func() time.Time { return t0.Add(48 * time.Hour) },
		NewID:        func() string { return fmt.Sprintf("%s-%06d", prefix, n.Add(1)) },
		OptInEvents:  map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
		OptOutEvents: map[string][]optin.Channel{"Stop": nil},
	}
}

// canonical is every contact of a store in a form that does not depend on the order
// messages were processed in (storestate.Canonical).
func canonical(tb testing.TB, s contact.Store) []string {
	tb.Helper()
	out, err := storestate.Canonical(context.Background(), s)
	if err != nil {
		tb.Fatalf("canonical: %v", err)
	}
	return out
}
