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
// # Packages
//
//   - [github.com/regalkit/regalkit/segmentio]: the Segment wire format: decoding every
//     form with Segment's limits, encoding, webhook signatures.
//   - [github.com/regalkit/regalkit/event]: the source-neutral message and event record.
//   - [github.com/regalkit/regalkit/identity]: identifier keys, phone parsing to E.164
//     with a cache, email normalization, and the identity decision.
//   - [github.com/regalkit/regalkit/optin]: consent records, the ledger and its rules.
//   - [github.com/regalkit/regalkit/contact]: the contact, its trait rules, merge,
//     export, and the Store interface.
//   - [github.com/regalkit/regalkit/contact/memstore]: the in-memory Store.
//   - [github.com/regalkit/regalkit/contact/storetest]: the Store conformance kit.
//   - [github.com/regalkit/regalkit/diag]: the diagnostic type and its codes.
//
// The behaviour contract, rule by rule, is SPEC.md; rule IDs such as T8 or C6 in doc
// comments and tests point into it.
package regalkit
