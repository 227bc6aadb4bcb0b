package optin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
)

// TestSeed_OptInSubscribesBothChannels: the seed's identify (optIn with ip "" and
// context.ip 8.8.8.8) subscribes the phone to voice and SMS, with the context IP as
// evidence (Rules C2, C4, C6, C9).
func TestSeed_OptInSubscribesBothChannels(t *testing.T) {
	records, diags := ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
	require.Empty(t, diags)
	require.Len(t, records, 2)

	want := Record{
		Address:     seedPhone,
		Channel:     Voice,
		Subscribed:  true,
		Timestamp:   ts(t, seedConsent),
		IP:          "8.8.8.8",
		Source:      "booking_flow",
		Text:        "By checking this box you agree to receive calls from Regal.",
		MessageID:   "seed-identify",
		MessageTime: ts(t, "2020-08-25T21:24:00Z"),
		ProcessedAt: ts(t, "2020-08-25T21:24:01Z"),
	}
	assert.Equal(t, want, records[0])
	want.Channel, want.Text = SMS, "By checking this box you agree to receive texts from Regal."
	assert.Equal(t, want, records[1])

	l := ledgerOf(records...)
	v := l.Resolve(nil)
	assert.Equal(t, StateSubscribed, v.State(seedPhone, SMS))
	assert.Equal(t, StateSubscribed, v.State(seedPhone, Voice))
	assert.Equal(t, StateNone, v.State(seedPhone, Email))
	assert.Equal(t, OptIns{
		SMS:   {Subscribed: true, Timestamp: ts(t, seedConsent), IP: "8.8.8.8", Source: "booking_flow", Text: "By checking this box you agree to receive texts from Regal."},
		Voice: {Subscribed: true, Timestamp: ts(t, seedConsent), IP: "8.8.8.8", Source: "booking_flow", Text: "By checking this box you agree to receive calls from Regal."},
	}, v.OptIns(seedPhone))
}

// TestRuleC1_UnknownChannel: sms, voice and email are the channels, read
// case-insensitively; any other channel is refused with optin.unknown_channel.
func TestRuleC1_UnknownChannel(t *testing.T) {
	tests := []struct {
		name    string
		channel string // the JSON value; "" leaves the key out
		want    Channel
		refused bool
	}{
		{"sms", `"sms"`, SMS, false},
		{"voice", `"voice"`, Voice, false},
		{"email", `"email"`, Email, false},
		{"upper case", `"SMS"`, SMS, false},
		{"spaces and mixed case", `" Voice "`, Voice, false},
		{"whatsapp", `"whatsapp"`, "whatsapp", true},
		{"push", `"push"`, "push", true},
		{"empty string", `""`, "", true},
		{"missing", ``, "", true},
		{"null", `null`, "", true},
		{"number", `5`, "5", true},
		{"sms with a suffix", `"sms2"`, "sms2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := `{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z"`
			if tt.channel != "" {
				obj += `,"channel":` + tt.channel
			}
			m := seedMessage()
			m.Email = "rebecca@example.com"
			records, diags := ParseTrait("traits.optIn", raw(obj+"}"), m)
			require.Len(t, records, 1)
			r := records[0]
			assert.Equal(t, tt.want, r.Channel)
			if !tt.refused {
				assert.Empty(t, diags)
				assert.Empty(t, r.Refused)
				if r.Channel == Email {
					assert.Equal(t, "rebecca@example.com", r.Address, "an email record applies to the message's email")
				} else {
					assert.Equal(t, seedPhone, r.Address)
				}
				return
			}
			assert.Equal(t, diag.OptinUnknownChannel, r.Refused)
			require.Len(t, diags, 1)
			assert.Equal(t, diag.OptinUnknownChannel, diags[0].Code)
			assert.Equal(t, "traits.optIn.channel", diags[0].Field)
			assert.Equal(t, "seed-identify", diags[0].MessageID)
			assert.Contains(t, diags[0].Message, "Rule C1")

			v := ledgerOf(r).Resolve(nil)
			assert.Equal(t, StateNone, v.State(seedPhone, SMS), "a refused record changes no state")
			assert.Equal(t, Refused, v.History()[0].Outcome)
		})
	}
}

// TestRuleC2_Forms: the seed's array, a single object, and Regal's per-phone smsOptIn
// and voiceOptIn objects; subscribed as a boolean or "true"/"false".
func TestRuleC2_Forms(t *testing.T) {
	const one = `{"channel":"sms","subscribed":%s,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4"}`
	obj := func(subscribed string) string { return strings.Replace(one, "%s", subscribed, 1) }
	type want struct {
		channel    Channel
		subscribed bool
		refused    diag.Code
	}
	tests := []struct {
		name      string
		parse     func() ([]Record, []diag.Diagnostic)
		want      []want
		diagField []string
	}{
		{"seed array", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(seedOptIn), seedMessage())
		}, []want{{Voice, true, ""}, {SMS, true, ""}}, nil},
		{"single object", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj("true")), seedMessage())
		}, []want{{SMS, true, ""}}, nil},
		{"string true", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`"true"`)), seedMessage())
		}, []want{{SMS, true, ""}}, nil},
		{"string false", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`"false"`)), seedMessage())
		}, []want{{SMS, false, ""}}, nil},
		{"string TRUE with spaces", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`" TRUE "`)), seedMessage())
		}, []want{{SMS, true, ""}}, nil},
		{"boolean false", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`false`)), seedMessage())
		}, []want{{SMS, false, ""}}, nil},
		{"subscribed yes is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`"yes"`)), seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.optIn.subscribed"}},
		{"subscribed 1 is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`1`)), seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.optIn.subscribed"}},
		{"subscribed null is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(obj(`null`)), seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.optIn.subscribed"}},
		{"subscribed missing is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`{"channel":"sms","timestamp":"2020-08-25T21:23:43Z"}`), seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.optIn.subscribed"}},
		{"keys in any case", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`{"Channel":"sms","Subscribed":true,"Timestamp":"2020-08-25T21:23:43Z","IP":"1.2.3.4"}`), seedMessage())
		}, []want{{SMS, true, ""}}, nil},
		{"array with a non-object", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`[`+obj("true")+`, "yes", null, [1]]`), seedMessage())
		}, []want{{SMS, true, ""}, {"", false, diag.OptinInvalid}, {"", false, diag.OptinInvalid}, {"", false, diag.OptinInvalid}},
			[]string{"traits.optIn[1]", "traits.optIn[2]", "traits.optIn[3]"}},
		{"a bare boolean is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`true`), seedMessage())
		}, []want{{"", false, diag.OptinInvalid}}, []string{"traits.optIn"}},
		{"invalid JSON is refused", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`[{"channel":`), seedMessage())
		}, []want{{"", false, diag.OptinInvalid}}, []string{"traits.optIn"}},
		{"null is nothing", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(` null `), seedMessage())
		}, nil, nil},
		{"empty array is nothing", func() ([]Record, []diag.Diagnostic) {
			return ParseTrait("traits.optIn", raw(`[]`), seedMessage())
		}, nil, nil},
		{"phones entry", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone,
				raw(`{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4"}`),
				raw(`{"subscribed":"false","timestamp":"2020-08-25T21:23:43Z"}`), seedMessage())
		}, []want{{SMS, true, ""}, {Voice, false, ""}}, nil},
		{"phones entry with only voiceOptIn", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone, nil, raw(`{"subscribed":false,"timestamp":"2020-08-25T21:23:43Z"}`), seedMessage())
		}, []want{{Voice, false, ""}}, nil},
		{"phones entry with null smsOptIn", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone, raw(`null`), nil, seedMessage())
		}, nil, nil},
		{"phones entry with an agreeing channel", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone, raw(`{"channel":"SMS","subscribed":false,"timestamp":"2020-08-25T21:23:43Z"}`), nil, seedMessage())
		}, []want{{SMS, false, ""}}, nil},
		{"phones entry with a contradicting channel", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone, raw(`{"channel":"voice","subscribed":false,"timestamp":"2020-08-25T21:23:43Z"}`), nil, seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.phones[+***0123].smsOptIn.channel"}},
		{"phones entry that is a boolean", func() ([]Record, []diag.Diagnostic) {
			return ParsePhone("traits.phones", otherPhone, raw(`true`), nil, seedMessage())
		}, []want{{SMS, false, diag.OptinInvalid}}, []string{"traits.phones[+***0123].smsOptIn"}},
		{"emails entry", func() ([]Record, []diag.Diagnostic) {
			return ParseEmail("traits.emails", "rebecca@example.com", raw(`{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4"}`), seedMessage())
		}, []want{{Email, true, ""}}, nil},
		{"emails entry without a value", func() ([]Record, []diag.Diagnostic) {
			return ParseEmail("traits.emails", "rebecca@example.com", nil, seedMessage())
		}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, diags := tt.parse()
			var got []want
			for _, r := range records {
				got = append(got, want{r.Channel, r.Subscribed, r.Refused})
			}
			assert.Equal(t, tt.want, got)
			var fields []string
			for _, d := range diags {
				fields = append(fields, d.Field)
				assert.Equal(t, diag.OptinInvalid, d.Code)
				assert.Contains(t, d.Message, "Rule C2")
			}
			assert.Equal(t, tt.diagField, fields)
		})
	}
}

// TestParsePhone_addresses: records in a phones entry apply to that phone, not to the
// message's; records in an emails entry to that address.
func TestParsePhone_addresses(t *testing.T) {
	records, diags := ParsePhone("traits.phones", otherPhone,
		raw(`{"subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4","source":"form","text":"ok"}`), nil, seedMessage())
	require.Empty(t, diags)
	require.Len(t, records, 1)
	assert.Equal(t, otherPhone, records[0].Address)
	assert.Equal(t, "form", records[0].Source)
	assert.Equal(t, "ok", records[0].Text)
	assert.Equal(t, "1.2.3.4", records[0].IP)

	records, _ = ParseEmail("traits.emails", "rebecca@example.com", raw(`{"subscribed":false,"timestamp":"2020-08-25T21:23:43Z"}`), seedMessage())
	require.Len(t, records, 1)
	assert.Equal(t, "rebecca@example.com", records[0].Address)
	assert.Equal(t, Email, records[0].Channel)
}

// TestRuleC3_TimestampRequired: a record without a parseable timestamp is ignored with
// optin.no_timestamp (kept in the history as refused); every D4 form is read.
func TestRuleC3_TimestampRequired(t *testing.T) {
	tests := []struct {
		name      string
		timestamp string // the JSON value; "" leaves the key out
		want      string // RFC 3339, or "" for refused
	}{
		{"RFC 3339", `"2020-08-25T21:23:43Z"`, "2020-08-25T21:23:43Z"},
		{"fraction and offset", `"2020-08-25T23:23:43.5+02:00"`, "2020-08-25T21:23:43.5Z"},
		{"Regal's docs form", `"2000-08-20 09:12:28 -04:00"`, "2000-08-20T13:12:28Z"},
		{"epoch seconds", `1598390623`, "2020-08-25T21:23:43Z"},
		{"epoch milliseconds string", `"1598390623000"`, "2020-08-25T21:23:43Z"},
		{"bare date", `"2020-08-25"`, "2020-08-25T00:00:00Z"},
		{"missing", ``, ""},
		{"null", `null`, ""},
		{"empty", `""`, ""},
		{"words", `"yesterday"`, ""},
		{"boolean", `true`, ""},
		{"object", `{"at":"2020-08-25"}`, ""},
		{"impossible date", `"2020-02-30T00:00:00Z"`, ""},
		{"zero time", `"0001-01-01T00:00:00Z"`, ""},
	}
	for _, tt := range tests {
		for _, subscribed := range []bool{true, false} {
			name := tt.name + "/opt-out"
			if subscribed {
				name = tt.name + "/opt-in"
			}
			t.Run(name, func(t *testing.T) {
				obj := `{"channel":"sms","ip":"1.2.3.4","subscribed":` + map[bool]string{true: "true", false: "false"}[subscribed]
				if tt.timestamp != "" {
					obj += `,"timestamp":` + tt.timestamp
				}
				records, diags := ParseTrait("traits.optIn", raw(obj+"}"), seedMessage())
				require.Len(t, records, 1)
				r := records[0]
				if tt.want != "" {
					assert.Empty(t, diags)
					assert.Equal(t, ts(t, tt.want), r.Timestamp)
					assert.Empty(t, r.Refused)
					return
				}
				assert.True(t, r.Timestamp.IsZero())
				assert.Equal(t, diag.OptinNoTimestamp, r.Refused, "an undated record is ignored, opt-out or not")
				require.Len(t, diags, 1)
				assert.Equal(t, diag.OptinNoTimestamp, diags[0].Code)
				assert.Equal(t, "traits.optIn.timestamp", diags[0].Field)
				assert.Contains(t, diags[0].Message, "Rule C3")

				l := ledgerOf(rec("2019-01-01T00:00:00Z", !subscribed), r)
				assert.Equal(t, map[bool]State{true: StateUnsubscribed, false: StateSubscribed}[subscribed],
					l.Resolve(nil).State(seedPhone, SMS), "the undated record changes nothing")
			})
		}
	}
}

// TestRuleC4_IPRequired: an opt-in needs an IP, its own or the message's context.ip; an
// opt-out needs none.
func TestRuleC4_IPRequired(t *testing.T) {
	tests := []struct {
		name       string
		subscribed bool
		ip         string // the record's ip JSON value; "" leaves the key out
		contextIP  string
		wantIP     string
		refused    diag.Code
		diags      []diag.Code
	}{
		{"own ip", true, `"1.2.3.4"`, "8.8.8.8", "1.2.3.4", "", nil},
		{"own IPv6", true, `"2001:db8::1"`, "", "2001:db8::1", "", nil},
		{"seed: empty own ip, context ip", true, `""`, "8.8.8.8", "8.8.8.8", "", nil},
		{"missing own ip, context ip", true, ``, "8.8.8.8", "8.8.8.8", "", nil},
		{"null own ip, context ip", true, `null`, "8.8.8.8", "8.8.8.8", "", nil},
		{"no ip at all", true, ``, "", "", diag.OptinNoIP, []diag.Code{diag.OptinNoIP}},
		{"empty own ip, no context ip", true, `""`, "", "", diag.OptinNoIP, []diag.Code{diag.OptinNoIP}},
		{"own ip not an IP, context ip stands in", true, `"localhost"`, "8.8.8.8", "8.8.8.8", "", []diag.Code{diag.OptinInvalid}},
		{"own ip not an IP, no context ip", true, `"999.1.1.1"`, "", "", diag.OptinNoIP, []diag.Code{diag.OptinInvalid, diag.OptinNoIP}},
		{"own ip a number", true, `42`, "", "", diag.OptinNoIP, []diag.Code{diag.OptinInvalid, diag.OptinNoIP}},
		{"context ip not an IP", true, ``, "unknown", "", diag.OptinNoIP, []diag.Code{diag.OptinNoIP}},
		{"opt-out without any ip", false, ``, "", "", "", nil},
		{"opt-out with context ip", false, `""`, "8.8.8.8", "8.8.8.8", "", nil},
		{"opt-out with a bad own ip", false, `"nope"`, "", "", "", []diag.Code{diag.OptinInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := `{"channel":"voice","timestamp":"2020-08-25T21:23:43Z","subscribed":` + map[bool]string{true: "true", false: "false"}[tt.subscribed]
			if tt.ip != "" {
				obj += `,"ip":` + tt.ip
			}
			m := seedMessage()
			m.IP = tt.contextIP
			records, diags := ParseTrait("traits.optIn[0]", raw(obj+"}"), m)
			require.Len(t, records, 1)
			r := records[0]
			assert.Equal(t, tt.wantIP, r.IP)
			assert.Equal(t, tt.refused, r.Refused)
			var codes []diag.Code
			for _, d := range diags {
				codes = append(codes, d.Code)
				assert.Equal(t, "traits.optIn[0].ip", d.Field)
			}
			assert.Equal(t, tt.diags, codes)
			want := StateUnsubscribed
			switch {
			case tt.refused != "":
				want = StateNone
				assert.Contains(t, diags[len(diags)-1].Message, "Rule C4")
			case tt.subscribed:
				want = StateSubscribed
			}
			assert.Equal(t, want, ledgerOf(r).Resolve(nil).State(seedPhone, Voice))
		})
	}
}

// TestParse_keepsEvidenceThatIsNotAString: a numeric source is kept as its JSON text.
func TestParse_keepsEvidenceThatIsNotAString(t *testing.T) {
	records, diags := ParseTrait("traits.optIn", raw(`{"channel":"sms","subscribed":false,"timestamp":"2020-08-25T21:23:43Z","source":12,"text":{"a": [1, 2]}}`), seedMessage())
	require.Empty(t, diags)
	require.Len(t, records, 1)
	assert.Equal(t, "12", records[0].Source)
	assert.Equal(t, `{"a":[1,2]}`, records[0].Text)
}

// TestParse_everyProblemReported: a record with several problems reports each, and is
// refused with the code of the first rule it breaks.
func TestParse_everyProblemReported(t *testing.T) {
	m := seedMessage()
	m.IP = ""
	records, diags := ParseTrait("traits.optIn", raw(`[{"channel":"fax","subscribed":true,"ip":"x"}]`), m)
	require.Len(t, records, 1)
	assert.Equal(t, diag.OptinUnknownChannel, records[0].Refused)
	var got []string
	for _, d := range diags {
		got = append(got, string(d.Code)+" "+d.Field)
	}
	assert.Equal(t, []string{
		"optin.unknown_channel traits.optIn[0].channel",
		"optin.invalid traits.optIn[0].ip",
		"optin.no_timestamp traits.optIn[0].timestamp",
		"optin.no_ip traits.optIn[0].ip",
	}, got)
}

// TestParse_noWholePhoneInDiagnostics: diagnostics never hold a whole phone number, even
// when the phone sits where a value was expected.
func TestParse_noWholePhoneInDiagnostics(t *testing.T) {
	bad := `{"channel":"+19545552399","subscribed":"+19545552399","timestamp":"+19545552399","ip":"+19545552399","source":"+19545552399"}`
	var all []diag.Diagnostic
	_, d := ParseTrait("traits.optIn", raw(`[`+bad+`]`), seedMessage())
	all = append(all, d...)
	_, d = ParsePhone("traits.phones", seedPhone, raw(bad), raw(`"+19545552399"`), seedMessage())
	all = append(all, d...)
	_, d = ParseEmail("traits.emails", "rebecca@example.com", raw(bad), seedMessage())
	all = append(all, d...)
	require.NotEmpty(t, all)
	for _, d := range all {
		assert.NotContains(t, d.String(), "9545552399")
		assert.NotContains(t, d.String(), "rebecca")
	}
}

// FuzzParseTrait: no input panics, every record comes back checked, and no diagnostic
// shows the message's phone.
func FuzzParseTrait(f *testing.F) {
	f.Add(seedOptIn, "8.8.8.8")
	f.Add(`{"channel":"sms","subscribed":"false","timestamp":1598390623}`, "")
	f.Add(`[1, "x", null, {"channel": 5}]`, "::1")
	f.Add(`{"channel":"voice","subscribed":true,"timestamp":"2000-08-20 09:12:28 -04:00","ip":"2001:db8::1"}`, "nope")
	f.Fuzz(func(t *testing.T, in, ip string) {
		m := seedMessage()
		m.IP = ip
		for _, parse := range []func() ([]Record, []diag.Diagnostic){
			func() ([]Record, []diag.Diagnostic) { return ParseTrait("traits.optIn", raw(in), m) },
			func() ([]Record, []diag.Diagnostic) {
				return ParsePhone("traits.phones", seedPhone, raw(in), raw(in), m)
			},
		} {
			records, diags := parse()
			for _, r := range records {
				if r.Check() != r.Refused {
					t.Fatalf("record not checked: %v", r)
				}
				if r.Refused == "" && r.Subscribed && r.IP == "" {
					t.Fatalf("opt-in without IP accepted: %v", r)
				}
			}
			for _, d := range diags {
				if strings.Contains(d.String(), "9545552399") {
					t.Fatalf("diagnostic shows the phone: %v", d)
				}
			}
			var l Ledger
			l.Add(records...)
			_ = l.Resolve(nil).History()
		}
	})
}

// TestRuleC5_RecordNamesItsPhone: an opt-in is consent for the number it names: one
// naming another number than the one it applies to (its message's, its phones
// entry's), one it cannot read, or two numbers, is refused; one whose message names no
// phone applies to the number it names. An opt-out is honoured where it applies without
// it, the other number reported. Keys a record has no place for are reported, masked,
// never dropped silently.
func TestRuleC5_RecordNamesItsPhone(t *testing.T) {
	rec := func(subscribed, extra string) json.RawMessage {
		return raw(`{"channel":"sms","subscribed":` + subscribed + `,"timestamp":"2020-08-25T21:23:43Z","ip":"1.2.3.4"` + extra + `}`)
	}
	noPhone := seedMessage()
	noPhone.Phone = ""
	for _, tc := range []struct {
		name       string
		raw        json.RawMessage
		m          Message
		address    string
		refused    diag.Code
		diagnostic diag.Code // "" for none
	}{
		{"the message's number, written otherwise", rec("true", `,"phone":"(954) 555-2399"`), seedMessage(), seedPhone, "", ""},
		{"as a JSON number", rec("true", `,"phone":19545552399`), seedMessage(), seedPhone, "", ""},
		{"another number: the opt-in is refused", rec("true", `,"phone":"(917) 555-4444"`), seedMessage(), seedPhone, diag.OptinInvalid, diag.OptinInvalid},
		{"another number: the opt-out is honoured", rec("false", `,"phone":"(917) 555-4444"`), seedMessage(), seedPhone, "", diag.OptinInvalid},
		{"no phone in the message: the number named", rec("true", `,"phone":"(917) 555-4444"`), noPhone, "+19175554444", "", ""},
		{"no phone in the message: an opt-out too", rec("false", `,"phone":"(917) 555-4444"`), noPhone, "+19175554444", "", ""},
		{"a negative number is no phone", rec("true", `,"phone":-19175554444`), seedMessage(), seedPhone, diag.PhoneInvalid, diag.PhoneInvalid},
		{"not a valid number: the opt-in is refused", rec("true", `,"phone":"+1 555 555 5555"`), seedMessage(), seedPhone, diag.PhoneInvalid, diag.PhoneInvalid},
		{"not a valid number: the opt-out applies", rec("false", `,"phoneNumber":"nope"`), seedMessage(), seedPhone, "", diag.PhoneInvalid},
		{"two numbers", rec("true", `,"phone":"`+seedPhone+`","phone_number":"+19175554444"`), seedMessage(), seedPhone, diag.OptinInvalid, diag.OptinInvalid},
		{"null, then another number", rec("true", `,"phone":null,"phoneNumber":"+19175554444"`), seedMessage(), seedPhone, diag.OptinInvalid, diag.OptinInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records, diags := ParseTrait("traits.optIn", tc.raw, tc.m)
			require.Len(t, records, 1)
			assert.Equal(t, tc.address, records[0].Address)
			assert.Equal(t, tc.refused, records[0].Refused)
			if tc.diagnostic == "" {
				assert.Empty(t, diags)
			} else {
				require.Len(t, diags, 1)
				assert.Equal(t, tc.diagnostic, diags[0].Code)
				assert.Equal(t, "traits.optIn.phone", diags[0].Field)
				assert.NotContains(t, diags[0].Message, "9175554444")
				assert.NotContains(t, diags[0].Message, "9545552399")
			}
		})
	}

	// In a phones entry, the entry's number.
	records, diags := ParsePhone("traits.phones", otherPhone, rec("true", `,"phone":"`+seedPhone+`"`), nil, seedMessage())
	require.Len(t, records, 1)
	assert.Equal(t, diag.OptinInvalid, records[0].Refused)
	require.Len(t, diags, 1)
	records, diags = ParsePhone("traits.phones", otherPhone, rec("false", `,"phone":"`+seedPhone+`"`), nil, seedMessage())
	require.Len(t, records, 1)
	assert.Empty(t, records[0].Refused, "an opt-out is honoured on the entry")
	assert.Equal(t, otherPhone, records[0].Address)
	require.Len(t, diags, 1)
	records, diags = ParsePhone("traits.phones", otherPhone, rec("true", `,"phone":"`+otherPhone+`"`), nil, seedMessage())
	require.Empty(t, diags)
	assert.Empty(t, records[0].Refused)

	records, diags = ParseTrait("traits.optIn", rec("true", `,"type":"marketing","bob@example.com":1`), seedMessage())
	require.Len(t, records, 1)
	assert.Empty(t, records[0].Refused, "the record still applies")
	require.Len(t, diags, 2)
	for _, d := range diags {
		assert.Equal(t, diag.OptinInvalid, d.Code)
		assert.NotContains(t, d.Field, "bob@", "a key is masked like any value")
	}
	assert.Equal(t, "traits.optIn.type", diags[0].Field)

	// Thousands of keys make a few diagnostics, not thousands.
	var many strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&many, `,"k%d":1`, i)
	}
	records, diags = ParseTrait("traits.optIn", rec("true", many.String()), seedMessage())
	require.Len(t, records, 1)
	assert.Len(t, diags, maxOtherKeys+1)
	assert.Contains(t, diags[maxOtherKeys].Message, "1992 more keys")
}
