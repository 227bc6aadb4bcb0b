package trigger_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/trigger"
)

func Example() {
	t, err := trigger.Decode(strings.NewReader(`{"name": "approved-not-signed",
		"entry": {"event": "Loan Application Approved", "where": [{"property": "amount", "op": ">=", "value": 10000}]},
		"exit": [{"event": "Loan Signed", "within": "48h"}],
		"delay": "2h"}`))
	if err != nil {
		panic(err)
	}
	approvedAt := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	events := []event.Record{{Kind: event.Track, Name: "Loan Application Approved", Time: approvedAt, MessageID: "m-1",
		Properties: event.Object{{Key: "amount", Value: json.RawMessage(`30000`)}}}}

	m, ok := t.Enters(events, approvedAt.Add(3*time.Hour))
	fmt.Println(ok, m.Entry.MessageID, m.DueAt.Format(time.RFC3339))

	// Signed a day later, inside the 48h window: no longer in the trigger.
	events = append(events, event.Record{Kind: event.Track, Name: "Loan Signed", Time: approvedAt.Add(24 * time.Hour), MessageID: "m-2"})
	_, ok = t.Enters(events, approvedAt.Add(25*time.Hour))
	fmt.Println(ok)

	_, err = trigger.Decode(strings.NewReader(`{"name": "x", "entry": {"event": "A"}, "delay": "2 hours"}`))
	fmt.Println(err)
	// Output:
	// true m-1 2026-03-02T11:00:00Z
	// false
	// trigger: field delay: "2 hours" is not a duration such as "48h" or "90m"
}
