// Quickstart runs the calls of Regal's "Send user and event data from Segment" guide
// through regalkit: the identify for user 92980cfccc067 (its traits, address and optIn
// array), the "Loan Application Approved" track and a page call, processed on an
// in-memory store. It prints the resulting contact in regalkit's export format
// (RULES.md, X) and the audience.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// The seed's calls as Segment delivers them: a batch of three messages.
const calls = `[
  {"type": "identify", "messageId": "ajs-next-7d0a4e4b2ad0c5d5f3b1a6c9d8e7f601",
   "anonymousId": "507f191e810c19729de860ea", "userId": "92980cfccc067",
   "timestamp": "2020-08-25T21:23:43.000Z",
   "context": {"ip": "8.8.8.8", "library": {"name": "analytics.js", "version": "next-1.53.0"}},
   "traits": {
     "email": "rebecca@example.com", "firstName": "Rebecca", "lastName": "Greene",
     "phone": "+19545552399", "age": 23, "gender": "other", "salaryBracket": "$100k-$500k",
     "address": {"AddressLine1": "201 Maiden Lane.", "AddressLine2": "11M", "City": "New York",
                 "ZipOrPostcode": "10128", "StateProvinceCounty": "NY", "CountryId": "US"},
     "optIn": [
       {"channel": "voice", "subscribed": true, "timestamp": "2020-08-25T21:23:43Z", "ip": "",
        "source": "booking_flow", "text": "By checking this box you agree to receive calls from Regal."},
       {"channel": "sms", "subscribed": true, "timestamp": "2020-08-25T21:23:43Z", "ip": "",
        "source": "booking_flow", "text": "By checking this box you agree to receive texts from Regal."}]}},
  {"type": "track", "messageId": "ajs-next-1b9c3f0e6a2d4e8f9a7b5c3d1e0f2a4b",
   "userId": "92980cfccc067", "event": "Loan Application Approved",
   "timestamp": "2020-08-26T15:02:11.000Z",
   "properties": {"amount": 30000, "currency": "USD", "loanId": "L-2291"}},
  {"type": "page", "messageId": "ajs-next-5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b",
   "userId": "92980cfccc067", "name": "Loan Offer", "category": "Loans",
   "timestamp": "2020-08-26T15:03:40.000Z",
   "properties": {"path": "/loans/offer", "title": "Your loan offer"}}
]`

func main() {
	if err := run(context.Background(), os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run processes the calls with the given options and writes the contact and the
// audience to w.
func run(ctx context.Context, w io.Writer, opts *regalkit.Options) error {
	store := memstore.New()
	p := regalkit.New(store, opts)

	results, err := p.ProcessBytes(ctx, []byte(calls))
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintf(w, "processed %s: contact %s, changed %v\n", r.MessageID, r.ContactID, r.Changed)
		for _, d := range r.Diagnostics {
			fmt.Fprintf(w, "  refused %s\n", d)
		}
	}

	found, err := store.Find(ctx, identity.UserKey("92980cfccc067"))
	if err != nil {
		return err
	}
	for _, c := range found {
		var events []event.Record
		for r, err := range store.Events(ctx, c.ID(), contact.EventQuery{}) {
			if err != nil {
				return err
			}
			events = append(events, r)
		}
		out, err := json.MarshalIndent(contact.Export{Contact: c, Events: events}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\ncontact:\n%s\n", out)
	}

	fmt.Fprintln(w, "\naudience:")
	for c, err := range store.Contacts(ctx) {
		if err != nil {
			return err
		}
		if c.InAudience() {
			fmt.Fprintf(w, "  %s %s sms=%s voice=%s\n", c.UserID(), c.Phone(),
				c.Subscription("sms"), c.Subscription("voice"))
		}
	}
	return nil
}
