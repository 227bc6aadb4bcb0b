package trigger

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/optin"
)

const loanJSON = `{"name": "approved-not-signed",
 "entry": {"event": "Loan Application Approved", "where": [{"property": "amount", "op": ">=", "value": 10000}]},
 "exit": [{"event": "Loan Signed", "within": "48h"}],
 "delay": "2h",
 "require": {"inAudience": true, "subscribed": "voice"}}`

func loan() *Trigger {
	return &Trigger{
		Name: "approved-not-signed",
		Entry: Entry{Event: "Loan Application Approved",
			Where: []Condition{{Property: "amount", Op: OpGe, Value: json.RawMessage(`10000`)}}},
		Exit:    []Exit{{Event: "Loan Signed", Within: 48 * time.Hour}},
		Delay:   2 * time.Hour,
		Require: Require{InAudience: true, Subscribed: optin.Voice},
	}
}

func TestDecodeTheIssueForm(t *testing.T) {
	got, err := Decode(strings.NewReader(loanJSON))
	require.NoError(t, err)
	assert.Equal(t, loan(), got)

	got, err = Decode(strings.NewReader(`{"name":"thrice","entry":{"kind":"page","event":"Pricing","count":{"atLeast":3,"within":"720h"}},
		"require":{"trait":{"property":"plan","op":"==","value":"gold"}}}`))
	require.NoError(t, err)
	assert.Equal(t, &Trigger{Name: "thrice",
		Entry:   Entry{Kind: event.Page, Event: "Pricing", Count: Count{AtLeast: 3, Within: 720 * time.Hour}},
		Require: Require{Trait: &Condition{Property: "plan", Op: OpEq, Value: json.RawMessage(`"gold"`)}}}, got)
}

// Rule J1: a decoding error names the field at fault.
func TestDecodeErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"bad duration", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"B","within":"two days"}]}`, "exit[0].within"},
		{"negative delay", `{"name":"a","entry":{"event":"A"},"delay":"-1h"}`, "delay"},
		{"delay not a string", `{"name":"a","entry":{"event":"A"},"delay":5}`, "delay"},
		{"no name", `{"entry":{"event":"A"}}`, "name"},
		{"no entry", `{"name":"a"}`, "entry"},
		{"no entry event", `{"name":"a","entry":{}}`, "entry.event"},
		{"unknown op", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"~","value":1}]}}`, "entry.where[0].op"},
		{"no value", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"=="}]}}`, "entry.where[0].value"},
		{"no property", `{"name":"a","entry":{"event":"A","where":[{"op":"exists"}]}}`, "entry.where[0].property"},
		{"bad count", `{"name":"a","entry":{"event":"A","count":{"atLeast":0}}}`, "entry.count.atLeast"},
		{"bad count window", `{"name":"a","entry":{"event":"A","count":{"atLeast":2,"within":"1 week"}}}`, "entry.count.within"},
		{"bad kind", `{"name":"a","entry":{"event":"A","kind":"identify"}}`, "entry.kind"},
		{"exit is entry", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"A"}]}`, "exit[0].event"},
		{"unknown channel", `{"name":"a","entry":{"event":"A"},"require":{"subscribed":"fax"}}`, "require.subscribed"},
		{"bad trait op", `{"name":"a","entry":{"event":"A"},"require":{"trait":{"property":"p","op":"=<","value":1}}}`, "require.trait.op"},
		{"unknown field", `{"name":"a","entry":{"event":"A"},"dealy":"2h"}`, "dealy"},
		{"exit not an array", `{"name":"a","entry":{"event":"A"},"exit":{"event":"B"}}`, "exit"},
		// Paths with the index, keys to the letter and once each (Rule J1).
		{"second exit's window", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"B","within":"48h"},{"event":"C","within":2}]}`, "exit[1].within"},
		{"second exit's misspelt key", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"B"},{"event":"C","withn":"2h"}]}`, "exit[1].withn"},
		{"count in exponent form", `{"name":"a","entry":{"event":"A","count":{"atLeast":1e2}}}`, "entry.count.atLeast"},
		{"exit twice", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"B","within":"48h"}],"exit":[]}`, "exit"},
		{"value in another case", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"==","value":1,"Value":2}]}}`, "entry.where[0].Value"},
		{"op twice", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"==","value":1,"op":"exists"}]}}`, "entry.where[0].op"},
		{"Exit", `{"name":"a","entry":{"event":"A"},"Exit":[{"event":"B"}]}`, "Exit"},
		{"two exits on one event", `{"name":"a","entry":{"event":"A"},"exit":[{"event":"B","within":"1h"},{"event":"B","within":"48h"}]}`, "exit[1].event"},
		// Standard traits that are no single value: a condition would never find one.
		{"trait on phones", `{"name":"a","entry":{"event":"A"},"require":{"trait":{"property":"phones","op":"exists"}}}`, "require.trait.property"},
		{"trait on opt_in", `{"name":"a","entry":{"event":"A"},"require":{"trait":{"property":"opt_in","op":"exists"}}}`, "require.trait.property"},
		{"trait on Emails", `{"name":"a","entry":{"event":"A"},"require":{"trait":{"property":"Emails","op":"!=","value":1}}}`, "require.trait.property"},
		{"trait on name", `{"name":"a","entry":{"event":"A"},"require":{"trait":{"property":"name","op":"==","value":"Ann Lee"}}}`, "require.trait.property"},
		// A value that repeats a key, or holds a number past the length limit.
		{"value repeats a key", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"==","value":{"k":1,"k":2}}]}}`, "entry.where[0].value"},
		{"value's number too long", `{"name":"a","entry":{"event":"A","where":[{"property":"x","op":"==","value":` + strings.Repeat("9", 200) + `}]}}`, "entry.where[0].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.json))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%v", err)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), "field "+tt.field+":")
		})
	}
}

func TestDecodeSyntaxErrorHasOffset(t *testing.T) {
	for _, in := range []string{`{"name": "a", "entry": {]`, `{"name":"a","entry":{"event":"A"}}}`, `{"name":"a","entry":{"event":"A"}}]`} {
		_, err := Decode(strings.NewReader(in))
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalid, in)
		assert.Contains(t, err.Error(), "at byte", in)
	}
}

func TestValidateBuiltInGo(t *testing.T) {
	assert.NoError(t, loan().Validate())
	bad := loan()
	bad.Exit[0].Within = -time.Hour
	var fe *FieldError
	require.ErrorAs(t, bad.Validate(), &fe)
	assert.Equal(t, "exit[0].within", fe.Field)
	assert.Error(t, (*Trigger)(nil).Validate())
}

func TestConditionHolds(t *testing.T) {
	tests := []struct {
		op    Op
		want  string
		value string // "" for missing
		holds bool
	}{
		{OpGe, `10000`, `30000`, true},
		{OpGe, `10000`, `10000.0`, true},
		{OpGe, `10000`, `9999.99`, false},
		{OpGt, `123456789012345678`, `123456789012345679`, true}, // beyond float64
		{OpEq, `1e4`, `10000`, true},
		{OpEq, `"Personal loan"`, `"Personal loan"`, true},
		{OpEq, `"Personal loan"`, `"Car loan"`, false},
		{OpNe, `"Personal loan"`, `"Car loan"`, true},
		{OpNe, `"Personal loan"`, ``, true},
		{OpEq, `{"a":1,"b":2}`, `{"b":2, "a":1}`, true},
		{OpLt, `"b"`, `"a"`, true},
		{OpLt, `10`, `"5"`, false}, // a string is not a number
		{OpGe, `10000`, ``, false},
		{OpGe, `10000`, `null`, false},
		{OpExists, ``, `0`, true},
		{OpExists, ``, `null`, false},
		{OpExists, ``, ``, false},
	}
	for _, tt := range tests {
		c := Condition{Property: "p", Op: tt.op, Value: json.RawMessage(tt.want)}
		assert.Equal(t, tt.holds, c.Holds([]byte(tt.value), tt.value != ""), "%s %s %s", tt.value, tt.op, tt.want)
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

func approved(id string, h float64, amount int) event.Record {
	return event.Record{Kind: event.Track, Name: "Loan Application Approved", Time: at(h), MessageID: id,
		Properties: event.Object{{Key: "amount", Value: jsonInt(amount)}}}
}

func signed(id string, h float64) event.Record {
	return event.Record{Kind: event.Track, Name: "Loan Signed", Time: at(h), MessageID: id}
}

// Rule J3: the entry, its exits within their window, the delay, as of now.
func TestEnters(t *testing.T) {
	tests := []struct {
		name    string
		events  []event.Record
		now     float64 // hours after t0; 0 for no bound
		entry   string  // messageId of the entry; "" for none
		dueHour float64
	}{
		{"approved", []event.Record{approved("a", 0, 30000)}, 3, "a", 2},
		{"approved, not yet due", []event.Record{approved("a", 0, 30000)}, 1, "a", 2},
		{"too small", []event.Record{approved("a", 0, 5000)}, 3, "", 0},
		{"signed within the window", []event.Record{approved("a", 0, 30000), signed("s", 10)}, 11, "", 0},
		{"signed at the same instant", []event.Record{approved("a", 0, 30000), signed("s", 0)}, 11, "", 0},
		{"signed, but after now", []event.Record{approved("a", 0, 30000), signed("s", 10)}, 5, "a", 2},
		{"signed too late", []event.Record{approved("a", 0, 30000), signed("s", 49)}, 50, "a", 2},
		{"signed before", []event.Record{signed("s", -1), approved("a", 0, 30000)}, 3, "a", 2},
		{"entry after now", []event.Record{approved("a", 5, 30000)}, 3, "", 0},
		{"second approval after signing", []event.Record{approved("a", 0, 30000), signed("s", 1), approved("b", 100, 20000)}, 103, "b", 102},
		{"earliest uncancelled entry holds", []event.Record{approved("b", 100, 20000), approved("a", 0, 30000)}, 200, "a", 2},
		{"re-delivered", []event.Record{approved("a", 0, 30000), approved("a", 0, 30000), signed("s", 3), signed("s", 3)}, 0, "", 0},
		{"no bound", []event.Record{approved("a", 1000, 30000)}, 0, "a", 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var now time.Time
			if tt.now != 0 {
				now = at(tt.now)
			}
			m, ok := loan().Enters(tt.events, now)
			if tt.entry == "" {
				assert.False(t, ok, "entered with %s", m.Entry.MessageID)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.entry, m.Entry.MessageID)
			assert.Equal(t, at(tt.dueHour), m.DueAt)
		})
	}
}

// Rule J3: "did A at least n times within T".
func TestEntersWithCount(t *testing.T) {
	tr := &Trigger{Name: "thrice", Entry: Entry{Event: "Loan Application Approved", Count: Count{AtLeast: 3, Within: 24 * time.Hour}}}
	evs := []event.Record{approved("a", 0, 1), approved("b", 10, 1), approved("c", 30, 1), approved("d", 40, 1)}
	_, ok := tr.Enters(evs, time.Time{})
	assert.False(t, ok, "four, but never three within 24h")
	evs = append(evs, approved("e", 41, 1), approved("e", 41, 1))
	m, ok := tr.Enters(evs, time.Time{})
	require.True(t, ok)
	assert.Equal(t, "e", m.Entry.MessageID, "c, d, e: the duplicate of e counts once")
	tr.Entry.Count.Within = 0
	m, ok = tr.Enters(evs, time.Time{})
	require.True(t, ok)
	assert.Equal(t, "c", m.Entry.MessageID, "no window: the third event ever")
}

// TestDecode_RuleX_masksQuotedValues: an error quotes a trigger's field names and values
// masked, as every error does (RULES.md, X): one may be a phone number or an address (a
// privacy review found them whole).
func TestDecode_RuleX_masksQuotedValues(t *testing.T) {
	for _, doc := range []string{
		`{"name":"a","entry":{"event":"A"},"+19545552399":1}`,
		`{"name":"a","entry":{"event":"A"},"bob.secret@example.com":1}`,
		`{"name":"a","entry":{"event":"A"},"delay":"+19545552399"}`,
		`{"name":"a","entry":{"event":"A","kind":"bob.secret@example.com"}}`,
		`{"name":"a","entry":{"event":"A"},"require":{"subscribed":"+19545552399"}}`,
		`{"name":"a","entry":{"event":"A"},"repeat":19545552399.5}`,
	} {
		_, err := Decode(strings.NewReader(doc))
		require.ErrorIs(t, err, ErrInvalid, doc)
		assert.NotContains(t, err.Error(), "5552399", doc)
		assert.NotContains(t, err.Error(), "bob.secret", doc)
	}
}
