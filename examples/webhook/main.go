// Webhook is an HTTP server a Segment Webhooks destination, or any client of Segment's
// tracking API, can point at. It receives deliveries with segmentio.Handler, runs them
// through regalkit's Processor on an in-memory store, and serves what it built:
//
//	POST /               webhook deliveries: one message, or a JSON array
//	POST /v1/{identify,track,page,screen,group,alias,batch,import}
//	                     tracking-API calls; also /v1/{i,t,p,s,g,a}, where
//	                     analytics.js posts them, and /v1/b, where analytics.js in
//	                     batching mode, analytics-kotlin and analytics-swift post batches
//	GET  /contacts/{userId}
//	                     the contact with that External ID, with its events, in the
//	                     export format of RULES.md, X; 404 when there is none
//	GET  /audience       the contacts in the audience (Rule A1), one JSON document a
//	                     line (NDJSON), without their events
//	GET  /triggers/{name}/due[?at=RFC3339]
//	                     the contacts due for a -trigger at a time (now by default),
//	                     NDJSON {"contactId","userId","dueAt","entry":{"messageId",
//	                     "timestamp"}} sorted by dueAt then contactId; 404 for an
//	                     unknown trigger
//	GET  /guard?phone=...[&channel=sms|voice][&at=RFC3339]
//	                     may the phone be reached on the channel at the time (Rule G4)
//	GET  /healthz        200 while the server runs
//	POST /regal          Regal's reporting webhooks, with -regal-token only
//	GET  /outbox         the counts of what is forwarded to Regal, with -regal-key only
//
// Any other path or method gets a JSON error, 404 or 405, and nothing is processed.
// Messages that arrive through /v1/* without a receivedAt are stamped with the
// server's clock, as Segment's tracking API does.
//
// Usage:
//
//	go run ./examples/webhook [-addr 127.0.0.1:8080] [-secret S] [-token T] [-write-key K]... [-context-traits] [-v]
//	                          [-regal-token T [-regal-header NAME]] [-regal-key K [-regal-url URL]] [-trigger FILE]...
//
// With -secret, every delivery must carry Segment's X-Signature for that shared secret;
// Segment signs only the first message of an array, so add -token, a shared bearer
// token every delivery must carry as "Authorization: Bearer T" (set that header in the
// Webhooks (Actions) destination's mapping); see SECURITY.md. With -write-key
// (repeatable), every delivery must carry one of the keys, as Basic credentials or, with
// -token, as "writeKey" in the body. The status codes are segmentio.Handler's. With
// -context-traits, the context.traits of tracks, pages and screens apply as traits
// (regalkit.Options.ApplyContextTraits); without it they are only recorded.
//
// With -trigger (repeatable), each FILE holds a journey trigger in its JSON form (package
// trigger); a file that cannot be read or decoded stops the server at start with an
// error naming the file and the field.
//
// With -regal-token, POST /regal takes Regal's events (see regalio.Handler): each
// request must carry "Authorization: Bearer T", or T raw in the header -regal-header
// names; without -regal-token the route is off (404).
//
// The read endpoints have no authentication of their own, and show phones and emails:
// keep the server on a loopback or private address, or put it behind a proxy that
// authenticates. Contacts live in memory and are lost when it stops.
//
// With -regal-key, what the server processes is forwarded to Regal's Events API (see
// regalkit.Forwarder): -regal-url is the full endpoint (default
// https://events.regalvoice.com/events) and the key goes raw in Authorization. Every
// message that changes what Regal holds of a contact, or records a track event, leaves
// an entry in the store's outbox in its own transaction; GET /outbox answers
// {"pending":N,"sent":N,"dead":N,"oldestPendingSeconds":N} for a health check.
// Contacts and the outbox live in memory: what is pending when the process ends is lost.
//
// The server itself is package internal/webhookserver, which
// contact/pgstore/cmd/regalkit-webhook runs on PostgreSQL with the same flags and routes.
//
// SIGINT or SIGTERM stops the server gracefully: it accepts no new connections,
// finishes the requests in flight and then sends what the outbox holds, for as long as
// entries keep going out, and finishes the forwarder's sends, for up to 25 seconds in
// all, before it exits; it logs how many entries it leaves pending.
package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/internal/webhookserver"
)

func main() { webhookserver.Main("webhook", run) }

// run parses args, serves until ctx is done, then shuts down gracefully. It writes
// "listening on http://ADDR" to stdout once it accepts connections, and its log to
// stderr. A command line that cannot be run is webhookserver.ErrUsage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags webhookserver.Flags
	flags.Register(fs)
	if err := flags.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	return webhookserver.Run(ctx, webhookserver.Config{
		Name:   "webhook",
		Store:  memstore.New(),
		Flags:  flags,
		Logger: flags.Logger(stderr),
	}, stdout)
}
