package regalio

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
)

var exampleTime = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

// exampleContact is the contact of Regal's documented Events API example.
func exampleContact() Contact {
	return Contact{
		UserID:    "123",
		FirstName: "Rebecca",
		LastName:  "Greene",
		Address:   Address{Street: "201 Maiden Lane.", City: "New York", State: "NY", Zipcode: "10128", Country: "US"},
		Phones: []Phone{
			{Number: "+11115555555", Label: "Mobile", Primary: true,
				SMS:   &OptIn{Subscribed: true, Time: exampleTime, IP: "8.8.8.8", Text: "By checking this box you agree to receive texts from Regal.", Source: "booking_flow"},
				Voice: &OptIn{Subscribed: true, Time: exampleTime, IP: "8.8.8.8", Text: "By checking this box you agree to receive calls from Regal.", Source: "booking_flow"}},
			{Number: "+13335555555", Label: "Work"},
		},
		Emails: []Email{{Address: "rebecca@example.com", Label: "Personal", Primary: true,
			OptIn: &OptIn{Subscribed: true, Time: exampleTime, Source: "booking_flow"}}},
		Custom: event.Object{{Key: "salaryBracket", Value: json.RawMessage(`"$100k-$500k"`)}},
	}
}

func exampleEvent() *Event {
	return &Event{
		Name:       "Student Enrolled",
		Properties: event.Object{{Key: "course", Value: json.RawMessage(`"Biology 101"`)}, {Key: "amount", Value: json.RawMessage(`30000`)}},
		Time:       exampleTime,
		Source:     "Backend",
	}
}

// Rule R1: Regal's documented example is what the encoder writes, byte for byte once
// the golden file is compacted.
func TestEncodeRegalExample(t *testing.T) {
	golden, err := os.ReadFile("testdata/events_api_example.json")
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, golden))

	got, diags := Encode(exampleContact(), exampleEvent())
	assert.Empty(t, diags)
	assert.JSONEq(t, string(golden), string(got))
	assert.Equal(t, want.String(), string(got), "key order is fixed")
}

func TestEncodeFieldNames(t *testing.T) {
	got, _ := Encode(exampleContact(), exampleEvent())
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got, &body))
	assert.Contains(t, body, "name")
	assert.NotContains(t, body, "eventName", "Regal's key is name")
	var traits map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body["traits"], &traits))
	var phones map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(traits["phones"], &phones), "phones is an object keyed by number")
	assert.Contains(t, phones["+11115555555"], "smsOptIn")
	assert.JSONEq(t, `true`, string(phones["+11115555555"]["isPrimary"]))
}

func TestEncodeTraitOnly(t *testing.T) {
	got, diags := Encode(Contact{UserID: "u1", FirstName: "Ann"}, nil)
	assert.Empty(t, diags)
	assert.Equal(t, `{"userId":"u1","traits":{"firstName":"Ann"}}`, string(got))

	got, diags = Encode(Contact{}, nil)
	assert.Empty(t, diags)
	assert.Equal(t, `{"traits":{}}`, string(got))
}

func TestEncodeDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		c     Contact
		e     *Event
		want  string // body
		codes []diag.Code
	}{
		{
			name:  "phone not E.164",
			c:     Contact{Phones: []Phone{{Number: "(954) 555-2399"}, {Number: "+19545552399", Primary: true}}},
			want:  `{"traits":{"phones":{"+19545552399":{"isPrimary":true}}}}`,
			codes: []diag.Code{diag.PhoneInvalid},
		},
		{
			name:  "two primaries",
			c:     Contact{Phones: []Phone{{Number: "+19545552399", Primary: true}, {Number: "+19175554444", Primary: true}}},
			want:  `{"traits":{"phones":{"+19545552399":{"isPrimary":true},"+19175554444":{"isPrimary":false}}}}`,
			codes: []diag.Code{diag.RegalUnmapped},
		},
		{
			name:  "duplicate phone",
			c:     Contact{Phones: []Phone{{Number: "+19545552399", Label: "a"}, {Number: "+19545552399", Label: "b"}}},
			want:  `{"traits":{"phones":{"+19545552399":{"label":"a","isPrimary":false}}}}`,
			codes: []diag.Code{diag.RegalUnmapped},
		},
		{
			name:  "email without address and twice",
			c:     Contact{Emails: []Email{{Label: "x"}, {Address: "a@example.com"}, {Address: "a@example.com"}}},
			want:  `{"traits":{"emails":{"a@example.com":{"isPrimary":false}}}}`,
			codes: []diag.Code{diag.EmailInvalid, diag.RegalUnmapped},
		},
		{
			name: "custom keys",
			c: Contact{Custom: event.Object{
				{Key: "firstName", Value: json.RawMessage(`"x"`)},
				{Key: "", Value: json.RawMessage(`1`)},
				{Key: "bad", Value: json.RawMessage(`{`)},
				{Key: "big", Value: json.RawMessage(`123456789012345678901234567890`)},
				{Key: "nested", Value: json.RawMessage(`{ "a" : [1, 2] }`)},
			}},
			want:  `{"traits":{"big":123456789012345678901234567890,"nested":{"a":[1,2]}}}`,
			codes: []diag.Code{diag.RegalUnmapped, diag.RegalUnmapped, diag.TraitInvalid},
		},
		{
			// Regal still reads the older standard traits: a custom phone would become
			// the primary phone, a custom optIn consent (R1).
			name: "custom keys Regal reads as standard traits",
			c: Contact{Custom: event.Object{
				{Key: "phone", Value: json.RawMessage(`"+19545552399"`)},
				{Key: "email", Value: json.RawMessage(`"a@example.com"`)},
				{Key: "optIn", Value: json.RawMessage(`[{"channel":"sms","subscribed":true}]`)},
				{Key: "plan", Value: json.RawMessage(`"gold"`)},
			}},
			want:  `{"traits":{"plan":"gold"}}`,
			codes: []diag.Code{diag.RegalUnmapped, diag.RegalUnmapped, diag.RegalUnmapped},
		},
		{
			name:  "properties without a name",
			c:     Contact{UserID: "u"},
			e:     &Event{Properties: event.Object{{Key: "a", Value: json.RawMessage(`1`)}}, MessageID: "m1"},
			want:  `{"userId":"u","traits":{}}`,
			codes: []diag.Code{diag.RegalUnmapped},
		},
		{
			// A key may be a phone or an address: the field masks it (RULES.md, X; a
			// review found both whole).
			name:  "keys that are a phone and an address",
			c:     Contact{Custom: event.Object{{Key: "bob.secret@example.com", Value: json.RawMessage(`{`)}}},
			e:     &Event{Name: "e", Properties: event.Object{{Key: "+19545552399", Value: json.RawMessage(`nope`)}}, MessageID: "m2"},
			want:  `{"traits":{},"name":"e","properties":{}}`,
			codes: []diag.Code{diag.TraitInvalid, diag.RegalUnmapped},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Encode(tt.c, tt.e)
			assert.Equal(t, tt.want, string(got))
			require.True(t, json.Valid(got))
			var codes []diag.Code
			for _, d := range diags {
				codes = append(codes, d.Code)
				assert.NotContains(t, d.Message, "5552399", "a diagnostic never holds a whole phone")
				assert.NotContains(t, d.Message, "a@example", "a diagnostic never holds a whole email")
				assert.NotContains(t, d.Field, "5552399", "a diagnostic never holds a whole phone")
				assert.NotContains(t, d.Field, "bob.secret", "a diagnostic never holds a whole email")
				if tt.e != nil {
					assert.Equal(t, tt.e.MessageID, d.MessageID)
				}
			}
			assert.Equal(t, tt.codes, codes)
		})
	}
}

func TestEncodeEscapes(t *testing.T) {
	got, diags := Encode(Contact{UserID: "a\"b", FirstName: "<é>\n"}, &Event{Name: "x\u2028"})
	assert.Empty(t, diags)
	require.True(t, json.Valid(got))
	var back struct {
		UserID string `json:"userId"`
		Traits struct {
			FirstName string `json:"firstName"`
		} `json:"traits"`
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, "a\"b", back.UserID)
	assert.Equal(t, "<é>\n", back.Traits.FirstName)
	assert.Equal(t, "x\u2028", back.Name)
	assert.False(t, strings.Contains(string(got), "\n"))
}
