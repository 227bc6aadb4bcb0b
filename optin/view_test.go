package optin

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

// permutations calls f with every ordering of records.
func permutations(records []Record, f func([]Record)) {
	var walk func(int)
	walk = func(k int) {
		if k == len(records) {
			f(append([]Record(nil), records...))
			return
		}
		for i := k; i < len(records); i++ {
			records[k], records[i] = records[i], records[k]
			walk(k + 1)
			records[k], records[i] = records[i], records[k]
		}
	}
	walk(0)
}

// TestRuleC5_WhichPhone: a record applies to its message's phone, else to the phone
// primary at its message's time, else to the first phone the contact ever gets; until
// then it is pending. The writes are given in every order: arrival cannot matter.
func TestRuleC5_WhichPhone(t *testing.T) {
	w := func(phone, at, id string) PhoneWrite {
		return PhoneWrite{Phone: phone, Time: mustTime(at), MessageID: id}
	}
	phoneless := func(at string) Record {
		return rec("2020-01-01T00:00:00Z", true, withAddress(""), withMessageTime(at))
	}
	tests := []struct {
		name    string
		writes  []PhoneWrite
		record  Record
		want    string
		outcome Outcome
	}{
		{"the message's own phone wins over the primary",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a")},
			rec("2020-06-01T00:00:00Z", true, withAddress(seedPhone)), seedPhone, Applied},
		{"primary at the message time",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a"), w(thirdPhone, "2020-12-01T00:00:00Z", "b")},
			phoneless("2020-06-01T00:00:00Z"), otherPhone, Applied},
		{"primary at a later message time",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a"), w(thirdPhone, "2020-12-01T00:00:00Z", "b")},
			phoneless("2021-01-01T00:00:00Z"), thirdPhone, Applied},
		{"a write at exactly the message time counts",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a"), w(thirdPhone, "2020-06-01T00:00:00Z", "b")},
			phoneless("2020-06-01T00:00:00Z"), thirdPhone, Applied},
		{"equal write times: the larger messageId (Rule T4)",
			[]PhoneWrite{w(thirdPhone, "2020-01-01T00:00:00Z", "b"), w(otherPhone, "2020-01-01T00:00:00Z", "a")},
			phoneless("2020-06-01T00:00:00Z"), thirdPhone, Applied},
		{"no phone yet at the message time: the first phone ever",
			[]PhoneWrite{w(thirdPhone, "2021-01-01T00:00:00Z", "b"), w(otherPhone, "2020-12-01T00:00:00Z", "a")},
			phoneless("2020-06-01T00:00:00Z"), otherPhone, Applied},
		{"no phone at all: pending",
			nil, phoneless("2020-06-01T00:00:00Z"), "", Pending},
		{"empty writes are ignored",
			[]PhoneWrite{{Phone: "", Time: mustTime("2020-01-01T00:00:00Z")}}, phoneless("2020-06-01T00:00:00Z"), "", Pending},
		{"an email record does not bind to a phone",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a")},
			rec("2020-01-01T00:00:00Z", false, withAddress(""), withChannel(Email)), "", Pending},
		{"a refused record never binds",
			[]PhoneWrite{w(otherPhone, "2020-01-01T00:00:00Z", "a")},
			rec("2020-01-01T00:00:00Z", true, withAddress(""), withIP("")), "", Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var firstBinding string
			for i := range len(tt.writes) + 1 {
				// Rotate the writes: each order gives the same binding.
				writes := append(append([]PhoneWrite(nil), tt.writes[i%max(len(tt.writes), 1):]...), tt.writes[:i%max(len(tt.writes), 1)]...)
				v := ledgerOf(tt.record).Resolve(BindPrimary(writes))
				h := v.History()
				require.Len(t, h, 1)
				assert.Equal(t, tt.want, h[0].AppliesTo)
				assert.Equal(t, tt.outcome, h[0].Outcome)
				if tt.outcome == Applied {
					assert.Equal(t, StateSubscribed, v.State(tt.want, tt.record.Channel))
				}
				if i == 0 {
					firstBinding = h[0].AppliesTo
				}
				assert.Equal(t, firstBinding, h[0].AppliesTo)
			}
		})
	}
}

// TestBindPrimary_lateWriteRebinds: when a write older than the others arrives late,
// resolving again binds a pending-era record to the phone it should have had all along.
func TestBindPrimary_lateWriteRebinds(t *testing.T) {
	l := ledgerOf(rec("2020-01-01T00:00:00Z", true, withAddress(""), withMessageTime("2020-06-01T00:00:00Z")))
	assert.Equal(t, Pending, l.Resolve(nil).History()[0].Outcome)

	writes := []PhoneWrite{{Phone: thirdPhone, Time: mustTime("2021-01-01T00:00:00Z"), MessageID: "late-phone"}}
	assert.Equal(t, thirdPhone, l.Resolve(BindPrimary(writes)).History()[0].AppliesTo, "first phone ever")

	writes = append(writes, PhoneWrite{Phone: otherPhone, Time: mustTime("2020-03-01T00:00:00Z"), MessageID: "early-phone"})
	v := l.Resolve(BindPrimary(writes))
	assert.Equal(t, otherPhone, v.History()[0].AppliesTo, "primary at the message time")
	assert.Equal(t, StateSubscribed, v.State(otherPhone, SMS))
	assert.Equal(t, StateNone, v.State(thirdPhone, SMS))
}

// TestBindPrimary_copiesWrites: the caller may reuse its slice.
func TestBindPrimary_copiesWrites(t *testing.T) {
	writes := []PhoneWrite{{Phone: otherPhone, Time: mustTime("2020-01-01T00:00:00Z")}}
	bind := BindPrimary(writes)
	writes[0].Phone = thirdPhone
	got, ok := bind(Voice, mustTime("2020-06-01T00:00:00Z"))
	assert.True(t, ok)
	assert.Equal(t, otherPhone, got)
}

// TestRuleC6_NewestTimestampWins: per (phone, channel) the newest consent timestamp
// decides; an older record arriving later changes nothing; at equal timestamps the
// opt-out wins. Every case is checked in every arrival order.
func TestRuleC6_NewestTimestampWins(t *testing.T) {
	tests := []struct {
		name    string
		records []Record // in arrival order
		want    State
		applied string // the messageId of the deciding record
	}{
		{"newer opt-out after an opt-in",
			[]Record{rec("2020-01-01T00:00:00Z", true), rec("2020-02-01T00:00:00Z", false)},
			StateUnsubscribed, "m-2020-02-01T00:00:00Z"},
		{"newer opt-in after an opt-out",
			[]Record{rec("2020-01-01T00:00:00Z", false), rec("2020-02-01T00:00:00Z", true)},
			StateSubscribed, "m-2020-02-01T00:00:00Z"},
		{"older opt-out arriving later changes nothing",
			[]Record{rec("2020-02-01T00:00:00Z", true), rec("2020-01-01T00:00:00Z", false)},
			StateSubscribed, "m-2020-02-01T00:00:00Z"},
		{"older opt-in arriving later changes nothing",
			[]Record{rec("2020-02-01T00:00:00Z", false), rec("2020-01-01T00:00:00Z", true)},
			StateUnsubscribed, "m-2020-02-01T00:00:00Z"},
		{"a tie goes to the opt-out",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("z")), rec("2020-01-01T00:00:00Z", false, withID("a"))},
			StateUnsubscribed, "a"},
		{"a tie goes to the opt-out among several opt-ins",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("x")), rec("2020-01-01T00:00:00Z", false, withID("a")), rec("2020-01-01T00:00:00Z", true, withID("y"))},
			StateUnsubscribed, "a"},
		{"the same opt-in from two messages is one record, from the earlier message",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("b")), rec("2020-01-01T00:00:00Z", true, withID("a"))},
			StateSubscribed, "a"},
		{"a tie between opt-ins with other evidence: the larger messageId",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("b"), withSource("form-b")), rec("2020-01-01T00:00:00Z", true, withID("a"), withSource("form-a"))},
			StateSubscribed, "b"},
		{"a tie in timestamp and messageId: the canonical order",
			[]Record{rec("2020-01-01T00:00:00Z", true, withID("a"), withSource("form-b")), rec("2020-01-01T00:00:00Z", true, withID("a"), withSource("form-a"))},
			StateSubscribed, "a"},
		{"a cached opt-in re-sent after a newer opt-out",
			[]Record{rec("2020-01-01T00:00:00Z", true), rec("2020-03-01T00:00:00Z", false), rec("2020-01-01T00:00:00Z", true, withID("resend"))},
			StateUnsubscribed, "m-2020-03-01T00:00:00Z"},
		{"nanoseconds count",
			[]Record{rec("2020-01-01T00:00:00.000000001Z", true), rec("2020-01-01T00:00:00Z", false)},
			StateSubscribed, "m-2020-01-01T00:00:00.000000001Z"},
		{"zones do not: the same instant is a tie",
			[]Record{rec("2020-01-01T02:00:00+02:00", true, withID("b")), rec("2020-01-01T00:00:00Z", false, withID("a"))},
			StateUnsubscribed, "a"},
		{"a newer refused opt-in does not beat an older opt-out",
			[]Record{rec("2020-01-01T00:00:00Z", false), rec("2020-05-01T00:00:00Z", true, withIP(""))},
			StateUnsubscribed, "m-2020-01-01T00:00:00Z"},
		{"another channel is another state",
			[]Record{rec("2020-01-01T00:00:00Z", true), rec("2020-05-01T00:00:00Z", false, withChannel(Voice))},
			StateSubscribed, "m-2020-01-01T00:00:00Z"},
		{"another phone is another state",
			[]Record{rec("2020-01-01T00:00:00Z", true), rec("2020-05-01T00:00:00Z", false, withAddress(otherPhone))},
			StateSubscribed, "m-2020-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first []Entry
			permutations(tt.records, func(order []Record) {
				var l Ledger
				for _, r := range order {
					l.Add(r)
				}
				v := l.Resolve(nil)
				assert.Equal(t, tt.want, v.State(seedPhone, SMS))
				cur, ok := v.Current(seedPhone, SMS)
				require.True(t, ok)
				assert.Equal(t, tt.applied, cur.MessageID)
				assert.Equal(t, Applied, cur.Outcome)
				if first == nil {
					first = v.History()
				}
				assert.Equal(t, first, v.History(), "outcomes do not depend on arrival order")
			})
		})
	}
}

// TestRuleC9_States: subscribed, unsubscribed or none per phone and channel, named as
// the export writes them.
func TestRuleC9_States(t *testing.T) {
	l := ledgerOf(
		rec("2020-01-01T00:00:00Z", true),
		rec("2020-01-01T00:00:00Z", false, withChannel(Voice)),
		rec("2020-01-01T00:00:00Z", true, withChannel(Voice), withAddress(otherPhone)),
		rec("2020-01-01T00:00:00Z", true, withChannel(Email), withAddress("rebecca@example.com")),
	)
	v := l.Resolve(nil)
	tests := []struct {
		addr string
		ch   Channel
		want State
		text string
	}{
		{seedPhone, SMS, StateSubscribed, "subscribed"},
		{seedPhone, Voice, StateUnsubscribed, "unsubscribed"},
		{seedPhone, Email, StateNone, "none"},
		{otherPhone, SMS, StateNone, "none"},
		{otherPhone, Voice, StateSubscribed, "subscribed"},
		{thirdPhone, SMS, StateNone, "none"},
		{"rebecca@example.com", Email, StateSubscribed, "subscribed"},
		{"", SMS, StateNone, "none"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", maskAddress(tt.ch, tt.addr), tt.ch), func(t *testing.T) {
			got := v.State(tt.addr, tt.ch)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.text, got.String())
			b, err := json.Marshal(map[Channel]State{tt.ch: got})
			require.NoError(t, err)
			assert.Equal(t, `{"`+string(tt.ch)+`":"`+tt.text+`"}`, string(b))
			var back State
			require.NoError(t, back.UnmarshalText([]byte(tt.text)))
			assert.Equal(t, got, back)
		})
	}
	var zero State
	assert.Equal(t, StateNone, zero, "the zero State is none")
	assert.Equal(t, "invalid", State(9).String())
	_, err := State(9).MarshalText()
	assert.Error(t, err)
	var s State
	assert.Error(t, s.UnmarshalText([]byte("Subscribed")))
}

// TestView_exportShapes: a phone's optIns and the consentHistory have the shapes of the
// contact export (RULES.md, X).
func TestView_exportShapes(t *testing.T) {
	records, _ := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	optOut := Record{
		Channel: Voice, Subscribed: false, Timestamp: mustTime("2021-03-04T05:06:07.5Z"),
		Source: "STOP", MessageID: "stop-1", MessageTime: mustTime("2021-03-04T05:06:08Z"),
	}
	refused := Record{Address: seedPhone, Channel: "fax", Subscribed: true, Timestamp: mustTime("2021-01-01T00:00:00Z"), MessageID: "fax-1"}
	l := ledgerOf(append(records, optOut, refused)...)
	v := l.Resolve(BindPrimary([]PhoneWrite{{Phone: seedPhone, Time: mustTime("2020-08-25T21:24:00Z"), MessageID: "seed-identify"}}))

	b, err := json.Marshal(v.OptIns(seedPhone))
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"sms": {"subscribed": true, "timestamp": "2020-08-25T21:23:43Z", "ip": "8.8.8.8", "source": "booking_flow",
		        "text": "By checking this box you agree to receive texts from Regal."},
		"voice": {"subscribed": false, "timestamp": "2021-03-04T05:06:07.5Z", "source": "STOP"}
	}`, string(b))

	b, err = json.Marshal(v.History())
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"phone": "+19545552399", "binding": "message", "channel": "sms", "subscribed": true, "timestamp": "2020-08-25T21:23:43Z",
		 "outcome": "applied", "messageId": "seed-identify", "ip": "8.8.8.8", "source": "booking_flow",
		 "text": "By checking this box you agree to receive texts from Regal.",
		 "messageTime": "2020-08-25T21:24:00Z", "processedAt": "2020-08-25T21:24:01Z"},
		{"phone": "+19545552399", "binding": "message", "channel": "voice", "subscribed": true, "timestamp": "2020-08-25T21:23:43Z",
		 "outcome": "superseded", "messageId": "seed-identify", "ip": "8.8.8.8", "source": "booking_flow",
		 "text": "By checking this box you agree to receive calls from Regal.",
		 "messageTime": "2020-08-25T21:24:00Z", "processedAt": "2020-08-25T21:24:01Z"},
		{"phone": "+19545552399", "binding": "message", "channel": "fax", "subscribed": true, "timestamp": "2021-01-01T00:00:00Z",
		 "outcome": "refused", "code": "optin.unknown_channel", "messageId": "fax-1"},
		{"phone": "+19545552399", "binding": "contact", "channel": "voice", "subscribed": false, "timestamp": "2021-03-04T05:06:07.5Z",
		 "outcome": "applied", "messageId": "stop-1", "source": "STOP", "messageTime": "2021-03-04T05:06:08Z"}
	]`, string(b))

	assert.Equal(t, []string{seedPhone}, v.Addresses())
	assert.Nil(t, v.OptIns(otherPhone))
}

// TestView_valuesOut: nothing a view returns lets a caller change it or the ledger.
func TestView_valuesOut(t *testing.T) {
	l := ledgerOf(rec("2020-01-01T00:00:00Z", true))
	v := l.Resolve(nil)

	h := v.History()
	h[0].Subscribed = false
	h[0].Outcome = Refused
	o := v.OptIns(seedPhone)
	o[SMS] = Evidence{}
	o[Voice] = Evidence{Subscribed: true}
	a := v.Addresses()
	a[0] = otherPhone

	assert.Equal(t, StateSubscribed, v.State(seedPhone, SMS))
	assert.Equal(t, StateNone, v.State(seedPhone, Voice))
	assert.Equal(t, Applied, v.History()[0].Outcome)
	assert.True(t, v.OptIns(seedPhone)[SMS].Subscribed)
	assert.Equal(t, []string{seedPhone}, v.Addresses())
	assert.Equal(t, StateSubscribed, l.Resolve(nil).State(seedPhone, SMS))
}

// TestView_doesNotFollowTheLedger: a view is a snapshot.
func TestView_doesNotFollowTheLedger(t *testing.T) {
	l := ledgerOf(rec("2020-01-01T00:00:00Z", true))
	v := l.Resolve(nil)
	l.Add(rec("2020-02-01T00:00:00Z", false))
	assert.Equal(t, StateSubscribed, v.State(seedPhone, SMS))
	assert.Equal(t, StateUnsubscribed, l.Resolve(nil).State(seedPhone, SMS))
}

func TestEntry_JSONRoundTrip(t *testing.T) {
	entries := []Entry{
		{Record: rec("2020-01-01T00:00:00.123456789Z", true), AppliesTo: seedPhone, Outcome: Applied},
		{Record: rec("2020-01-01T00:00:00Z", false, withAddress("")), AppliesTo: otherPhone, Outcome: Superseded},
		{Record: rec("2020-01-01T00:00:00Z", true, withAddress(""), withChannel(Email)), Outcome: Pending},
		{Record: rec("2020-01-01T00:00:00Z", true, withAddress("a@example.com"), withChannel(Email)), AppliesTo: "a@example.com", Outcome: Applied},
		{Record: Record{Refused: diag.OptinInvalid, MessageID: "x"}, Outcome: Refused},
	}
	for _, e := range entries {
		t.Run(e.String(), func(t *testing.T) {
			b, err := json.Marshal(e)
			require.NoError(t, err)
			var back Entry
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, e, back)
		})
	}
}

func TestEntry_UnmarshalJSON_errors(t *testing.T) {
	for _, in := range []string{
		`[]`,
		`{"phone": "+19545552399", "email": "a@example.com", "channel": "sms"}`,
		`{"email": "a@example.com", "channel": "sms"}`,
		`{"phone": "+19545552399", "channel": "email"}`,
		`{"phone": "+19545552399", "channel": "sms", "binding": "guess"}`,
		`{"channel": "sms", "timestamp": "soon"}`,
		`{"channel": "sms", "messageTime": "soon"}`,
		`{"channel": "sms", "processedAt": "soon"}`,
	} {
		var e Entry
		err := json.Unmarshal([]byte(in), &e)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "optin: ")
		assert.NotContains(t, err.Error(), "9545552399")
	}
}

// TestView_zero: the zero View and a nil Binder are safe.
func TestView_zero(t *testing.T) {
	var v View
	assert.Equal(t, StateNone, v.State(seedPhone, SMS))
	assert.Nil(t, v.OptIns(seedPhone))
	assert.Empty(t, v.History())
	assert.Empty(t, v.Addresses())
	var l Ledger
	assert.Empty(t, l.Resolve(nil).History())
}
