package optin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/optin"
)

// TestClassifyKeyword_RuleG5G6 reads real replies: the FCC's revocation words in every
// case and punctuation, START and UNSTOP, YES only by option, and longer messages.
func TestClassifyKeyword_RuleG5G6(t *testing.T) {
	def, yes, contained := optin.KeywordOptions{}, optin.KeywordOptions{YesOptsIn: true}, optin.KeywordOptions{ContainedOptsOut: true}
	tests := []struct {
		body string
		opts optin.KeywordOptions
		want optin.Keyword
	}{
		{"STOP", def, optin.OptOutKeyword},
		{"stop", def, optin.OptOutKeyword},
		{"  Stop.  ", def, optin.OptOutKeyword},
		{"STOP!!!", def, optin.OptOutKeyword},
		{"StopAll", def, optin.OptOutKeyword},
		{"unsubscribe", def, optin.OptOutKeyword},
		{"Cancel", def, optin.OptOutKeyword},
		{"end", def, optin.OptOutKeyword},
		{"QUIT", def, optin.OptOutKeyword},
		{"revoke", def, optin.OptOutKeyword},
		{"optout", def, optin.OptOutKeyword},
		{"Opt-Out", def, optin.OptOutKeyword},
		{"opt out", def, optin.OptOutKeyword},
		{"OPT   OUT", def, optin.OptOutKeyword},
		{"\"stop\"", def, optin.OptOutKeyword},
		{"START", def, optin.OptInKeyword},
		{"unstop", def, optin.OptInKeyword},
		{"Yes", def, optin.NoKeyword},
		{"Yes", yes, optin.OptInKeyword},
		{"Please stop texting me", def, optin.PossibleOptOut},
		{"Please stop texting me", contained, optin.OptOutKeyword},
		{"I want to opt out of these", def, optin.PossibleOptOut},
		{"Weekend works for me", def, optin.NoKeyword},
		{"stopping by at 5", def, optin.NoKeyword},
		{"start over", def, optin.NoKeyword},
		{"", def, optin.NoKeyword},
		{"🛑", def, optin.NoKeyword},
		{"STOP 🛑", def, optin.OptOutKeyword},
		{"STOP ❤️", def, optin.OptOutKeyword},       // heart, variation selector U+FE0F
		{"Stop 🙅‍♀️", def, optin.OptOutKeyword},     // joined emoji: U+200D and U+FE0F
		{"Stop\u200b", def, optin.OptOutKeyword},    // zero-width space
		{"\ufeffSTOP", def, optin.OptOutKeyword},    // byte-order mark
		{"ＳＴＯＰ", def, optin.OptOutKeyword},          // full-width letters
		{"ｓｔｏｐ　ｐｌｅａｓｅ", def, optin.PossibleOptOut},  // and an ideographic space
		{"STOP 1\u20e3", def, optin.PossibleOptOut}, // a keycap is a symbol around a digit: the digit stays
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			assert.Equal(t, tc.want, optin.ClassifyKeyword(tc.body, tc.opts))
		})
	}
}

// TestKeywordRecords_RuleG7 checks the records of a reply and that a ledger keeps them:
// the opt-out needs no IP, nor does a START (Rule G6), and the opt-out wins a tie.
func TestKeywordRecords_RuleG7(t *testing.T) {
	at := time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC)
	in := optin.InboundSMS{Phone: "+19175554444", Body: "Stop.", Time: at, MessageID: "sms-1"}
	recs := optin.KeywordRecords(optin.OptOutKeyword, in, optin.KeywordOptions{Voice: true})
	require.Len(t, recs, 2)
	assert.Equal(t, optin.SMS, recs[0].Channel)
	assert.Equal(t, optin.Voice, recs[1].Channel)
	for _, r := range recs {
		assert.False(t, r.Subscribed)
		assert.Equal(t, optin.SourceSMSKeyword, r.Source)
		assert.Equal(t, "Stop.", r.Text)
		assert.True(t, r.IsKeyword())
		assert.Equal(t, diag.Code(""), r.Check())
	}
	assert.Len(t, optin.KeywordRecords(optin.OptOutKeyword, in, optin.KeywordOptions{}), 1)
	assert.Nil(t, optin.KeywordRecords(optin.PossibleOptOut, in, optin.KeywordOptions{Voice: true}))

	start := optin.KeywordRecords(optin.OptInKeyword, optin.InboundSMS{Phone: "+19175554444", Body: "START", Time: at, MessageID: "sms-2"}, optin.KeywordOptions{Voice: true})
	require.Len(t, start, 1)
	assert.True(t, start[0].Subscribed)
	assert.Equal(t, diag.Code(""), start[0].Check(), "a START needs no IP (Rule G6)")
	forged := start[0]
	forged.Text = "hello"
	assert.Equal(t, diag.OptinNoIP, forged.Check(), "only a START reply stands in for an IP")

	var l optin.Ledger
	l.Add(append(recs, start...)...)
	v := l.Resolve(nil)
	assert.Equal(t, optin.StateUnsubscribed, v.State("+19175554444", optin.SMS), "equal timestamps: the opt-out wins (Rule C6)")
	assert.Equal(t, optin.StateUnsubscribed, v.State("+19175554444", optin.Voice))
}

// TestAcross_RuleG1: a phone on two contacts is subscribed only when no contact holds an
// opt-out as new as the newest opt-in.
func TestAcross_RuleG1(t *testing.T) {
	const phone = "+15125550100"
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := func(at time.Time, id string) optin.Record {
		return optin.Record{Address: phone, Channel: optin.SMS, Subscribed: true, Timestamp: at, IP: "8.8.8.8", MessageID: id}
	}
	out := func(at time.Time, id string) optin.Record {
		return optin.Record{Address: phone, Channel: optin.SMS, Timestamp: at, MessageID: id}
	}
	view := func(rs ...optin.Record) optin.View {
		var l optin.Ledger
		l.Add(rs...)
		return l.Resolve(nil)
	}
	tests := []struct {
		name  string
		a, b  optin.View
		state optin.State
	}{
		{"both subscribed", view(in(t1, "a")), view(in(t1.Add(time.Hour), "b")), optin.StateSubscribed},
		{"newer opt-out on the other", view(in(t1, "a")), view(out(t1.Add(time.Hour), "b")), optin.StateUnsubscribed},
		{"older opt-out on the other", view(in(t1.Add(time.Hour), "a")), view(out(t1, "b")), optin.StateSubscribed},
		{"tie", view(in(t1, "a")), view(out(t1, "b")), optin.StateUnsubscribed},
		{"one has none", view(in(t1, "a")), view(), optin.StateSubscribed},
		{"none", view(), view(), optin.StateNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, s, ok := optin.Across(phone, optin.SMS, tc.a, tc.b)
			assert.Equal(t, tc.state, s)
			assert.Equal(t, tc.state != optin.StateNone, ok)
			_, s2, _ := optin.Across(phone, optin.SMS, tc.b, tc.a)
			assert.Equal(t, s, s2, "the order of the views does not matter")
		})
	}
}

// TestAcross_sameRecordJoined_RuleG1: views that hold the same record (two copies of
// one consent carried by different messages, or one copy already joined) count it once,
// its carriers joined: the deciding entry, messageIds included, does not depend on
// which copies the views hold or on their order, also with another record tied with it
// whose messageId falls between the copies'.
func TestAcross_sameRecordJoined_RuleG1(t *testing.T) {
	const phone = "+15125550100"
	t1 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rec := func(id string, at time.Time, source string) optin.Record {
		return optin.Record{Address: phone, Channel: optin.Voice, Subscribed: true, Timestamp: t1, IP: "1.2.3.4", Source: source,
			MessageID: id, MessageTime: at}
	}
	view := func(rs ...optin.Record) optin.View {
		var l optin.Ledger
		l.Add(rs...)
		return l.Resolve(nil)
	}
	early, late := rec("regal-e1", t1, ""), rec("3f2a", t1.Add(5*time.Minute), "")
	other := rec("b", t1, "form") // tied with them, another record
	sets := [][]optin.View{
		{view(early), view(late)},
		{view(early, late), view(early)},
		{view(late), view(early, late)},
		{view(early), view(other), view(late)},
		{view(late), view(early), view(other)},
	}
	var want []optin.Entry
	for i, views := range sets {
		for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}} {
			var vs []optin.View
			for _, k := range order {
				if k < len(views) {
					vs = append(vs, views[k])
				}
			}
			e, s, ok := optin.Across(phone, optin.Voice, vs...)
			require.True(t, ok)
			assert.Equal(t, optin.StateSubscribed, s)
			e.ProcessedAt = time.Time{}
			if i < 3 {
				assert.Equal(t, "regal-e1", e.MessageID, "set %d order %v: the earliest carrier", i, order)
				assert.Equal(t, "3f2a", e.LastMessageID, "set %d order %v: the latest carrier", i, order)
			}
			if len(want) <= i {
				want = append(want, e)
			}
			assert.Equal(t, want[i], e, "set %d order %v", i, order)
		}
	}
	assert.Equal(t, want[3], want[4], "the same records, in other views")
}

// TestSetKeywordRecords_RuleG7: the keyword records are replaced, the others kept.
func TestSetKeywordRecords_RuleG7(t *testing.T) {
	at := time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC)
	other := optin.Record{Address: "+19175554444", Channel: optin.SMS, Subscribed: true, Timestamp: at.Add(-time.Hour), IP: "8.8.8.8", MessageID: "m1"}
	stop := optin.KeywordRecords(optin.OptOutKeyword, optin.InboundSMS{Phone: "+19175554444", Body: "STOP", Time: at, MessageID: "sms-1"}, optin.KeywordOptions{})
	var l optin.Ledger
	l.Add(other)
	assert.True(t, l.SetKeywordRecords(stop))
	assert.Equal(t, 2, l.Len())
	assert.False(t, l.SetKeywordRecords(stop), "setting the same records changes nothing")
	assert.Equal(t, optin.StateUnsubscribed, l.Resolve(nil).State("+19175554444", optin.SMS))
	assert.True(t, l.SetKeywordRecords(nil))
	assert.Equal(t, []optin.Record{other}, l.Records())
}

// FuzzClassifyKeyword: any body classifies without panicking, normalizing is
// idempotent, and the class depends only on the normalized body.
func FuzzClassifyKeyword(f *testing.F) {
	for _, s := range []string{"STOP", "opt-out", "Please stop", "START", "yes", "", "\xff\xfe", "ＳＴＯＰ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n := optin.NormalizeBody(body)
		assert.Equal(t, n, optin.NormalizeBody(n))
		for _, o := range []optin.KeywordOptions{{}, {YesOptsIn: true, ContainedOptsOut: true}} {
			assert.Equal(t, optin.ClassifyKeyword(body, o), optin.ClassifyKeyword(n, o))
		}
	})
}

// TestKeywordRecords_longOptOutKeptAsSent_RuleC7: an opt-out's text over 1,600 bytes is cut,
// not normalized: the evidence is the body as sent (Rule C7). Only a padded START is
// kept as its word (Rule G6).
func TestKeywordRecords_longOptOutKeptAsSent_RuleC7(t *testing.T) {
	body := "Please STOP texting me, I'm not interested! " + strings.Repeat("I said so. ", 160)
	opts := optin.KeywordOptions{ContainedOptsOut: true}
	recs := optin.KeywordRecords(optin.ClassifyKeyword(body, opts), optin.InboundSMS{Phone: "+19545552399", Body: body, Time: time.Unix(1, 0)}, opts)
	require.NotEmpty(t, recs)
	assert.Equal(t, body[:1600], recs[0].Text)

	start := strings.Repeat(" ", 1700) + "Start"
	recs = optin.KeywordRecords(optin.ClassifyKeyword(start, opts), optin.InboundSMS{Phone: "+19545552399", Body: start, Time: time.Unix(1, 0)}, opts)
	require.Len(t, recs, 1)
	assert.Equal(t, "START", recs[0].Text)
}

// TestAcross_manyViews_RuleG1: deciding across many views (a phone that many contacts share)
// costs a sort of their records, not a comparison of every pair: 40,000 views, each
// with a record of its own, are decided in a fraction of a second where a pairwise join
// took six.
func TestAcross_manyViews_RuleG1(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	views := make([]optin.View, 40000)
	for i := range views {
		var l optin.Ledger
		l.Add(optin.Record{Address: "+19545552399", Channel: optin.SMS, Subscribed: true, IP: "8.8.8.8",
			Timestamp: t0.Add(time.Duration(i) * time.Second), MessageID: fmt.Sprint("m", i), MessageTime: t0})
		views[i] = l.Resolve(nil)
	}
	start := time.Now()
	e, s, ok := optin.Across("+19545552399", optin.SMS, views...)
	elapsed := time.Since(start)
	require.True(t, ok)
	assert.Equal(t, optin.StateSubscribed, s)
	assert.Equal(t, "m39999", e.MessageID, "the newest")
	assert.Less(t, elapsed, 3*time.Second)
}
