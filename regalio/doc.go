// Package regalio is Regal's wire format, as segmentio is Segment's: the body of Regal's
// Events API and a client that sends it, and the events Regal reports back, with a
// decoder and an HTTP handler for them. It does no processing of its own: the root
// package's Processor applies what arrives, and a contact store holds what is sent.
//
// # Sending
//
// [Encode] turns a plain [Contact] and an optional [Event] into the JSON body Regal's
// Events API takes (Rule R1): userId; traits with firstName, lastName, address, phones
// and emails as objects keyed by number and address, each with its opt-ins and their
// evidence, and every custom property under its own key; name (absent for a trait-only
// update), properties, originalTimestamp and eventSource. What the body cannot carry is
// a diagnostic, never dropped silently. [FromContact] fills a Contact from a regalkit
// contact, and [FromRecord] an Event from one of its event records.
//
// A [Client] posts bodies to https://events.regalvoice.com/events (Rule R2) with the API
// key in the Authorization header, at most 300 requests a second, retrying network
// errors, timeouts, 408, 429 and 5xx with backoff and full jitter (or as Retry-After
// says) and refusing other 4xx for good with a [*StatusError]. Regal has no idempotency
// key, so the Client sends a messageId once, unless the outcome of the first send is
// unknown; see [Client] for that case.
//
// # Receiving
//
// Regal reports what happens on its side (calls, texts, subscriptions) to a webhook,
// and to Segment through its Segment source. [DecodeEvent] reads a webhook body, in
// either of Regal's two spellings (Rule R3), and [ReportedEvent.Message] turns it into an
// event.Message: a track named as Regal names the event, marked as Regal's so that the
// Processor records it on the contact and applies contact.subscribed and
// contact.unsubscribed as consent records (Rule R5). [Handler] serves the webhook: a
// token in a header, eventIds deduplicated, an answer within Regal's 5 seconds (Rule R4).
//
// # Privacy
//
// No error, diagnostic or log line of this package holds a whole phone number or email
// address: response excerpts are masked, and diagnostics name the masked value.
package regalio
