package regalkit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/optin"
)

// A subscribed New York number, asked about at 7:30 in the morning, then after it
// texted STOP.
func ExampleGuard_Check() {
	ctx := context.Background()
	p := regalkit.New(memstore.New(), nil)
	_, _ = p.ProcessBytes(ctx, []byte(`{"type":"identify","userId":"u1","timestamp":"2026-06-01T12:00:00Z",
		"context":{"ip":"8.8.8.8"},"traits":{"phone":"(917) 555-4444",
		"optIn":{"channel":"sms","subscribed":true,"timestamp":"2026-06-01T12:00:00Z"}}}`))
	g := p.Guard(nil)

	at := time.Date(2026, 6, 10, 11, 30, 0, 0, time.UTC)
	d, _ := g.Check(ctx, "+19175554444", optin.SMS, at)
	fmt.Println(d.Allowed, d.Reason, d.Zone, d.NextAllowed.Format(time.RFC3339))

	_, _ = p.ReceiveSMS(ctx, regalkit.InboundSMS{From: "917-555-4444", Body: "Stop!", Time: at.Add(-time.Hour)})
	d, _ = g.Check(ctx, "+19175554444", optin.SMS, at.Add(time.Hour))
	fmt.Println(d.Allowed, d.Reason, d.Deciding.Source, d.Deciding.Text)
	// Output:
	// false guard.quiet_hours America/New_York 2026-06-10T12:00:00Z
	// false guard.opted_out sms_keyword Stop!
}
