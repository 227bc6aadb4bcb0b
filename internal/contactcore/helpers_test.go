package contactcore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/stretchr/testify/require"
)

// seedTraits are the traits of the seed's identify call (Regal's Segment guide).
const seedTraits = `{"email":"rebecca@example.com","firstName":"Rebecca","lastName":"Greene","phone":"+19545552399","age":23,"gender":"other","salaryBracket":"$100k-$500k","address":{"AddressLine1":"201 Maiden Lane.","AddressLine2":"11M","City":"New York","ZipOrPostcode":"10128","StateProvinceCounty":"NY","CountryId":"US"},"optIn":[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive calls from Regal."},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]}`

const seedMessageID = "ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601"

var seedTime = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

func mustObject(t testing.TB, s string) event.Object {
	t.Helper()
	o, err := lenientObject(json.RawMessage(s))
	require.NoError(t, err)
	return o
}

func seedMessage(t testing.TB) *event.Message {
	return &event.Message{
		Kind:        event.Identify,
		MessageID:   seedMessageID,
		UserID:      "92980cfccc067",
		AnonymousID: "507f191e810c19729de860ea",
		Time:        seedTime,
		Traits:      mustObject(t, seedTraits),
		Context:     event.Context{IP: "8.8.8.8"},
	}
}

// identify builds an identify message with traits given as JSON, at seedTime plus
// minutes, with messageId "m<minutes>".
func identify(t testing.TB, minutes int, traits string) *event.Message {
	return &event.Message{
		Kind:      event.Identify,
		MessageID: fmt.Sprintf("m%03d", minutes),
		UserID:    "u1",
		Time:      seedTime.Add(time.Duration(minutes) * time.Minute),
		Traits:    mustObject(t, traits),
		Context:   event.Context{IP: "203.0.113.7"},
	}
}

// apply applies messages in order to a fresh contact and returns it with every
// diagnostic.
func apply(t testing.TB, msgs ...*event.Message) (*Contact, []diag.Diagnostic) {
	t.Helper()
	c := New("")
	var diags []diag.Diagnostic
	for _, m := range msgs {
		ch := c.ApplyTraits(m, nil)
		diags = append(diags, ch.Diagnostics...)
	}
	return c, diags
}

func codes(diags []diag.Diagnostic) []diag.Code {
	var out []diag.Code
	for _, d := range diags {
		out = append(out, d.Code)
	}
	return out
}

// exportOf returns the export as a generic JSON value without "clocks", for comparing
// what a user sees.
// tb is what both testing.T and rapid.T offer.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

func exportOf(t tb, c *Contact) map[string]any {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	delete(m, "clocks")
	return m
}

// lenientObject reads a JSON object into an event.Object as parseObject once did,
// keeping keys written twice: the property tests draw such traits, which no decoder
// gives, to check that the rules hold even for them.
func lenientObject(raw json.RawMessage) (event.Object, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	obj := event.Object{}
	ok := jsonvalue.Members(compact.Bytes(), func(k, v []byte) {
		key, _ := jsonvalue.String(k)
		obj = append(obj, event.Member{Key: key, Value: bytes.Clone(v)})
	})
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}
