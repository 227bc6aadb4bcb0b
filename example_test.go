package regalkit_test

import (
	"context"
	"fmt"

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
