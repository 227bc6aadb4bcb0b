package regalkit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/segmentio"
	"github.com/regalkit/regalkit/trigger"
)

// loanMsg is one message of a generated loan history, with what the reference
// evaluation needs to know of it.
type loanMsg struct {
	id     string
	user   string
	anon   string // set for anonymous-only messages (only in the history with merges)
	kind   string // "approved", "signed", "viewed", "phone", "named"
	hour   int
	amount int
}

func (m loanMsg) json() string {
	ts := t0.Add(time.Duration(m.hour) * time.Hour).Format(time.RFC3339)
	who := fmt.Sprintf(`"userId":%q`, m.user)
	if m.anon != "" {
		who = fmt.Sprintf(`"anonymousId":%q`, m.anon)
		if m.user != "" {
			who += fmt.Sprintf(`,"userId":%q`, m.user)
		}
	}
	head := fmt.Sprintf(`"messageId":%q,"timestamp":%q,%s`, m.id, ts, who)
	switch m.kind {
	case "approved":
		return fmt.Sprintf(`{"type":"track",%s,"event":"Loan Application Approved","properties":{"amount":%d}}`, head, m.amount)
	case "signed":
		return fmt.Sprintf(`{"type":"track",%s,"event":"Loan Signed"}`, head)
	case "viewed":
		return fmt.Sprintf(`{"type":"track",%s,"event":"Viewed"}`, head)
	case "phone":
		return fmt.Sprintf(`{"type":"identify",%s,"traits":{"phone":"+19545552399"}}`, head)
	}
	return fmt.Sprintf(`{"type":"identify",%s,"traits":{"firstName":"Ann"}}`, head) // "named"
}

func genLoanHistory(t *rapid.T, withAnon bool) []loanMsg {
	n := rapid.IntRange(1, 25).Draw(t, "messages")
	var out []loanMsg
	for i := range n {
		m := loanMsg{
			id:   fmt.Sprintf("m%02d", i),
			user: rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(t, "user"),
			kind: rapid.SampledFrom([]string{"approved", "approved", "signed", "viewed", "viewed", "phone", "named"}).Draw(t, "kind"),
			// Hours around 0, 2, 48 and 96: entries, the 48h exit windows and the 2h
			// delay meet at their edges often.
			hour:   rapid.SampledFrom([]int{0, 1, 2, 3, 46, 47, 48, 49, 50, 51, 96, 98, 120}).Draw(t, "hour"),
			amount: rapid.SampledFrom([]int{5000, 10000, 25000}).Draw(t, "amount"),
		}
		if withAnon && rapid.IntRange(0, 3).Draw(t, "anonymous?") == 0 {
			m.anon = rapid.SampledFrom([]string{"a1", "a2"}).Draw(t, "anon")
			if rapid.Bool().Draw(t, "linking?") {
				m.kind = "phone" // an identify that links the anonymous ID to the user (Rule I3)
			} else {
				m.user = ""
			}
		}
		out = append(out, m)
	}
	return out
}

// referenceLoan is the loan trigger written out directly, for one user's messages
// (each messageId once): the earliest approval of at least 10,000 at or before now
// with no signing from it to 48h after it (and at or before now), for a user with a
// phone. A zero now means no bound.
func referenceLoan(msgs []loanMsg, now time.Time) (entry string, dueAt time.Time, ok bool) {
	at := func(m loanMsg) time.Time { return t0.Add(time.Duration(m.hour) * time.Hour) }
	before := func(m loanMsg) bool { return now.IsZero() || !at(m).After(now) }
	if !slices.ContainsFunc(msgs, func(m loanMsg) bool { return m.kind == "phone" }) {
		return "", time.Time{}, false // not in the audience (Rule A1)
	}
	var best *loanMsg
	for _, e := range msgs {
		if e.kind != "approved" || e.amount < 10000 || !before(e) {
			continue
		}
		cancelled := false
		for _, x := range msgs {
			if x.kind == "signed" && before(x) && x.hour >= e.hour && x.hour <= e.hour+48 {
				cancelled = true
			}
		}
		if !cancelled && (best == nil || e.hour < best.hour || (e.hour == best.hour && e.id < best.id)) {
			best = &e
		}
	}
	if best == nil {
		return "", time.Time{}, false
	}
	return best.id, at(*best).Add(2 * time.Hour), true
}

func propertyTriggers(t require.TestingT) []*trigger.Trigger {
	loan, err := trigger.Decode(strings.NewReader(`{"name": "approved-not-signed",
		"entry": {"event": "Loan Application Approved", "where": [{"property": "amount", "op": ">=", "value": 10000}]},
		"exit": [{"event": "Loan Signed", "within": "48h"}],
		"delay": "2h",
		"require": {"inAudience": true}}`))
	require.NoError(t, err)
	viewed, err := trigger.Decode(strings.NewReader(`{"name": "viewed-twice",
		"entry": {"event": "Viewed", "count": {"atLeast": 2, "within": "24h"}},
		"exit": [{"event": "Loan Application Approved"}]}`))
	require.NoError(t, err)
	return []*trigger.Trigger{loan, viewed}
}

// describeDue renders what a contact's state in a trigger is, for comparing.
func describeDue(trig, user string, m trigger.Match) string {
	return fmt.Sprintf("%s %s %s %s", trig, user, m.Entry.MessageID, m.DueAt.Format(time.RFC3339))
}

// Rule J5 (Rule S3): for random loan histories delivered in a random order with
// re-deliveries, the transitions the Processor reports (Rule J4), Evaluate's scan of
// the store (Rule J3) and a direct reference evaluation agree, at every now.
func TestTriggersIncrementalScanAndReferenceAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkTriggerAgreement(t, false) })
}

// The same with anonymous messages and identifies that link them, so that contacts
// merge (Rule I3): the transitions and the scan still agree.
func TestTriggersAgreeThroughMerges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkTriggerAgreement(t, true) })
}

func checkTriggerAgreement(t *rapid.T, withAnon bool) {
	ctx := context.Background()
	history := genLoanHistory(t, withAnon)
	deliveries := slices.Clone(history)
	for _, m := range history {
		if rapid.IntRange(0, 4).Draw(t, "re-deliver?") == 0 {
			deliveries = append(deliveries, m)
		}
	}
	deliveries = rapid.Permutation(deliveries).Draw(t, "arrival order")

	triggers := propertyTriggers(t)
	store := memstore.New()
	// With several workers, two messages that share no identifier (an anonymousId and
	// the userId it is stitched to) may commit in the other order than their results
	// come in: the fold goes by Seq.
	workers := rapid.SampledFrom([]int{1, 1, 2, 4}).Draw(t, "workers")
	p := regalkit.New(store, &regalkit.Options{Triggers: triggers, Workers: workers})
	var results []regalkit.Result
	if workers == 1 {
		for _, m := range deliveries {
			res, err := p.Process(ctx, mustDecode(t, m.json()))
			require.NoError(t, err)
			results = append(results, res)
		}
	} else {
		msgs := make([]event.Message, len(deliveries))
		for i, m := range deliveries {
			msgs[i] = mustDecode(t, m.json())
		}
		var err error
		results, err = p.ProcessBatch(ctx, msgs)
		require.NoError(t, err)
	}
	folded := map[string]map[string]regalkit.TriggerChange{} // trigger -> contact -> last change
	for _, res := range results {
		if res.Duplicate {
			require.Empty(t, res.Triggers, "a re-delivery changes nothing")
		}
		for _, ch := range res.Triggers {
			require.NotZero(t, ch.Seq)
			if folded[ch.Trigger] == nil {
				folded[ch.Trigger] = map[string]regalkit.TriggerChange{}
			}
			if last, ok := folded[ch.Trigger][ch.ContactID]; !ok || ch.Seq > last.Seq {
				folded[ch.Trigger][ch.ContactID] = ch
			}
		}
	}
	userOf := func(contactID string) string {
		c, err := store.Contact(ctx, contactID)
		if err != nil {
			return "(gone)" + contactID
		}
		if c.UserID() == "" {
			return "anonymous:" + strings.Join(c.AnonymousIDs(), ",")
		}
		return c.UserID()
	}

	last := t0
	for _, m := range history {
		if at := t0.Add(time.Duration(m.hour) * time.Hour); at.After(last) {
			last = at
		}
	}
	nows := []time.Time{last, last.Add(2 * time.Hour), last.Add(1000 * time.Hour),
		t0.Add(time.Duration(rapid.IntRange(0, 130).Draw(t, "now")) * time.Hour)}
	for i, now := range nows {
		for _, tr := range triggers {
			var scan []string
			for d, err := range regalkit.Evaluate(ctx, store, tr, now) {
				require.NoError(t, err)
				scan = append(scan, describeDue(tr.Name, userOf(d.ContactID), d.Match))
			}
			slices.Sort(scan)
			// Increments: over any now at or after the last event, the folded states
			// due by now.
			if i < 3 {
				var inc []string
				for id, ch := range folded[tr.Name] {
					if ch.Entered && !ch.DueAt.After(now) {
						inc = append(inc, describeDue(tr.Name, userOf(id), ch.Match))
					}
				}
				slices.Sort(inc)
				require.Equal(t, inc, scan, "%s at %s: increments vs scan", tr.Name, now)
			}
			if withAnon || tr.Name != "approved-not-signed" {
				continue
			}
			// The reference, straight from the messages, each once.
			var ref []string
			for _, u := range []string{"u1", "u2", "u3"} {
				var own []loanMsg
				for _, m := range history {
					if m.user == u {
						own = append(own, m)
					}
				}
				if id, due, ok := referenceLoan(own, now); ok && !due.After(now) {
					ref = append(ref, fmt.Sprintf("%s %s %s %s", tr.Name, u, id, due.Format(time.RFC3339)))
				}
			}
			slices.Sort(ref)
			require.Equal(t, ref, scan, "%s at %s: reference vs scan", tr.Name, now)
		}
	}
	// Evaluating twice at the same now gives the same answer.
	for _, tr := range triggers {
		var a, b []string
		for d, err := range regalkit.Evaluate(ctx, store, tr, nows[3]) {
			require.NoError(t, err)
			a = append(a, d.ContactID+d.Entry.MessageID)
		}
		for d, err := range regalkit.Evaluate(ctx, store, tr, nows[3]) {
			require.NoError(t, err)
			b = append(b, d.ContactID+d.Entry.MessageID)
		}
		require.Equal(t, a, b)
	}
}

func mustDecode(t require.TestingT, payload string) event.Message {
	var m event.Message
	require.NoError(t, segmentio.Unmarshal([]byte(payload), &m))
	return m
}
