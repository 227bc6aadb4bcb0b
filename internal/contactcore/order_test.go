package contactcore

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Pools of trait values the generators draw from: valid, invalid, null and empty, so
// that refusals and removals take part in every ordering.
var (
	namePool   = []string{`"Ann"`, `"Bob"`, `"Cy"`, `null`, `""`, `42`}
	emailPool  = []string{`"ann@example.com"`, `"Bob@Example.COM"`, `"not-an-email"`, `null`}
	agePool    = []string{`23`, `"41"`, `151`, `"x"`, `null`}
	phonePool  = []string{`"+19545552399"`, `"(917) 555-4444"`, `12125550123`, `"+1 555 555 5555"`, `null`}
	keyPool    = []string{`"+19545552399"`, `"+19175554444"`, `"+12125550123"`, `"+11115555555"`}
	customPool = []string{`"gold"`, `123456789012345678901`, `{"a":[1,2]}`, `""`, `null`, `false`}
	partPool   = []string{`"Austin"`, `"78701"`, `null`, `7`, `true`}
	optChan    = []string{`"sms"`, `"voice"`, `"fax"`}
	optIP      = []string{`"8.8.8.8"`, `""`}
	optTime    = []string{`"2020-08-25T10:00:00Z"`, `"2020-08-25T11:00:00Z"`, `"2020-08-25T11:00:00Z"`, `"garbage"`}
)

func pick(t *rapid.T, label string, pool []string) string {
	return rapid.SampledFrom(pool).Draw(t, label)
}

func genTraits(t *rapid.T) string {
	var parts []string
	add := func(key, val string) { parts = append(parts, fmt.Sprintf("%q:%s", key, val)) }
	for _, key := range []string{"firstName", "last_name", "name", "gender"} {
		if rapid.Bool().Draw(t, "has "+key) {
			add(key, pick(t, key, namePool))
		}
	}
	if rapid.Bool().Draw(t, "has email") {
		add("email", pick(t, "email", emailPool))
	}
	if rapid.Bool().Draw(t, "has age") {
		add("age", pick(t, "age", agePool))
	}
	if rapid.Bool().Draw(t, "has phone") {
		add("phone", pick(t, "phone", phonePool))
	}
	if rapid.IntRange(0, 3).Draw(t, "has phones") == 0 {
		var entries []string
		for i := range rapid.IntRange(1, 2).Draw(t, "phones") {
			key := pick(t, fmt.Sprint("phones key ", i), keyPool)
			val := rapid.SampledFrom([]string{`null`, `{"label":"work"}`, `{"isPrimary":true}`, `{"isPrimary":"false","label":"home"}`,
				`{"smsOptIn":{"subscribed":true,"timestamp":"2020-08-25T09:00:00Z","ip":"1.2.3.4"}}`}).Draw(t, "phones value")
			entries = append(entries, key+":"+val)
		}
		add("phones", "{"+strings.Join(entries, ",")+"}")
	}
	if rapid.IntRange(0, 2).Draw(t, "has address") == 0 {
		switch rapid.IntRange(0, 3).Draw(t, "address form") {
		case 0:
			add("address", `null`)
		case 1:
			add("address", `"1 Main St"`)
		default:
			add("address", fmt.Sprintf(`{"City":%s,"zip":%s,"floor":%s}`, pick(t, "city", partPool), pick(t, "zip", partPool), pick(t, "floor", partPool)))
		}
	}
	for _, key := range []string{"plan", "Plan Name"} {
		if rapid.Bool().Draw(t, "has "+key) {
			add(key, pick(t, key, customPool))
		}
	}
	if rapid.IntRange(0, 2).Draw(t, "has optIn") == 0 {
		var recs []string
		for i := range rapid.IntRange(1, 2).Draw(t, "records") {
			recs = append(recs, fmt.Sprintf(`{"channel":%s,"subscribed":%s,"timestamp":%s,"ip":%s,"source":"form%d"}`,
				pick(t, "channel", optChan), rapid.SampledFrom([]string{"true", "false", `"true"`}).Draw(t, "subscribed"),
				pick(t, "timestamp", optTime), pick(t, "ip", optIP), i))
		}
		add("optIn", "["+strings.Join(recs, ",")+"]")
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// genMessages draws identify messages. Times come from a small range so that equal times
// (broken by messageId, Rule T4) happen; messageIds are distinct.
func genMessages(t *rapid.T) []*event.Message {
	n := rapid.IntRange(1, 8).Draw(t, "messages")
	msgs := make([]*event.Message, n)
	for i := range msgs {
		traits := genTraits(t)
		obj, err := lenientObject(json.RawMessage(traits))
		if err != nil {
			t.Fatalf("generated traits %s: %v", traits, err)
		}
		msgs[i] = &event.Message{
			Kind:      event.Identify,
			MessageID: fmt.Sprintf("msg-%02d", i),
			UserID:    "u1",
			Time:      seedTime.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "minute")) * time.Minute),
			Traits:    obj,
			Context:   event.Context{IP: pick(t, "context ip", []string{"", "203.0.113.7"})},
		}
		if rapid.IntRange(0, 4).Draw(t, "context traits") == 0 {
			msgs[i].Context.Traits, _ = lenientObject(json.RawMessage(genTraits(t)))
		}
	}
	return msgs
}

// shuffled returns msgs in a drawn order with drawn duplicates.
func shuffled(t *rapid.T, label string, msgs []*event.Message) []*event.Message {
	out := rapid.Permutation(msgs).Draw(t, label)
	for range rapid.IntRange(0, 3).Draw(t, label+" duplicates") {
		out = append(out, rapid.SampledFrom(msgs).Draw(t, label+" duplicate"))
	}
	return rapid.Permutation(out).Draw(t, label+" with duplicates")
}

// exportBytes is the contact in the storage encoding: the export with every register's
// stamp, for comparing contacts exactly.
func exportBytes(t interface{ Fatalf(string, ...any) }, c *Contact) string {
	b, err := EncodeStorage(c)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return string(b)
}

func applyAll(msgs []*event.Message) *Contact {
	c := New("")
	for _, m := range msgs {
		c.ApplyTraits(m, nil)
	}
	return c
}

// TestOrderIndependence_RuleS3: every permutation of a set of identifies, with
// duplicates, gives the same export, clocks and consent history included (Rules T4, C5,
// C6, S3).
func TestOrderIndependence_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		want := exportBytes(t, applyAll(msgs))
		got := exportBytes(t, applyAll(shuffled(t, "order", msgs)))
		if got != want {
			t.Fatalf("order changed the contact:\nin order:  %s\nshuffled: %s", want, got)
		}
	})
}

// TestMerge_RuleI3: merging two contacts equals applying both contacts' messages in any
// order; merge is commutative, associative and idempotent.
func TestMerge_RuleI3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		cut1 := rapid.IntRange(0, len(msgs)).Draw(t, "cut1")
		cut2 := rapid.IntRange(cut1, len(msgs)).Draw(t, "cut2")
		a, b, c := applyAll(msgs[:cut1]), applyAll(msgs[cut1:cut2]), applyAll(msgs[cut2:])
		all := exportBytes(t, applyAll(msgs))

		ab := a.Clone()
		ab.Merge(b)
		ba := b.Clone()
		ba.Merge(a)
		if x, y := exportBytes(t, ab), exportBytes(t, ba); x != y {
			t.Fatalf("merge is not commutative:\na+b: %s\nb+a: %s", x, y)
		}
		abc := ab.Clone()
		abc.Merge(c)
		bc := b.Clone()
		bc.Merge(c)
		aBC := a.Clone()
		aBC.Merge(bc)
		if x, y := exportBytes(t, abc), exportBytes(t, aBC); x != y || x != all {
			t.Fatalf("merge is not associative or differs from applying all:\n(a+b)+c: %s\na+(b+c): %s\nall:     %s", x, y, all)
		}
		again := abc.Clone()
		again.Merge(b)
		if x := exportBytes(t, again); x != all {
			t.Fatalf("merge is not idempotent:\n%s\n%s", x, all)
		}
	})
}

// TestExportRoundTrip: export → import → export is identical, and the imported contact
// keeps merging as the original does.
func TestExportRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := genMessages(t)
		cut := rapid.IntRange(0, len(msgs)).Draw(t, "cut")
		orig := applyAll(msgs[:cut])
		orig.SetID("c-42")
		orig.SetUserID("u1")
		orig.AddAnonymousID("anon-1")
		orig.SetTimes(seedTime, seedTime.Add(time.Hour))
		first := exportBytes(t, orig)
		var back Contact
		if err := json.Unmarshal([]byte(first), &back); err != nil {
			t.Fatalf("import: %v\n%s", err, first)
		}
		if second := exportBytes(t, &back); second != first {
			t.Fatalf("round trip changed the export:\nfirst:  %s\nsecond: %s", first, second)
		}
		for _, m := range msgs[cut:] {
			orig.ApplyTraits(m, nil)
			back.ApplyTraits(m, nil)
		}
		if x, y := exportBytes(t, orig), exportBytes(t, &back); x != y {
			t.Fatalf("the imported contact merges differently:\norig: %s\nback: %s", x, y)
		}
	})
}

func TestExportWithEvents(t *testing.T) {
	c, _ := apply(t, seedMessage(t))
	ev := event.Record{
		Kind: event.Track, Name: "Loan Application Approved", Time: seedTime.Add(time.Minute), MessageID: "t-1",
		Properties: mustObject(t, `{"amount":30000,"rate":5.250}`),
	}
	b, err := json.Marshal(Export{Contact: c, Events: []event.Record{ev}})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"events":[{"kind":"track","name":"Loan Application Approved","timestamp":"2020-08-25T21:24:43Z","messageId":"t-1","properties":{"amount":30000,"rate":5.250}}]`)
	var back Export
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Events, 1)
	assert.Equal(t, ev, back.Events[0])
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again))
}

// TestExportWithEvents_refusesWhatDecodersRefuse_RuleX: an export's event properties
// and traits are read as a decoder reads a message's (Rule D1): a key written twice, at
// any depth, or a number longer than the decoders read, is an error. Such a record was
// read, kept by memstore (whose export then wrote a key twice) and refused by pgstore.
func TestExportWithEvents_refusesWhatDecodersRefuse_RuleX(t *testing.T) {
	doc := func(field, obj string) string {
		return `{"id":"c1","userId":"u1","events":[{"kind":"track","name":"x","timestamp":"2024-01-01T00:00:00Z","messageId":"m1","` + field + `":` + obj + `}]}`
	}
	for _, field := range []string{"properties", "traits"} {
		for _, obj := range []string{
			`{"a":1,"a":2}`,
			`{"a":{"b":1,"b":2}}`,
			`{"a":[{"b":1,"b":2}]}`,
			`{"a":1` + strings.Repeat("0", 140) + `}`,
			`[1]`,
		} {
			var x Export
			err := json.Unmarshal([]byte(doc(field, obj)), &x)
			assert.Error(t, err, "%s %s", field, obj)
		}
		var x Export
		require.NoError(t, json.Unmarshal([]byte(doc(field, `{ "a" : { "b" : [1, 2.50] } , "c":null}`)), &x))
		require.Len(t, x.Events, 1)
		got := x.Events[0].Properties
		if field == "traits" {
			got = x.Events[0].Traits
		}
		assert.Equal(t, event.Object{{Key: "a", Value: []byte(`{"b":[1,2.50]}`)}, {Key: "c", Value: []byte(`null`)}}, got, "values compact, exact")
	}
}

// TestExportWithEvents_contextTraitsReceivedAt: the export shows what was recorded: a
// group's traits, every event's context (context.traits included) and its
// receivedAt, and reads them back (RULES.md, X, issue 12).
func TestExportWithEvents_contextTraitsReceivedAt(t *testing.T) {
	c, _ := apply(t, seedMessage(t))
	group := event.Record{
		Kind: event.Group, GroupID: "acme", Time: seedTime.Add(time.Minute), MessageID: "g-1",
		Traits:     mustObject(t, `{"name":"Acme","employees":123456789012345678}`),
		Context:    event.RecordContext{IP: "8.8.8.8", Locale: "en-US", Library: event.Library{Name: "analytics-go", Version: "3.0.0"}},
		ReceivedAt: seedTime.Add(time.Minute + 250*time.Millisecond),
	}
	track := event.Record{
		Kind: event.Track, Name: "Viewed", Time: seedTime.Add(2 * time.Minute), MessageID: "t-2",
		Context: event.RecordContext{UserAgent: "UA", Page: event.WebPage{URL: "https://x.test/"},
			Traits: mustObject(t, `{"email":"rebecca@example.com"}`)},
	}
	b, err := json.Marshal(Export{Contact: c, Events: []event.Record{group, track}})
	require.NoError(t, err)
	assert.Contains(t, string(b), `{"kind":"group","groupId":"acme","timestamp":"2020-08-25T21:24:43Z","messageId":"g-1",`+
		`"traits":{"name":"Acme","employees":123456789012345678},`+
		`"context":{"ip":"8.8.8.8","locale":"en-US","library":{"name":"analytics-go","version":"3.0.0"}},`+
		`"receivedAt":"2020-08-25T21:24:43.25Z"}`)
	assert.Contains(t, string(b), `{"kind":"track","name":"Viewed","timestamp":"2020-08-25T21:25:43Z","messageId":"t-2",`+
		`"context":{"userAgent":"UA","page":{"url":"https://x.test/"},"traits":{"email":"rebecca@example.com"}}}`)
	var back Export
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Events, 2)
	assert.Equal(t, group, back.Events[0])
	assert.Equal(t, track, back.Events[1])
}

func TestUnmarshalJSON_refusesMalformedClocks(t *testing.T) {
	for _, doc := range []string{
		`{"clocks":{"stamps":[],"fields":{"firstName":["A",0]}}}`,
		`{"clocks":{"stamps":[["nope","m"]],"fields":{"firstName":["A",0]}}}`,
		`{"clocks":{"stamps":[["2020-01-01T00:00:00Z","m"]],"fields":{"nickname":["A",0]}}}`,
		`{"clocks":{"stamps":[["2020-01-01T00:00:00Z","m"]],"phoneLog":[[0,"teleport","+19545552399",true]]}}`,
		`{"createdAt":"yesterday"}`,
		`{"firstName":1}`,
		`{"age":"23"}`,
		`{"age":23.5}`,
		`[]`,
	} {
		var c Contact
		assert.Error(t, json.Unmarshal([]byte(doc), &c), doc)
	}
}

func TestClone_isDeep(t *testing.T) {
	c, _ := apply(t, seedMessage(t))
	d := c.Clone()
	d.ApplyTraits(identify(t, 60, `{"firstName":"Other","salaryBracket":"none","phones":{"+19175554444":{"label":"x"}},"address":{"city":"LA","floor":2}}`), nil)
	d.AddAnonymousID("zzz")
	assert.Equal(t, "Rebecca", c.FirstName())
	v, _ := c.Custom("salaryBracket")
	assert.Equal(t, `"$100k-$500k"`, v)
	assert.Equal(t, []string{"+19545552399"}, c.Phones())
	assert.Equal(t, "New York", c.Address().City)
	assert.Empty(t, c.AnonymousIDs())
}

func TestExport_noClocks(t *testing.T) {
	c, _ := apply(t, seedMessage(t), identify(t, 90, `{"phones":{"+19175554444":{"label":"work"}},"address":{"floor":2}}`))
	c.SetUserID("92980cfccc067")
	b, err := json.Marshal(Export{Contact: c})
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"clocks"`)
	var back Contact
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, exportOf(t, c), exportOf(t, &back), "what a person sees reads back the same")
}
