package regalkit_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/trigger"
)

// The loan trigger of Regal's Segment guide: approved, not signed within 48 hours, due
// two hours after the approval (Rules J3, J4).
func ExampleEvaluate() {
	ctx := context.Background()
	loan, err := trigger.Decode(strings.NewReader(`{"name": "approved-not-signed",
		"entry": {"event": "Loan Application Approved", "where": [{"property": "amount", "op": ">=", "value": 10000}]},
		"exit": [{"event": "Loan Signed", "within": "48h"}],
		"delay": "2h",
		"require": {"inAudience": true}}`))
	if err != nil {
		panic(err)
	}
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Triggers: []*trigger.Trigger{loan}})
	send := func(payload string) {
		res, err := p.ProcessBytes(ctx, []byte(payload))
		if err != nil {
			panic(err)
		}
		for _, ch := range res[0].Triggers {
			fmt.Printf("%s: entered %v, entry %s, due %s\n", ch.Trigger, ch.Entered, ch.Entry.MessageID, ch.DueAt.Format(time.RFC3339))
		}
	}
	send(`{"type":"identify","userId":"u-42","messageId":"m-1","timestamp":"2026-03-02T08:00:00Z","traits":{"phone":"+19545552399"}}`)
	send(`{"type":"track","userId":"u-42","messageId":"m-2","timestamp":"2026-03-02T09:00:00Z",
		"event":"Loan Application Approved","properties":{"amount":30000}}`)

	list := func(at string) {
		now, _ := time.Parse(time.RFC3339, at)
		fmt.Println("due at", at+":")
		for d, err := range regalkit.Evaluate(ctx, store, loan, now) {
			if err != nil {
				panic(err)
			}
			fmt.Println(" ", d.UserID, d.Entry.MessageID, d.DueAt.Format(time.RFC3339))
		}
	}
	list("2026-03-02T10:00:00Z")
	list("2026-03-02T11:00:00Z")

	send(`{"type":"track","userId":"u-42","messageId":"m-3","timestamp":"2026-03-03T15:00:00Z","event":"Loan Signed"}`)
	list("2026-03-03T16:00:00Z")
	// Output:
	// approved-not-signed: entered true, entry m-2, due 2026-03-02T11:00:00Z
	// due at 2026-03-02T10:00:00Z:
	// due at 2026-03-02T11:00:00Z:
	//   u-42 m-2 2026-03-02T11:00:00Z
	// approved-not-signed: entered false, entry , due 0001-01-01T00:00:00Z
	// due at 2026-03-03T16:00:00Z:
}
