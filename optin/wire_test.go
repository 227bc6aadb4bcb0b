package optin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonRecord is how encoding/json reads a record: the reference for the scanner.
type jsonRecord struct {
	Channel, Subscribed, Timestamp, IP, Source, Text json.RawMessage
}

// compareWithEncodingJSON checks that the reader finds what encoding/json finds in s,
// which must be valid JSON: the same members, as compact JSON.
func compareWithEncodingJSON(t *testing.T, s string) {
	t.Helper()
	compact := func(raw json.RawMessage) string {
		if raw == nil {
			return ""
		}
		var b bytes.Buffer
		require.NoError(t, json.Compact(&b, raw))
		return b.String()
	}
	require.True(t, readWire([]byte(s), func(w wireText) {
		switch w.s[0] {
		case '{':
			var want jsonRecord
			require.NoError(t, json.Unmarshal([]byte(s), &want))
			got := readRecord(w, 0)
			same := func(name string, w json.RawMessage, g string) {
				// encoding/json hands a null member to RawMessage as "null"; both mean absent.
				if string(w) == "null" && g == "null" {
					return
				}
				assert.Equal(t, compact(w), g, "%s of %s", name, s)
			}
			same("channel", want.Channel, got.channel)
			same("subscribed", want.Subscribed, got.subscribed)
			same("timestamp", want.Timestamp, got.timestamp)
			same("ip", want.IP, got.ip)
			same("source", want.Source, got.source)
			same("text", want.Text, got.text)
			for _, v := range []string{got.channel, got.source, got.text} {
				if v != "" && v[0] == '"' {
					var ws string
					require.NoError(t, json.Unmarshal([]byte(v), &ws))
					gs, isString := stringOf(v)
					assert.True(t, isString)
					assert.Equal(t, ws, gs, "string %s", v)
				}
			}
		case '[':
			var want []json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(s), &want))
			wantCompact := []string{}
			for _, e := range want {
				wantCompact = append(wantCompact, compact(e))
			}
			got := []string{}
			elements(w, func(i, pos int, elem string) {
				assert.Equal(t, len(got), i)
				assert.Equal(t, elem, w.s[pos:pos+len(elem)])
				got = append(got, elem)
			})
			assert.Equal(t, wantCompact, got, "elements of %s", s)
		}
	}), "readWire refused %s", s)
}

// TestWire_matchesEncodingJSON: the record scanner reads what encoding/json reads.
func TestWire_matchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		seedOptIn,
		`{}`,
		`[]`,
		` { "channel" : "sms" , "Subscribed":"true"	,"TIMESTAMP":1598390623 ,"ip":null}`,
		`{"channel":"sms","channel":"voice"}`,
		`{"Channel":"sms","channel":"voice"}`,
		`{"channel":"voice","Channel":"sms"}`,
		`{"chann\u0065l":"sms","text":"a \"quoted\" \\ text\n","source":"\ud83d\ude00"}`,
		`{"nested":{"channel":"email","a":[1,{"b":"}]"}]},"channel":"sms"}`,
		`{"text":{"a" : [1, 2], "b":"x"},"source":[true,false,null],"ip":-1.5e+3}`,
		`{"ſource":"long s folds to s","KIP":"kelvin"}`,
		`{"source":"\u00e9t\u00e9","text":"été"}`,
		`[{"channel":"sms"} , "x",1,null,[{"a":"]"}],{"channel":"voice"}]`,
		`[ ]`,
		`{"channel":""}`,
	} {
		t.Run(s, func(t *testing.T) {
			require.True(t, json.Valid([]byte(s)))
			compareWithEncodingJSON(t, s)
		})
	}
}

// FuzzWire_matchesEncodingJSON: for any valid JSON object or array, the scanner reads
// what encoding/json reads.
func FuzzWire_matchesEncodingJSON(f *testing.F) {
	f.Add(seedOptIn)
	f.Add(`{"Channel":"sms","channel":"voice","x":{"channel":"email"}}`)
	f.Add(`{"text":"\u00e9\n\"","source":12.5e3,"ip":[" ",{}]}`)
	f.Add(`[1,"a",{"subscribed":"true"},[]]`)
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) || !utf8.ValidString(s) {
			return
		}
		if s = strings.TrimSpace(s); s[0] == '{' || s[0] == '[' {
			compareWithEncodingJSON(t, s)
		}
	})
}

// TestWire_refusesWhatIsNotJSON: the reader takes only RFC 8259 JSON, in UTF-8, as the
// segmentio decoder does; encoding/json would take the invalid UTF-8 and replace it.
func TestWire_refusesWhatIsNotJSON(t *testing.T) {
	for _, s := range []string{``, ` `, `{`, `{"a":1}x`, `{"a":01}`, `[1,]`, "{\"text\":\"bad \xff utf-8\"}", `NaN`} {
		assert.False(t, readWire([]byte(s), func(wireText) { t.Errorf("readWire took %q", s) }), "%q", s)
	}
}

func TestStringOf(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		isString bool
	}{
		{``, "", false},
		{`null`, "", false},
		{`"plain"`, "plain", true},
		{`"esc\"aped\u0041"`, `esc"apedA`, true},
		{`12`, "12", false},
		{`{"a":[1,2]}`, `{"a":[1,2]}`, false},
		{`true`, "true", false},
	}
	for _, tt := range tests {
		got, isString := stringOf(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.isString, isString, tt.in)
	}
}
