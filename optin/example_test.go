package optin_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/regalkit/regalkit/optin"
)

func at(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// The seed's identify subscribes its phone to voice and SMS: the records carry ip "",
// and the message's context.ip stands in as evidence (Rules C2, C4).
func ExampleParseTrait() {
	optIn := json.RawMessage(`[
		{"channel":"voice","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive calls from Regal."},
		{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","ip":"","source":"booking_flow","text":"By checking this box you agree to receive texts from Regal."}]`)
	msg := optin.Message{
		ID:          "e2b4c9a8",
		Time:        at("2020-08-25T21:24:00Z"),
		IP:          "8.8.8.8", // context.ip
		Phone:       "+19545552399",
		ProcessedAt: at("2020-08-25T21:24:01Z"),
	}
	records, diags := optin.ParseTrait("traits.optIn", optIn, msg)

	var ledger optin.Ledger
	ledger.Add(records...)
	view := ledger.Resolve(nil)
	fmt.Println("diagnostics:", len(diags))
	fmt.Println("sms:", view.State("+19545552399", optin.SMS))
	fmt.Println("voice:", view.State("+19545552399", optin.Voice))
	fmt.Println("evidence ip:", view.OptIns("+19545552399")[optin.SMS].IP)
	// Output:
	// diagnostics: 0
	// sms: subscribed
	// voice: subscribed
	// evidence ip: 8.8.8.8
}

// An opt-in older than the opt-out already held arrives late, as Segment's retries and
// cached traits make happen: it changes nothing, and the history says why (Rules C6,
// C7).
func ExampleLedger_Resolve_staleRecordIgnored() {
	msg := optin.Message{ID: "identify-2", Time: at("2021-03-01T10:00:00Z"), IP: "8.8.8.8", Phone: "+19545552399"}
	optOut, _ := optin.ParseTrait("traits.optIn",
		json.RawMessage(`{"channel":"sms","subscribed":false,"timestamp":"2021-03-01T10:00:00Z","source":"settings"}`), msg)

	msg = optin.Message{ID: "identify-1", Time: at("2020-08-25T21:24:00Z"), IP: "8.8.8.8", Phone: "+19545552399"}
	staleOptIn, _ := optin.ParseTrait("traits.optIn",
		json.RawMessage(`{"channel":"sms","subscribed":true,"timestamp":"2020-08-25T21:23:43Z","source":"booking_flow"}`), msg)

	var ledger optin.Ledger
	ledger.Add(optOut...)
	ledger.Add(staleOptIn...) // arrives second, happened first
	view := ledger.Resolve(nil)
	fmt.Println("sms:", view.State("+19545552399", optin.SMS))
	for _, e := range view.History() {
		fmt.Println(e.MessageID, e.Outcome)
	}
	// Output:
	// sms: unsubscribed
	// identify-1 superseded
	// identify-2 applied
}

// A STOP reply, configured as an opt-out event, needs no IP: an opt-out is honoured
// whatever evidence comes with it (Rules C4, C8). The same event as an opt-in would be
// refused.
func ExampleEvents_optOutWithoutIP() {
	events, err := optin.NewEvents(
		map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
		map[string][]optin.Channel{"SMS STOP": {optin.SMS}},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	noIP := optin.Message{ID: "track-7", Time: at("2021-06-01T12:00:00Z"), Phone: "+19545552399"}

	stop, diags := events.Records("SMS STOP", noIP)
	fmt.Println("opt-out diagnostics:", len(diags))
	start, diags := events.Records("SMS Opt In", noIP)
	fmt.Println("opt-in:", diags[0].Code, diags[0].Field)

	var ledger optin.Ledger
	ledger.Add(stop...)
	ledger.Add(start...)
	fmt.Println("sms:", ledger.Resolve(nil).State("+19545552399", optin.SMS))
	// Output:
	// opt-out diagnostics: 0
	// opt-in: optin.no_ip context.ip
	// sms: unsubscribed
}

// A record from a message without a phone waits for one; resolving with the contact's
// primary-phone history binds it to the phone primary at its message's time (Rule C5).
func ExampleBindPrimary() {
	track := optin.Message{ID: "track-1", Time: at("2021-01-10T00:00:00Z"), IP: "8.8.8.8"}
	events, _ := optin.NewEvents(map[string][]optin.Channel{"Consented": {optin.SMS}}, nil)
	records, _ := events.Records("Consented", track)

	var ledger optin.Ledger
	ledger.Add(records...)
	fmt.Println(ledger.Resolve(nil).History()[0].Outcome)

	primary := []optin.PhoneWrite{
		{Phone: "+14155550123", Time: at("2021-02-01T00:00:00Z"), MessageID: "identify-b"},
		{Phone: "+19545552399", Time: at("2021-01-01T00:00:00Z"), MessageID: "identify-a"},
	}
	view := ledger.Resolve(optin.BindPrimary(primary))
	fmt.Println(view.History()[0].Outcome, view.State("+19545552399", optin.SMS))
	// Output:
	// pending
	// applied subscribed
}

// Two contacts merge: their ledgers unite, whichever side merges into which.
func ExampleLedger_Merge() {
	var a, b optin.Ledger
	in, _ := optin.ParseTrait("traits.optIn", json.RawMessage(`{"channel":"voice","subscribed":true,"timestamp":"2021-01-01T00:00:00Z"}`),
		optin.Message{ID: "anon-identify", IP: "8.8.8.8", Phone: "+19545552399"})
	out, _ := optin.ParseTrait("traits.optIn", json.RawMessage(`{"channel":"voice","subscribed":"false","timestamp":"2021-02-01T00:00:00Z"}`),
		optin.Message{ID: "user-identify", Phone: "+19545552399"})
	a.Add(in...)
	b.Add(out...)

	ab, ba := a, b
	ab.Merge(b)
	ba.Merge(a)
	fmt.Println(ab.Equal(ba), ab.Len(), ab.Resolve(nil).State("+19545552399", optin.Voice))
	// Output:
	// true 2 unsubscribed
}
