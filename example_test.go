package regalkit_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
)

// The README's example: one identify, a refused email, a validated phone and an SMS
// opt-in whose IP comes from the message's context (Rule C4).
func ExampleProcessor() {
	ctx := context.Background()
	store := memstore.New() // or your own contact.Store
	p := regalkit.New(store, &regalkit.Options{Region: "US"})

	results, err := p.ProcessBytes(ctx, []byte(`{"type":"identify","userId":"u-42",
		"messageId":"m-1","timestamp":"2024-03-01T12:00:00Z","context":{"ip":"8.8.8.8"},
		"traits":{"firstName":"Ann","phone":"(954) 555-2399","email":"ann@example",
		"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:00:00Z"}}}`))
	if err != nil {
		panic(err) // the store or ctx failed; bad input is never an error
	}
	for _, d := range results[0].Diagnostics {
		fmt.Println(d)
	}
	found, _ := store.Find(ctx, identity.UserKey("u-42"))
	c := found[0]
	fmt.Println(c.Phone(), c.InAudience(), c.Subscription("sms"))
	// Output:
	// email.invalid traits.email: identity: invalid email address ***@example: domain needs a dot
	// +19545552399 true subscribed
}

// Segment re-delivers: the same messageId twice changes nothing the second time
// (Rule E2).
func ExampleProcessor_Process_duplicate() {
	p := regalkit.New(memstore.New(), nil)
	payload := []byte(`{"type":"track","userId":"u-1","messageId":"t-1","event":"Loan Application Approved"}`)
	for range 2 {
		res, _ := p.ProcessBytes(context.Background(), payload)
		fmt.Println(res[0].MessageID, "duplicate:", res[0].Duplicate, "changed:", res[0].Changed)
	}
	// Output:
	// t-1 duplicate: false changed: [contact event]
	// t-1 duplicate: true changed: []
}

// A Segment export read as a stream on every core: the results come back in input
// order, and the re-delivered track is the later copy whatever the schedule, because
// messages sharing an identifier are applied in input order.
func ExampleProcessor_ProcessStream() {
	export := strings.NewReader(`{"type":"identify","userId":"u-1","messageId":"i-1","traits":{"plan":"pro"}}
{"type":"track","userId":"u-2","messageId":"t-1","event":"Signed Up"}
not JSON
{"type":"track","userId":"u-2","messageId":"t-1","event":"Signed Up"}
`)
	p := regalkit.New(memstore.New(), &regalkit.Options{Workers: -1}) // all cores
	err := p.ProcessStream(context.Background(), export, func(r regalkit.Result) bool {
		switch {
		case len(r.Diagnostics) > 0:
			fmt.Println("refused:", r.Diagnostics[0].Code)
		default:
			fmt.Println(r.MessageID, "duplicate:", r.Duplicate)
		}
		return true
	})
	if err != nil {
		panic(err) // the reader, the store or ctx failed
	}
	// Output:
	// i-1 duplicate: false
	// t-1 duplicate: false
	// refused: message.invalid
	// t-1 duplicate: true
}
