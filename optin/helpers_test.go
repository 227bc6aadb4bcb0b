package optin

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The seed: the identify of user 92980cfccc067 with context.ip 8.8.8.8 and its optIn
// trait, from Regal's "Send user and event data from Segment" guide.
const (
	seedPhone   = "+19545552399"
	seedOptIn   = `[{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive calls from Regal."},{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]`
	otherPhone  = "+14155550123"
	thirdPhone  = "+12125550199"
	seedConsent = "2020-08-25T21:23:43Z"
)

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v.UTC()
}

// mustTime parses an RFC 3339 time outside a test (rapid generators, examples).
func mustTime(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v.UTC()
}

func seedMessage() Message {
	return Message{
		ID:          "seed-identify",
		Time:        mustTime("2020-08-25T21:24:00Z"),
		IP:          "8.8.8.8",
		Phone:       seedPhone,
		ProcessedAt: mustTime("2020-08-25T21:24:01Z"),
	}
}

// rec is a valid SMS record for tests, changed by the options.
func rec(ts string, subscribed bool, opts ...func(*Record)) Record {
	r := Record{
		Address:     seedPhone,
		Channel:     SMS,
		Subscribed:  subscribed,
		Timestamp:   mustTime(ts),
		IP:          "8.8.8.8",
		Source:      "test",
		MessageID:   "m-" + ts,
		MessageTime: mustTime(ts),
		ProcessedAt: mustTime(ts).Add(time.Second),
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func withID(id string) func(*Record)         { return func(r *Record) { r.MessageID = id } }
func withChannel(c Channel) func(*Record)    { return func(r *Record) { r.Channel = c } }
func withAddress(a string) func(*Record)     { return func(r *Record) { r.Address = a } }
func withIP(ip string) func(*Record)         { return func(r *Record) { r.IP = ip } }
func withSource(s string) func(*Record)      { return func(r *Record) { r.Source = s } }
func withMessageTime(s string) func(*Record) { return func(r *Record) { r.MessageTime = mustTime(s) } }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// ledgerOf returns a ledger holding records.
func ledgerOf(records ...Record) Ledger {
	var l Ledger
	l.Add(records...)
	return l
}
