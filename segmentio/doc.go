// Package segmentio reads and writes the Segment wire format: every form a Segment
// payload comes in, decoded exactly, fast and safely into [event.Message] values; an
// encoder back to Segment JSON; webhook signature verification; and an http.Handler
// that receives Segment deliveries.
//
// # Decoding
//
// A [Decoder] reads from an io.Reader in the encoding/json idiom: [NewDecoder], then
// [Decoder.Decode] once per message until io.EOF. [DecodeAll] decodes a byte slice
// holding any number of messages, and [Unmarshal] one holding exactly one; both are safe
// for concurrent use (a Decoder is not). Every form of Rule D1 is read the same way:
//
//   - a single message object;
//   - a JSON array of messages, as Segment's Actions webhooks send in batches;
//   - a batch envelope {"batch": [...], "context": {...}, "integrations": {...},
//     "sentAt": ..., "writeKey": ...}, whose context and integrations are merged into
//     each message, the message's own keys winning (and whose sentAt is each message's
//     unless it has its own: the batch was sent at once);
//   - NDJSON: one message, array or batch a line, blank lines skipped. The decoder
//     takes the input for NDJSON when its first line closes every bracket and string it
//     opens and more lines follow; a line that is not valid JSON then fails alone.
//     Otherwise (a pretty-printed document, say) it reads JSON values one after the
//     other, as encoding/json does, and a syntax error ends the input.
//
// # Leniency
//
// Real traffic is messy, and the decoder reads what Segment's libraries and
// integrations actually send (Rules D2–D5): type names in any case; userId,
// anonymousId, previousId, groupId (and messageId) as strings, as numbers kept digit for
// digit (123456789012345678 stays "123456789012345678"), or null; version as a number
// or a string; channel at the top level or in the context; timestamps in every variant
// of Rule D4 (Go's time.Time.String form included); an empty array where an object
// belongs (PHP's json_encode writes {} as []: "context": [], "traits": []) as an empty
// object. Unknown keys, at the top level and in the context, are kept and written
// back by the encoder. An unparseable timestamp does not refuse the message: it becomes
// a diagnostic (timestamp.invalid) in Message.Diagnostics and the next source of Rule D5
// gives the time. Values are never changed: traits and properties keep every number,
// key order and nested value exactly as received.
//
// # Errors
//
// Each message gets its own outcome (Rule D7): a batch with one bad message yields the
// others, in input order, and an [*ItemError] for the bad one, saying which item, where,
// and why, with a diagnostic code ([ItemError.Diagnostic]). The reasons are typed: a
// [*SyntaxError] with the byte offset, a [*LimitError] naming the limit, a
// [*FieldError], a [*DuplicateKeyError], an [*UnsupportedTypeError] (Rule D2), or an
// *event.ValidationError (Rule D6). Each matches a sentinel ([ErrSyntax], [ErrLimit],
// [ErrInvalidMessage], [ErrUnsupportedType], event.ErrInvalid) with errors.Is. No error
// quotes a value from the payload but an unsupported type, masked (see diag.Mask) and
// cut to 32 bytes.
//
// # Limits
//
// [Limits] holds Segment's limits (Rule D7): 32 KB a message, 500 KB a batch, 2,500
// messages a batch, 64 levels of nesting, and a cap on the length of a number. The
// decoder never holds more than one document of at most the batch size in memory, and
// refuses hostile input (deep nesting, huge strings, NaN, duplicate keys, invalid UTF-8)
// in time proportional to what it read.
//
// # Encoding
//
// [Marshal] and [Encoder] write a message back as Segment JSON; decoding the result
// gives the same message, unknown keys included.
//
// # Signatures
//
// [VerifySignature] checks the X-Signature header of a Segment webhook (Rule D8) on the
// raw body, in constant time. Segment signs a JSON array by its first element only;
// [HandlerOptions.Token] is the remedy (see the repository's SECURITY.md).
//
// # HTTP
//
// A [Handler] receives what Segment sends (Rule D9): a webhook destination's deliveries
// (one message, or a JSON array) and tracking-API calls (/v1/identify, /v1/track, ...,
// /v1/batch). It checks a bearer token, the write key and the signature, limits the
// body's size before reading it, decodes it, stamps receivedAt on tracking-API messages
// without one, and hands the messages to a [Sink]: a function, so that
// regalkit's Processor, or a queue, plugs in without this package knowing it. Its
// status codes follow Segment's retry rules (see [Handler]), and per-message
// diagnostics come back in the body of a 200.
//
// # Speed
//
// The decoder is a hand-written scanner over the raw bytes (package encoding/json
// would turn numbers into float64 and lose key order). A decoded message's strings and
// values share one copy of its text, which no other message and no later Decode
// touches: its values are read-only (change a [event.Message.Clone] instead, or the
// strings change with them). So a typical message costs a handful of
// allocations; on the seed identify it is about three times faster than unmarshalling
// the same bytes into a map[string]any with encoding/json (BenchmarkDecode).
package segmentio
