// Package regalkit turns Segment traffic into Regal-style contacts.
//
// A Go service hands regalkit the identify, track, page, screen, group, alias and delete
// messages it receives from Segment, and regalkit keeps one contact per person: an
// External ID (the Segment userId) with the anonymous IDs stitched to it, E.164 phone
// numbers validated with libphonenumber, SMS and voice consent with its legal evidence,
// standard traits and custom properties, and every event on the right contact. The same
// messages in any order, any number of times, give the same contacts. Nothing is dropped
// silently: every field regalkit refuses comes back as a diagnostic with a code.
//
// # Processing
//
// A [Processor] applies one message per [contact.Store] transaction:
//
//	store := memstore.New()
//	p := regalkit.New(store, &regalkit.Options{Region: "US"})
//	results, err := p.ProcessBytes(ctx, body) // a message, an array, a batch, NDJSON
//
// Each [Result] names the contact the message went to, whether it was a duplicate
// (Rule E2), what changed, and every diagnostic. A bad message is a Result with
// diagnostics, never an error; the error is for the store and the context, and then
// nothing of the message was applied.
//
// For large inputs, [Processor.ProcessStream] decodes from an io.Reader without holding
// it whole, and [Options.Workers] spreads ProcessStream, [Processor.ProcessBatch] and
// ProcessBytes over several goroutines: results still come back in input order, and
// messages that share an identifier are applied in input order (Rules S2, S3).
// BENCHMARKS.md has the figures and what they mean for sizing.
//
// To receive Segment over HTTP, mount a segmentio.Handler on the processor's
// [Processor.Sink]: it verifies signatures and write keys, limits body sizes, and
// answers with Segment's retry rules (Rule D9).
//
//	http.Handle("POST /segment", segmentio.NewHandler(p.Sink(), &segmentio.HandlerOptions{Secret: secret}))
//
// Segment re-sends a user's cached traits with every identify, so a Processor keeps two
// caches of its own, sized by [Options]: parsed phone numbers (PhoneCacheSize) and
// parsed optIn traits (OptInCacheSize). No package below keeps a cache of results of
// its own, so two Processors share none.
//
// # Identity
//
// A message with a userId goes to that user's contact (Rule I1); one with both a userId
// and an anonymousId links them, and the anonymous ID's own contact merges into the
// known one (I3). An anonymousId shared by several users hands its messages over by
// time (I4): a late link moves the messages it claims. Messages with only an anonymous
// ID are kept whole on their contact for that reason. An alias renames (I5); a delete
// erases what came before it and leaves a tombstone (I7). The decision is
// [identity.Decide]; the Processor carries it out.
//
// # May we text this phone now?
//
// [Processor.Guard] returns a [Guard] whose Check answers, before every call or text,
// whether a phone may be reached on a channel at an instant (RULES.md G1–G4): consent
// across every contact with the phone, and the calling window (8:00 to 21:00 by
// default, package callwindow) in the phone's local time. [Processor.ReceiveSMS], and
// Regal's sms.received events, apply STOP and START replies to every contact with the
// phone, in any arrival order (G5–G8).
//
// # Forwarding to Regal
//
// With [Options].Outbox, the transaction that applies a message also writes an outbox
// entry for what Regal must learn (Rule O1), in a store that implements
// contact.Outbox; a [Forwarder] sends the entries with a regalio.Client, in order per
// contact, at least once (Rules O2–O4):
//
//	p := regalkit.New(store, &regalkit.Options{Outbox: true})
//	fw, err := regalkit.NewForwarder(store, regalio.NewClient(apiKey, nil), nil)
//	fw.Start()
//	defer fw.Stop(ctx)
//
// # Packages
//
//   - [github.com/regalkit/regalkit/segmentio]: the Segment wire format: decoding every
//     form with Segment's limits, encoding, webhook signatures, the HTTP handler.
//   - [github.com/regalkit/regalkit/event]: the source-neutral message and event record.
//   - [github.com/regalkit/regalkit/identity]: identifier keys, phone parsing to E.164
//     (with a PhoneParser whose cache its owner sizes), email normalization, and the
//     identity decision.
//   - [github.com/regalkit/regalkit/optin]: consent records, the ledger and its rules.
//   - [github.com/regalkit/regalkit/contact]: the contact as users read it, its people
//     export and storage codec, and the Store and Outbox interfaces.
//   - [github.com/regalkit/regalkit/contact/memstore]: the in-memory Store.
//   - [github.com/regalkit/regalkit/contact/pgstore]: the PostgreSQL Store, a module of
//     its own.
//   - [github.com/regalkit/regalkit/contact/storetest]: the Store conformance kit.
//   - [github.com/regalkit/regalkit/regalio]: Regal's wire format: the Events API body
//     and client, and the events Regal reports back.
//   - [github.com/regalkit/regalkit/trigger]: journey triggers.
//   - [github.com/regalkit/regalkit/diag]: the diagnostic type and its codes.
//   - [github.com/regalkit/regalkit/callwindow]: the calling window and its time zones.
//
// # Rules
//
// The behaviour contract, rule by rule, is RULES.md at the repository root; rule IDs
// such as T8 or C6 in doc comments, tests and diagnostics point into it, and its last
// table lists every diagnostic code with the rule behind it and what triggers it.
package regalkit
