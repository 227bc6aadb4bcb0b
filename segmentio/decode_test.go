package segmentio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const seedIdentify = `{"type":"identify","messageId":"ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601","anonymousId":"507f191e810c19729de860ea","userId":"92980cfccc067","timestamp":"2020-08-25T21:23:43.000Z","context":{"ip":"8.8.8.8","library":{"name":"analytics.js","version":"next-1.53.0"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},"traits":{"email":"rebecca@example.com","firstName":"Rebecca","lastName":"Greene","phone":"+19545552399","age":23,"gender":"other","salaryBracket":"$100k-$500k","address":{"AddressLine1":"201 Maiden Lane.","AddressLine2":"11M","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US"},"optIn":[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive calls from Regal."},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]}}`

func decodeOne(t *testing.T, s string) (event.Message, error) {
	t.Helper()
	var m event.Message
	err := Unmarshal([]byte(s), &m)
	return m, err
}

// TestUnmarshal_seedIdentify reads the seed's identify exactly.
func TestUnmarshal_seedIdentify(t *testing.T) {
	m, err := decodeOne(t, seedIdentify)
	require.NoError(t, err)
	assert.Equal(t, event.Identify, m.Kind)
	assert.Equal(t, "92980cfccc067", m.UserID)
	assert.Equal(t, "507f191e810c19729de860ea", m.AnonymousID)
	assert.Equal(t, "2020-08-25T21:23:43Z", timestamp.Format(m.Time))
	assert.Equal(t, "8.8.8.8", m.Context.IP)
	assert.Equal(t, event.Library{Name: "analytics.js", Version: "next-1.53.0"}, m.Context.Library)
	optIn, ok := m.Traits.Get("optIn")
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(string(optIn), `[{"channel":"voice","subscribed":true,`))
	age, _ := m.Traits.Get("age")
	assert.Equal(t, "23", string(age))
	assert.Len(t, m.Traits, 9)
	assert.Empty(t, m.Diagnostics)
}

// TestDecode_RuleD5_clockSkew: Segment's own example gives …01.249Z.
func TestDecode_RuleD5_clockSkew(t *testing.T) {
	m, err := decodeOne(t, `{"type":"track","event":"E","userId":"u","receivedAt":"2015-12-12T19:11:01.266Z","sentAt":"2015-12-12T19:11:01.169Z","originalTimestamp":"2015-12-12T19:11:01.152Z"}`)
	require.NoError(t, err)
	assert.Equal(t, "2015-12-12T19:11:01.249Z", timestamp.Format(m.Time))
}

// TestDecode_RuleD4_invalidTimestamp: a diagnostic, and the next source.
func TestDecode_RuleD4_invalidTimestamp(t *testing.T) {
	m, err := decodeOne(t, `{"type":"track","event":"E","userId":"u","messageId":"m1","timestamp":"2020-13-45","originalTimestamp":"2015-2-02T00:30:08.276Z"}`)
	require.NoError(t, err)
	assert.Equal(t, "2015-02-02T00:30:08.276Z", timestamp.Format(m.Time))
	require.Len(t, m.Diagnostics, 1)
	assert.Equal(t, diag.Diagnostic{MessageID: "m1", Code: diag.TimestampInvalid, Field: "timestamp", Message: "cannot parse timestamp: date out of range"}, m.Diagnostics[0])
}

// TestDecode_RuleD3_leniency covers ids, version, channel and unknown keys.
func TestDecode_RuleD3_leniency(t *testing.T) {
	m, err := decodeOne(t, `{"type":"alias","userId":123456789012345678,"previousId":"p","anonymousId":null,"groupId":-0.5e3,"version":2,"channel":"server","context":{"channel":"browser","x":1},"other":[1]}`)
	require.NoError(t, err)
	assert.Equal(t, "123456789012345678", m.UserID)
	assert.Equal(t, "", m.AnonymousID)
	assert.Equal(t, "-0.5e3", m.GroupID)
	assert.Equal(t, "2", m.Version)
	assert.Equal(t, "server", m.Channel)
	assert.Equal(t, "browser", m.Context.Channel)
	assert.Equal(t, event.Object{{Key: "x", Value: []byte(`1`)}}, m.Context.Extra)
	assert.Equal(t, event.Object{{Key: "other", Value: []byte(`[1]`)}}, m.Extra)

	m, err = decodeOne(t, `{"type":"identify","userId":"u","version":"1.1"}`)
	require.NoError(t, err)
	assert.Equal(t, "1.1", m.Version)
}

// TestDecode_RuleD2_types: any case; others refused for that message only.
func TestDecode_RuleD2_types(t *testing.T) {
	for _, typ := range []string{"identify", "IDENTIFY", "Identify", "iDeNtIfY"} {
		m, err := decodeOne(t, `{"type":"`+typ+`","userId":"u"}`)
		require.NoError(t, err, typ)
		assert.Equal(t, event.Identify, m.Kind)
	}
	_, err := decodeOne(t, `{"type":"batch","userId":"u"}`)
	var ute *UnsupportedTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "batch", ute.Type)
	assert.ErrorIs(t, err, ErrUnsupportedType)
	assert.Equal(t, diag.MessageUnsupportedType, CodeOf(err))

	_, err = decodeOne(t, `{"type":"`+strings.Repeat("é", 40)+`","userId":"u"}`)
	require.ErrorAs(t, err, &ute)
	assert.LessOrEqual(t, len(ute.Type), 32)

	// No type at all is not one of the seven either (RULES.md's code table); a type
	// that is not a string is a field of an impossible type (TestDecode_fieldErrors).
	for _, in := range []string{`{"userId":"u"}`, `{"type":"","userId":"u"}`, `{"type":null,"userId":"u"}`} {
		_, err = decodeOne(t, in)
		require.ErrorAs(t, err, &ute, in)
		assert.Empty(t, ute.Type, in)
		assert.Equal(t, diag.MessageUnsupportedType, CodeOf(err), in)
		assert.Contains(t, err.Error(), "no type", in)
	}

	results, err := DecodeAll([]byte(`[{"type":"track","event":"A","userId":"u"},{"type":"trackk","event":"B","userId":"u"},{"type":"track","event":"C","userId":"u"}]`), nil)
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.NoError(t, results[0].Err)
	assert.ErrorIs(t, results[1].Err, ErrUnsupportedType)
	assert.NoError(t, results[2].Err)
	assert.Equal(t, "C", results[2].Message.Event)
}

// TestDecode_fieldErrors: valid JSON of the wrong shape is refused with the field named.
func TestDecode_fieldErrors(t *testing.T) {
	tests := []struct{ in, field string }{
		{`{"type":1,"userId":"u"}`, "type"},
		{`{"type":"identify","userId":true}`, "userId"},
		{`{"type":"identify","userId":"u","anonymousId":{}}`, "anonymousId"},
		{`{"type":"track","userId":"u","event":["x"]}`, "event"},
		{`{"type":"identify","userId":"u","traits":"x"}`, "traits"},
		{`{"type":"track","userId":"u","event":"e","properties":[1]}`, "properties"},
		{`{"type":"identify","userId":"u","context":"web"}`, "context"},
		{`{"type":"identify","userId":"u","integrations":true}`, "integrations"},
		{`{"type":"identify","userId":"u","version":[2]}`, "version"},
		// Half a surrogate pair reads as U+FFFD, as another half would: two users
		// would be one, a message the duplicate of another (Rules I1, E2).
		{`{"type":"identify","userId":"v\ud800"}`, "userId"},
		{`{"type":"track","event":"E","anonymousId":"a\udfff"}`, "anonymousId"},
		{`{"type":"identify","userId":"u","messageId":"x\udc00\ud800"}`, "messageId"},
		{`{"type":"alias","userId":"u","previousId":"\ud83d"}`, "previousId"},
		{`[1]`, ""},
		{`"identify"`, ""},
		{`null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := decodeOne(t, tt.in)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.ErrorIs(t, err, ErrInvalidMessage)
			assert.Equal(t, diag.MessageInvalid, CodeOf(err))
		})
	}
	_, err := decodeOne(t, `{"batch":[]}`)
	assert.ErrorIs(t, err, ErrInvalidMessage, "Unmarshal wants one message")
}

// TestDecode_RuleD6_validation: a decoded message is validated.
func TestDecode_RuleD6_validation(t *testing.T) {
	m, err := decodeOne(t, `{"type":"track","userId":"u","messageId":"m9"}`)
	var ve *event.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, diag.MessageNoEvent, ve.Code)
	assert.Equal(t, "m9", m.MessageID, "the message is still there to inspect")

	results, err := DecodeAll([]byte(`{"type":"identify","messageId":"`+strings.Repeat("x", 101)+`","userId":"u"}`), nil)
	require.NoError(t, err)
	require.Len(t, results, 1)
	var ie *ItemError
	require.ErrorAs(t, results[0].Err, &ie)
	assert.Equal(t, diag.MessageInvalidID, ie.Code())
	assert.Equal(t, "messageId", ie.Diagnostic().Field)
}

// TestDecode_RuleD1_forms reads each form, and mixes them in a stream.
func TestDecode_RuleD1_forms(t *testing.T) {
	msg := func(id string) string { return `{"type":"identify","userId":"u","messageId":"` + id + `"}` }
	tests := []struct {
		name, in string
		ids      []string
	}{
		{"single", msg("a"), []string{"a"}},
		{"single with whitespace", "\n  " + msg("a") + "\n\n", []string{"a"}},
		{"array", "[" + msg("a") + "," + msg("b") + "]", []string{"a", "b"}},
		{"empty array", "[]", nil},
		{"batch", `{"batch":[` + msg("a") + "," + msg("b") + `],"writeKey":"k"}`, []string{"a", "b"}},
		{"empty batch", `{"batch":[]}`, nil},
		{"ndjson", msg("a") + "\n" + msg("b") + "\r\n\n" + msg("c"), []string{"a", "b", "c"}},
		{"ndjson of arrays and batches", "[" + msg("a") + "]\n" + `{"batch":[` + msg("b") + `]}` + "\n" + msg("c") + "\n", []string{"a", "b", "c"}},
		{"concatenated on one line", msg("a") + " " + msg("b"), []string{"a", "b"}},
		{"pretty-printed then another", "{\n \"type\": \"identify\",\n \"userId\": \"u\",\n \"messageId\": \"a\"\n}\n" + msg("b"), []string{"a", "b"}},
		{"empty input", "", nil},
		{"blank input", " \n\t\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in)), iotest.DataErrReader(strings.NewReader(tt.in))} {
				results, err := NewDecoder(r).decodeAll()
				require.NoError(t, err)
				var ids []string
				for _, res := range results {
					require.NoError(t, res.Err)
					ids = append(ids, res.Message.MessageID)
				}
				assert.Equal(t, tt.ids, ids)
			}
			results, err := DecodeAll([]byte(tt.in), nil)
			require.NoError(t, err)
			assert.Len(t, results, len(tt.ids))
		})
	}
}

// TestDecode_RuleD1_envelopeMerge: envelope context and integrations reach every item,
// the item's own keys winning; the envelope's sentAt fills in.
func TestDecode_RuleD1_envelopeMerge(t *testing.T) {
	in := `{"batch":[
		{"type":"track","event":"A","userId":"u","context":{"ip":"2.2.2.2"},"integrations":{"X":true}},
		{"type":"track","event":"B","userId":"u","context":null,"sentAt":"2020-01-01T00:00:05Z","originalTimestamp":"2020-01-01T00:00:00Z","receivedAt":"2020-01-01T00:00:06Z"}
	],"context":{"ip":"1.1.1.1","locale":"en-US"},"integrations":{"X":false,"Y":true},"sentAt":"2020-01-01T00:00:10Z"}`
	results, err := DecodeAll([]byte(in), nil)
	require.NoError(t, err)
	require.Len(t, results, 2)
	a, b := results[0].Message, results[1].Message
	assert.Equal(t, "2.2.2.2", a.Context.IP)
	assert.Equal(t, "en-US", a.Context.Locale)
	assert.Equal(t, event.Object{{Key: "X", Value: []byte(`true`)}, {Key: "Y", Value: []byte(`true`)}}, a.Integrations)
	assert.Equal(t, `"2020-01-01T00:00:10Z"`, string(a.Timestamps.SentAt))
	assert.Equal(t, "1.1.1.1", b.Context.IP)
	assert.Equal(t, `"2020-01-01T00:00:05Z"`, string(b.Timestamps.SentAt), "the item's own sentAt wins")
	assert.Equal(t, "2020-01-01T00:00:01Z", timestamp.Format(b.Time))

	// Messages share no memory: changing one leaves the other intact.
	a.Integrations[1].Value[0] = 'X'
	assert.Equal(t, `true`, string(b.Integrations[1].Value))

	_, err = DecodeAll([]byte(`{"batch":{}}`), nil)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "batch", fe.Field)
	_, err = DecodeAll([]byte(`{"batch":[],"context":[{}]}`), nil)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "context", fe.Field)
	_, err = DecodeAll([]byte(`{"batch":[],"context":{"a":1,"a":2}}`), nil)
	assert.ErrorAs(t, err, new(*DuplicateKeyError))

	// A key the envelope repeats refuses the document, also when an item has a problem
	// of its own (the document pass reports only the first it meets).
	for _, in := range []string{
		`{"batch":[{"type":"identify","userId":"a"}],"batch":[{"type":"track","event":"E","userId":"x","properties":{"d":1,"d":2}},{"type":"track","event":"E","userId":"b"}]}`,
		`{"writeKey":"bad","batch":[{"type":"track","event":"E","userId":"x","n":` + strings.Repeat("1", 200) + `}],"writeKey":"good"}`,
	} {
		_, err = DecodeAll([]byte(in), nil)
		assert.ErrorAs(t, err, new(*DuplicateKeyError), in)
	}

	// An object that is both a message and an envelope is refused whole: taking either
	// would drop the other without a word (nothing is dropped silently).
	for _, in := range []string{
		`{"type":"identify","userId":"a","batch":[]}`,
		`{"type":"identify","userId":"a","batch":[{"type":"track","event":"E","userId":"b"}]}`,
		`{"batch":[{"type":"track","event":"E","userId":"b"}],"type":null}`,
	} {
		_, err = DecodeAll([]byte(in), nil)
		require.ErrorAs(t, err, &fe, in)
		assert.Equal(t, "type", fe.Field, in)
		assert.Equal(t, diag.MessageInvalid, CodeOf(err), in)
	}
}

// TestDecode_RuleD7_envelopeFanOut: a batch envelope's context is merged into every
// item, so what it adds, counted once per item, is held to MaxBatchBytes: 2,500 items
// under a 30 KB context would otherwise hold 75 MB of text decoded from 150 KB.
// TestDecode_RuleD1_envelopeKeysNotRead: a batch envelope's keys that are not part of
// its messages are not read, and every message says so, once, however many there are
// (a review found an envelope's userId, timestamp and traits dropped without a word).
// The messageId, timestamp, sequence and requestTimestamp Segment's libraries give a
// batch are not reported (a review found analytics-java's sequence reported on every
// message).
func TestDecode_RuleD1_envelopeKeysNotRead(t *testing.T) {
	results, err := DecodeAll([]byte(`{"batch":[{"type":"track","event":"A","userId":"u","messageId":"x1"},{"type":"track","event":"B","userId":"u","messageId":"x2"}],`+
		`"messageId":"b1","timestamp":"2020-01-01T00:00:00Z","userId":"other","traits":{"plan":"gold"},"ann@example.com":1,"sentAt":"2020-01-01T00:00:10Z"}`), nil)
	require.NoError(t, err)
	require.Len(t, results, 2)
	for _, r := range results {
		require.Len(t, r.Message.Diagnostics, 1, "%v", r.Message.Diagnostics)
		d := r.Message.Diagnostics[0]
		assert.Equal(t, diag.MessageEnvelopeKey, d.Code)
		assert.Equal(t, "envelope.userId", d.Field)
		assert.Equal(t, r.Message.MessageID, d.MessageID)
		assert.Contains(t, d.Message, "2 other keys")
		assert.NotContains(t, d.Message, "ann@")
	}
	// Masked before it is cut to 64 bytes: a cut before the @ would leave the local
	// part (a review found "…-jane.doe.private.alia" in the field and the message).
	key := strings.Repeat("k", 42) + "-jane.doe.private.alias@example.com"
	results, err = DecodeAll([]byte(`{"batch":[{"type":"track","event":"A","userId":"u"}],"`+key+`":1}`), nil)
	require.NoError(t, err)
	d := results[0].Message.Diagnostics[0]
	assert.NotContains(t, d.Field+d.Message, "jane.doe")
	results, err = DecodeAll([]byte(`{"batch":[{"type":"track","event":"A","userId":"u"}],"messageId":"b1","timestamp":"2020-01-01T00:00:00Z","context":{},"integrations":{},"sentAt":null,"writeKey":"k","sequence":7,"requestTimestamp":"2020-01-01T00:00:00Z"}`), nil)
	require.NoError(t, err)
	assert.Empty(t, results[0].Message.Diagnostics, "Segment's libraries' envelopes")
}

func TestDecode_RuleD7_envelopeFanOut(t *testing.T) {
	batch := func(items, ctxBytes int) []byte {
		b := []byte(`{"context":{"pad":"` + strings.Repeat("x", ctxBytes) + `"},"batch":[`)
		for i := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"track","event":"E","userId":"u"}`...)
		}
		return append(b, "]}"...)
	}
	_, err := DecodeAll(batch(2500, 30<<10), nil)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, LimitBatchBytes, le.Limit)

	results, err := DecodeAll(batch(2500, 150), nil) // 2,500 × ~170 bytes: within 500 KB
	require.NoError(t, err)
	assert.Len(t, results, 2500)
	results, err = DecodeAll(batch(10, 30<<10), nil) // a large context on a few items
	require.NoError(t, err)
	assert.Len(t, results, 10)
}

// TestDecode_RuleD7_messageSizeAsSent: a message's 32 KB are counted as it was sent,
// without what its envelope adds: analytics-java sends a message of up to 32 KB in an
// envelope with its library context (a review found such a message refused with 413,
// which Java does not retry). One byte more is still refused.
func TestDecode_RuleD7_messageSizeAsSent(t *testing.T) {
	item := func(size int) string {
		m := `{"type":"track","event":"E","userId":"u","properties":{"pad":""}}`
		return m[:len(m)-3] + strings.Repeat("x", size-len(m)) + m[len(m)-3:]
	}
	limit := DefaultMaxMessageBytes
	env := func(it string) []byte {
		return []byte(`{"batch":[` + it + `],"context":{"library":{"name":"analytics-java","version":"3.5.1"},"instanceId":"5c4e6d6a-3f0b-4a68-9f5e-0c6a2b1d2e3f"},"sentAt":"2024-01-01T00:00:00.000Z","sequence":1}`)
	}
	require.Len(t, item(limit), limit)
	results, err := DecodeAll(env(item(limit)), nil)
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.Equal(t, "analytics-java", results[0].Message.Context.Library.Name)
	results, err = DecodeAll(env(item(limit+1)), nil)
	require.NoError(t, err)
	var le *LimitError
	require.ErrorAs(t, results[0].Err, &le)
	assert.Equal(t, LimitMessageBytes, le.Limit)
}

// TestDecode_RuleD7_itemsInOrder: every item gets a result, in input order, one bad item
// failing alone.
func TestDecode_RuleD7_itemsInOrder(t *testing.T) {
	in := `[{"type":"track","event":"1","userId":"u"},
		{"type":"track","event":"2","userId":"u","properties":{"k":1,"k":2}},
		{"type":"track","event":"3","userId":"u","n":` + strings.Repeat("1", 200) + `},
		{"type":"track","event":"4","userId":"u"},
		{"type":"track","event":"5"},
		{"type":"track","event":"6","userId":"u","x":"` + strings.Repeat("a", 40<<10) + `"},
		7,
		{"type":"track","event":"8","userId":"u"}]`
	results, err := DecodeAll([]byte(in), nil)
	require.NoError(t, err)
	require.Len(t, results, 8)
	wantErr := []error{nil, ErrInvalidMessage, ErrLimit, nil, event.ErrInvalid, ErrLimit, ErrInvalidMessage, nil}
	for i, r := range results {
		if wantErr[i] == nil {
			require.NoError(t, r.Err, i)
			assert.Equal(t, string(rune('1'+i)), r.Message.Event)
			continue
		}
		assert.ErrorIs(t, r.Err, wantErr[i], i)
		var ie *ItemError
		require.ErrorAs(t, r.Err, &ie)
		assert.Equal(t, i, ie.Index)
	}
	var le *LimitError
	require.ErrorAs(t, results[2].Err, &le)
	assert.Equal(t, LimitNumberLength, le.Limit)
	require.ErrorAs(t, results[5].Err, &le)
	assert.Equal(t, LimitMessageBytes, le.Limit)
	var ie *ItemError
	require.ErrorAs(t, results[1].Err, &ie)
	assert.Equal(t, int64(strings.Index(in, `{"type":"track","event":"2"`)), ie.Offset)
	var dk *DuplicateKeyError
	require.ErrorAs(t, results[1].Err, &dk)
	assert.Equal(t, int64(strings.Index(in, `"k":2`)), dk.Offset, "the offset points into the input")
}

// TestDecode_RuleD7_limitsAreOptions: each limit can be set, and names itself.
func TestDecode_RuleD7_limitsAreOptions(t *testing.T) {
	msg := `{"type":"track","event":"E","userId":"u","properties":{"a":{"b":[12345]}}}`
	tests := []struct {
		name   string
		limits Limits
		in     string
		limit  Limit
		fatal  bool
	}{
		{"message size", Limits{MaxMessageBytes: 40}, msg, LimitMessageBytes, false},
		{"batch size", Limits{MaxBatchBytes: 40}, msg, LimitBatchBytes, true},
		{"batch items", Limits{MaxBatchItems: 2}, "[" + msg + "," + msg + "," + msg + "]", LimitBatchItems, true},
		{"depth", Limits{MaxDepth: 3}, msg, LimitDepth, false},
		{"depth in array", Limits{MaxDepth: 3}, "[" + msg + "]", LimitDepth, false}, // the message fails alone (Rule D7)
		{"number length", Limits{MaxNumberLength: 4}, msg, LimitNumberLength, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(strings.NewReader(tt.in))
			d.SetLimits(tt.limits)
			results, err := d.decodeAll()
			var le *LimitError
			if tt.fatal {
				require.ErrorAs(t, err, &le)
			} else {
				require.NoError(t, err)
				require.Len(t, results, 1)
				require.ErrorAs(t, results[0].Err, &le)
			}
			assert.Equal(t, tt.limit, le.Limit)
			assert.Contains(t, le.Error(), tt.limit.String()+" limit")
			assert.Equal(t, diag.MessageLimit, CodeOf(le))

			ok, err := DecodeAll([]byte(tt.in), nil)
			require.NoError(t, err, "the defaults accept it")
			for _, r := range ok {
				assert.NoError(t, r.Err)
			}
		})
	}
	// Depth counts from the message: nesting allowed in a lone message is allowed in a batch.
	deep := `{"type":"track","event":"E","userId":"u","properties":{"a":` + strings.Repeat("[", 62) + strings.Repeat("]", 62) + `}}`
	for _, in := range []string{deep, "[" + deep + "]", `{"batch":[` + deep + `]}`} {
		results, err := DecodeAll([]byte(in), nil)
		require.NoError(t, err)
		require.Len(t, results, 1)
		assert.NoError(t, results[0].Err)
	}
	deeper := strings.Replace(deep, "[", "[[", 1)
	deeper = strings.Replace(deeper, "]", "]]", 1)
	for _, in := range []string{deeper, "[" + deeper + "]", `{"batch":[` + deeper + `]}`} {
		results, err := DecodeAll([]byte(in), nil)
		if err == nil {
			require.Len(t, results, 1)
			err = results[0].Err
		}
		var le *LimitError
		require.ErrorAs(t, err, &le, in[:20])
		assert.Equal(t, LimitDepth, le.Limit)
	}
}

// TestDecode_syntaxErrorOffsets: a syntax error names its byte offset in the input.
func TestDecode_syntaxErrorOffsets(t *testing.T) {
	tests := []struct {
		in     string
		offset int64
	}{
		{`{"type":"identify",}`, 19},
		{`[{"type":"identify"},{"a":NaN}]`, 26},
		{"\n\n  {\"a\":\"\xff\"}", 10},
		{`{"a":1}{"b":}`, 12},
	}
	for _, tt := range tests {
		_, err := DecodeAll([]byte(tt.in), nil)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, tt.in)
		assert.Equal(t, tt.offset, se.Offset, tt.in)
		assert.ErrorIs(t, err, ErrSyntax)

		_, err = NewDecoder(iotest.OneByteReader(strings.NewReader(tt.in))).decodeAll()
		require.ErrorAs(t, err, &se, tt.in)
		assert.Equal(t, tt.offset, se.Offset, "streamed: "+tt.in)
	}
}

// TestDecoder_errorsAreSticky: after an error that ends the input, Decode repeats it.
func TestDecoder_errorsAreSticky(t *testing.T) {
	d := NewDecoder(strings.NewReader(`{"type":"identify","userId":"u"} {"type":`))
	var m event.Message
	require.NoError(t, d.Decode(&m))
	err := d.Decode(&m)
	require.ErrorIs(t, err, ErrSyntax)
	assert.Equal(t, err, d.Decode(&m))

	boom := errors.New("boom")
	d = NewDecoder(io.MultiReader(strings.NewReader(`{"type":"identify","userId":"u"}`+"\n"+`{"type":"ide`), iotest.ErrReader(boom)))
	require.NoError(t, d.Decode(&m))
	assert.ErrorIs(t, d.Decode(&m), boom)
	assert.ErrorIs(t, d.Decode(&m), boom)
}

// TestDecoder_ndjsonLines: in NDJSON a bad line fails alone, with its line number.
func TestDecoder_ndjsonLines(t *testing.T) {
	in := `{"type":"identify","userId":"u","messageId":"1"}` + "\n" +
		`{"type":` + "\n" +
		`[1,2` + "\n" +
		`{"type":"identify","userId":"u","messageId":"4","x":"` + strings.Repeat("y", 600<<10) + `"}` + "\n" +
		`{"type":"identify","userId":"u","messageId":"5"}`
	results, err := NewDecoder(strings.NewReader(in)).decodeAll()
	require.NoError(t, err)
	require.Len(t, results, 5)
	assert.NoError(t, results[0].Err)
	assert.NoError(t, results[4].Err)
	assert.Equal(t, "5", results[4].Message.MessageID)
	for i, want := range []error{ErrSyntax, ErrSyntax, ErrLimit} {
		var ie *ItemError
		require.ErrorAs(t, results[i+1].Err, &ie)
		assert.ErrorIs(t, ie, want)
		assert.Equal(t, -1, ie.Index)
		assert.Equal(t, i+2, ie.Line)
	}
}

// countingReader counts the Read calls made of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(b []byte) (int, error) {
	c.reads++
	return c.r.Read(b)
}

// TestDecoder_RuleD1_readChunks: a source that fills every Read is read in chunks that grow
// to maxReadChunk (a file of NDJSON: about one Read per 64 KB, issue 14), a small body
// costs a buffer of minReadChunk, a tight batch size limit caps the buffer, and the
// messages and line numbers are the same whatever the chunks (Rule D1).
func TestDecoder_RuleD1_readChunks(t *testing.T) {
	var in strings.Builder
	for i := range 4000 {
		if i == 2500 {
			in.WriteString(`{"type":` + "\n") // line 2501 fails alone
			continue
		}
		fmt.Fprintf(&in, `{"type":"track","event":"Viewed","userId":"u%d","messageId":"m%d","properties":{"n":%d,"s":"%s"}}`+"\n", i%50, i, i, strings.Repeat("x", i%300))
	}
	want, err := NewDecoder(iotest.OneByteReader(strings.NewReader(in.String()))).decodeAll()
	require.NoError(t, err)
	require.Len(t, want, 4000)

	src := &countingReader{r: strings.NewReader(in.String())}
	d := NewDecoder(src)
	got, err := d.decodeAll()
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	for i := range got {
		require.Equal(t, want[i].Message.MessageID, got[i].Message.MessageID, "item %d", i)
		require.Equal(t, want[i].Err == nil, got[i].Err == nil, "item %d", i)
	}
	var ie *ItemError
	require.ErrorAs(t, got[2500].Err, &ie)
	assert.Equal(t, 2501, ie.Line)
	assert.Equal(t, maxReadChunk, cap(d.in.buf))
	assert.LessOrEqual(t, src.reads, in.Len()/maxReadChunk+8, "%d bytes in %d reads", in.Len(), src.reads)

	small := NewDecoder(strings.NewReader(`{"type":"identify","userId":"u","messageId":"1"}`))
	_, err = small.decodeAll()
	require.NoError(t, err)
	assert.Equal(t, minReadChunk, cap(small.in.buf))

	tight := NewDecoder(strings.NewReader(in.String()))
	tight.SetLimits(Limits{MaxBatchBytes: 2000})
	got, err = tight.decodeAll()
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	assert.Equal(t, 2000+minReadChunk, cap(tight.in.buf))
}

// TestDecode_keepsValuesExact: numbers digit for digit, key order, escapes as received.
func TestDecode_keepsValuesExact(t *testing.T) {
	m, err := decodeOne(t, `{"type":"track","event":"E","userId":"u","properties":{"z":1.10,"a":123456789012345678901234567890,"n":{"y":1e400,"x":-0},"s":"\u00e9\/"}}`)
	require.NoError(t, err)
	assert.Equal(t, event.Object{
		{Key: "z", Value: []byte(`1.10`)},
		{Key: "a", Value: []byte(`123456789012345678901234567890`)},
		{Key: "n", Value: []byte(`{"y":1e400,"x":-0}`)},
		{Key: "s", Value: []byte(`"\u00e9\/"`)},
	}, m.Properties)
}

// TestDecode_messagesAreIndependent: decoded values can be appended to without
// reaching their neighbours, and a Decoder reusing its buffers does not change messages
// it already returned.
func TestDecode_messagesAreIndependent(t *testing.T) {
	in := `{"type":"track","event":"A","userId":"u","properties":{"a":"1","b":"2"}}` + "\n" +
		`{"type":"track","event":"B","userId":"v","properties":{"a":"3","b":"4"}}`
	d := NewDecoder(strings.NewReader(in))
	var first, second event.Message
	require.NoError(t, d.Decode(&first))
	require.NoError(t, d.Decode(&second))
	_ = append(first.Properties[0].Value, 'X')
	assert.Equal(t, `"2"`, string(first.Properties[1].Value))
	assert.Equal(t, "A", first.Event)
	assert.Equal(t, `"1"`, string(first.Properties[0].Value))
	assert.Equal(t, "v", second.UserID)
}

func TestItemError_diagnosticNeverQuotesValues(t *testing.T) {
	results, err := DecodeAll([]byte(`[{"type":"identify","userId":{"phone":"+19545552399"}},{"type":"identify","traits":{"email":"rebecca@example.com","email":"rebecca@example.com"}},{"type":"identify","anonymousId":"a","timestamp":"rebecca@example.com"}]`), nil)
	require.NoError(t, err)
	var texts bytes.Buffer
	for _, r := range results {
		if r.Err != nil {
			texts.WriteString(r.Err.Error())
			var ie *ItemError
			require.ErrorAs(t, r.Err, &ie)
			texts.WriteString(ie.Diagnostic().String())
		}
		for _, d := range r.Message.Diagnostics {
			texts.WriteString(d.String())
		}
	}
	assert.NotEmpty(t, texts.String())
	assert.NotContains(t, texts.String(), "9545552399")
	assert.NotContains(t, texts.String(), "rebecca")
}

// TestUnmarshal_leavesNoStateBehind: an array refused by Unmarshal does not reappear in
// the next decode that reuses the pooled state.
func TestUnmarshal_leavesNoStateBehind(t *testing.T) {
	var m event.Message
	for range 3 {
		require.ErrorIs(t, Unmarshal([]byte(`[{"type":"identify","userId":"stale"}]`), &m), ErrInvalidMessage)
		results, err := DecodeAll([]byte(`{"type":"identify","userId":"fresh"}`), nil)
		require.NoError(t, err)
		require.Len(t, results, 1)
		assert.Equal(t, "fresh", results[0].Message.UserID)
	}
}

// TestDecoder_RuleD1_ndjsonDetection: NDJSON is recognised from its first line, even
// when that line is the bad one; a document whose first line opens a bracket is read
// as JSON values.
func TestDecoder_RuleD1_ndjsonDetection(t *testing.T) {
	results, err := DecodeAll([]byte("not json\n"+`{"type":"identify","userId":"u"}`+"\n"), nil)
	require.NoError(t, err)
	require.Len(t, results, 2)
	assert.ErrorIs(t, results[0].Err, ErrSyntax)
	assert.NoError(t, results[1].Err)

	_, err = DecodeAll([]byte("{\n"+`"type":"identify",`+"\n"+`"userId":}`), nil)
	var se *SyntaxError
	require.ErrorAs(t, err, &se, "a broken pretty-printed document ends the input")
	assert.Equal(t, int64(30), se.Offset)
}

// TestDecode_RuleD7_deepMessageFailsAlone: inside an array or a batch, a message nested
// deeper than the limit fails alone; the others are decoded (Rule D7).
func TestDecode_RuleD7_deepMessageFailsAlone(t *testing.T) {
	good := func(id string) string { return `{"type":"track","userId":"u","event":"e","messageId":"` + id + `"}` }
	deep := `{"type":"track","userId":"u","event":"e","messageId":"deep","properties":` +
		strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 65)
	deepDup := `{"type":"track","userId":"u","event":"e","messageId":"deep","x":1,"x":2,"properties":` +
		strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 65)
	for name, in := range map[string]string{
		"array":                 "[" + good("g1") + "," + deep + "," + good("g2") + "]",
		"batch":                 `{"batch":[` + good("g1") + "," + deep + "," + good("g2") + `]}`,
		"deep with a duplicate": "[" + good("g1") + "," + deepDup + "," + good("g2") + "]",
	} {
		t.Run(name, func(t *testing.T) {
			results, err := DecodeAll([]byte(in), nil)
			require.NoError(t, err)
			require.Len(t, results, 3)
			assert.NoError(t, results[0].Err)
			assert.NoError(t, results[2].Err)
			var le *LimitError
			require.ErrorAs(t, results[1].Err, &le)
			assert.Equal(t, LimitDepth, le.Limit)
			assert.Equal(t, "deep", results[1].Message.MessageID)
		})
	}
}

// TestDecode_RuleD7_batchBytesExactly: a document of exactly MaxBatchBytes is read and
// one byte more is refused, in every form of reading.
func TestDecode_RuleD7_batchBytesExactly(t *testing.T) {
	msg := `{"type":"identify","userId":"u","traits":{"pad":"`
	for _, extra := range []int{0, 1} {
		const limit = 200
		doc := msg + strings.Repeat("x", limit+extra-len(msg)-3) + `"}}`
		require.Len(t, doc, limit+extra)
		l := &Limits{MaxBatchBytes: limit}
		_, err := DecodeAll([]byte(doc), l)
		d := NewDecoder(strings.NewReader(doc))
		d.SetLimits(*l)
		_, serr := d.decodeAll()
		if extra == 0 {
			assert.NoError(t, err)
			assert.NoError(t, serr)
			continue
		}
		var le *LimitError
		assert.ErrorAs(t, err, &le, "DecodeAll, one byte over")
		assert.ErrorAs(t, serr, &le, "Decoder, one byte over")
	}
}

// TestDecode_RuleD7_refusedDocumentDecodesNoItem: an NDJSON line refused whole (a batch
// whose envelope context, merged into its items, is over the limit; a batch of more
// than 2,500 items) yields its error and none of its items; the next line is read as
// usual. A review found a refused line's items decoded anyway, each with the envelope's
// 300 KB context: 292 MB from a 349 KB request.
func TestDecode_RuleD7_refusedDocumentDecodesNoItem(t *testing.T) {
	item := `{"type":"track","event":"E","userId":"u"}`
	fanOut := `{"batch":[` + strings.TrimSuffix(strings.Repeat(item+",", 1000), ",") + `],"context":{"pad":"` + strings.Repeat("x", 300<<10) + `"}}`
	tooMany := `{"batch":[` + strings.TrimSuffix(strings.Repeat(item+",", 2501), ",") + `]}`
	for name, line := range map[string]string{"fan-out": fanOut, "too many items": tooMany} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			d := NewDecoder(strings.NewReader(line + "\n" + `{"type":"track","event":"Next","userId":"u","messageId":"next"}` + "\n"))
			var m event.Message
			var le *LimitError
			require.ErrorAs(t, d.Decode(&m), &le)
			require.NoError(t, d.Decode(&m), "the next line")
			assert.Equal(t, "next", m.MessageID)
			assert.ErrorIs(t, d.Decode(&m), io.EOF)
			runtime.ReadMemStats(&after)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated")

			results, err := DecodeAll([]byte(line), nil)
			if err == nil {
				require.Len(t, results, 1)
				require.ErrorAs(t, results[0].Err, &le)
			} else {
				require.ErrorAs(t, err, &le)
				assert.Empty(t, results)
			}
		})
	}
}

// TestDecode_RuleD1_longEnvelopeKeyMaskedOnce: an unknown envelope key is masked once for
// the envelope, not once for each of its items (a review measured 1.5 s of CPU for a 463
// KB request: a 300 KB key and 2,500 items).
func TestDecode_RuleD1_longEnvelopeKeyMaskedOnce(t *testing.T) {
	item := `{"type":"track","event":"E","userId":"u"}`
	body := []byte(`{"` + strings.Repeat("k1", 100_000) + `":1,"batch":[` + strings.TrimSuffix(strings.Repeat(item+",", 2500), ",") + `]}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	results, err := DecodeAll(body, nil)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, results, 2500)
	assert.Equal(t, diag.MessageEnvelopeKey, results[2499].Message.Diagnostics[0].Code)
	assert.LessOrEqual(t, len(results[0].Message.Diagnostics[0].Field), len("envelope.")+64)
	// Each mask of the 200 KB key allocates 800 KB of runes: 2 GB for 2,500 of them.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20))
}
