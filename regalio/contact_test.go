package regalio

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/optin"
)

func TestFromContact(t *testing.T) {
	c := contact.New("c-1")
	(*contactcore.Contact)(c).SetUserID("92980cfccc067")
	t0 := time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)
	ch := (*contactcore.Contact)(c).ApplyTraits(&event.Message{Kind: event.Identify, MessageID: "m1", UserID: "92980cfccc067", Time: t0,
		Traits: event.Object{
			{Key: "firstName", Value: json.RawMessage(`"Rebecca"`)},
			{Key: "lastName", Value: json.RawMessage(`"Greene"`)},
			{Key: "email", Value: json.RawMessage(`"rebecca@example.com"`)},
			{Key: "age", Value: json.RawMessage(`23`)},
			{Key: "phones", Value: json.RawMessage(`{"+19545552399":{"label":"Mobile","isPrimary":true},"+19175554444":{"label":"Work"}}`)},
			{Key: "address", Value: json.RawMessage(`{"AddressLine1":"201 Maiden Lane.","AddressLine2":"11M","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US","floor":2}`)},
			{Key: "salaryBracket", Value: json.RawMessage(`"$100k-$500k"`)},
		}}, nil)
	require.Empty(t, ch.Diagnostics)
	(*contactcore.Contact)(c).AddConsent(
		optin.Record{Address: "+19545552399", Channel: optin.SMS, Subscribed: true, Timestamp: t0, IP: "8.8.8.8", Source: "booking_flow", Text: "texts", MessageID: "m1", MessageTime: t0},
		optin.Record{Address: "+19545552399", Channel: optin.SMS, Subscribed: false, Timestamp: t0.Add(time.Hour), Source: "stop", MessageID: "m2", MessageTime: t0},
		optin.Record{Address: "+12125550123", Channel: optin.Voice, Subscribed: false, Timestamp: t0, MessageID: "m3", MessageTime: t0},
	)

	in, diags := FromContact(c)
	var fields []string
	for _, d := range diags {
		assert.Equal(t, diag.RegalUnmapped, d.Code)
		assert.NotContains(t, d.Message, "5550123")
		fields = append(fields, d.Field)
	}
	assert.Equal(t, []string{"address.line2", "address.floor", "consent"}, fields)

	body, bdiags := Encode(in, nil)
	assert.Empty(t, bdiags)
	assert.JSONEq(t, `{"userId":"92980cfccc067","traits":{
		"firstName":"Rebecca","lastName":"Greene",
		"address":{"street":"201 Maiden Lane.","city":"New York","state":"NY","zipcode":"10128","country":"US"},
		"phones":{
			"+19175554444":{"label":"Work","isPrimary":false},
			"+19545552399":{"label":"Mobile","isPrimary":true,"smsOptIn":{"subscribed":false,"timestamp":"2020-08-25T22:23:43Z","source":"stop"}}},
		"emails":{"rebecca@example.com":{"isPrimary":true}},
		"age":23,"salaryBracket":"$100k-$500k"}}`, string(body))
}

func TestFromRecord(t *testing.T) {
	at := time.Date(2020, 8, 26, 15, 2, 11, 0, time.UTC)
	rec := event.Record{Kind: event.Track, Name: "Loan Application Approved", MessageID: "m7", Time: at,
		Properties: event.Object{{Key: "amount", Value: json.RawMessage(`30000`)}}}
	e, diags := FromRecord(rec, "Backend")
	require.Empty(t, diags)
	body, _ := Encode(Contact{UserID: "u1"}, e)
	assert.Equal(t, `{"userId":"u1","traits":{},"name":"Loan Application Approved","properties":{"amount":30000},"originalTimestamp":"2020-08-26T15:02:11Z","eventSource":"Backend"}`, string(body))

	for _, k := range []event.Kind{event.Page, event.Screen, event.Group} {
		e, diags := FromRecord(event.Record{Kind: k, Name: "Home", MessageID: "m8"}, "")
		assert.Nil(t, e)
		require.Len(t, diags, 1)
		assert.Equal(t, diag.RegalUnmapped, diags[0].Code)
		assert.Equal(t, "m8", diags[0].MessageID)
	}
}

// TestFromContact_unmappedKeysMasked_RuleR1: an unknown address sub-key is the sender's text,
// which may be an email or a phone: its regal.unmapped diagnostic, which the Forwarder
// logs, masks it (RULES.md, X) and cuts it to 255 characters.
func TestFromContact_unmappedKeysMasked_RuleR1(t *testing.T) {
	c := contact.New("c-1")
	long := strings.Repeat("k", 300)
	ch := (*contactcore.Contact)(c).ApplyTraits(&event.Message{Kind: event.Identify, MessageID: "m1", UserID: "u1", Time: time.Unix(0, 0),
		Traits: event.Object{
			{Key: "address", Value: json.RawMessage(`{"city":"Miami","rebecca.greene@example.com":"x","+1 954 555 2399":"y","954–555–2399":"z","` + long + `":"w"}`)},
		}}, nil)
	require.Empty(t, ch.Diagnostics)
	_, diags := FromContact(c)
	require.Len(t, diags, 4)
	var fields []string
	for _, d := range diags {
		fields = append(fields, d.Field)
		s := d.Field + " " + d.Message
		for _, whole := range []string{"rebecca.greene", "954 555", "555 2399", "954–555"} {
			assert.NotContains(t, s, whole)
		}
		assert.NotContains(t, s, strings.Repeat("k", 256))
	}
	assert.Contains(t, fields, "address.***@example.com")
	assert.Contains(t, fields, "address.+* *** *** 2399")
}

// TestMaskExcerpt_RuleX: a refusal's excerpt masks emails and phones in the usual forms as
// MaskEmail and MaskPhone do, and numbers written with other separators or digits too.
func TestMaskExcerpt_RuleX(t *testing.T) {
	for _, in := range []string{"954–555–2399", "954/555/2399", "９５４５５５２３９９", "954\u00a0555\u00a02399", "+1 (954) 555-2399"} {
		got := maskExcerpt([]byte(`{"message":"bad phone ` + in + `"}`))
		assert.NotContains(t, got, "555", in)
		assert.NotContains(t, got, "５５５", in)
	}
	assert.Equal(t, `{"message":"bad phone +***2399 for ***@example.com"}`, maskExcerpt([]byte(`{"message":"bad phone +19545552399 for rebecca@example.com"}`)))
	// An address whose '@' the body encodes, and a vanity number (a review found both
	// whole in StatusError and the Forwarder's log line).
	for _, in := range []string{`bob.secret%40example.com`, `bob.secret%40EXAMPLE.com`, `bob.secret\u0040example.com`, `bob.secret&#64;example.com`, `bob.secret&#x40;example.com`, `+1 954 JKL ADWW`} {
		got := maskExcerpt([]byte(`{"message":"bad contact ` + in + `"}`))
		assert.NotContains(t, got, "bob.secret", in)
		assert.NotContains(t, got, "JKL", in)
	}
}
