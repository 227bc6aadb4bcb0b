// Package event defines the source-neutral message regalkit processes and the event
// record kept on a contact.
//
// A decoder (package segmentio for Segment traffic) turns wire payloads into a
// [Message]; the processor applies it to a contact. Nothing here does I/O.
//
//	var m event.Message
//	err := segmentio.Unmarshal(body, &m) // or segmentio.DecodeAll for a batch
//	res, err := p.Process(ctx, m)        // a regalkit.Processor
//
// Build a Message by hand only to feed the Processor from another source; read event
// records back from a contact.Store (Store.Events, Recent, Named).
//
// # Messages
//
// A [Message] has a [Kind] (identify, track, page, screen, group, alias, delete, Rule
// D2), its identifiers (messageId, userId, anonymousId, previousId, groupId), its event
// name or page name and category, its time (Rule D5) with the raw [Timestamps] it came
// from, its [Context] (ip, userAgent, locale, library, page, traits, and every other key
// kept in Extra), integrations, traits and properties.
//
// # Exact values
//
// Traits, properties and every other free-form object are an [Object]: members in input
// order, each value as compact raw JSON. A number is kept digit for digit (an 18-digit
// ID stays that, never a float64); nested objects keep their key order. Unknown keys,
// at the top level and in the context, are kept in Extra objects so a message can be
// written back without loss (Rule D3).
//
// # Time
//
// [Timestamps.EventTime] applies Rule D5: timestamp; else Segment's clock-skew
// correction receivedAt - (sentAt - originalTimestamp); else originalTimestamp; else
// receivedAt. A timestamp that cannot be parsed is a diagnostic (timestamp.invalid,
// Rule D4) and the next source is used; decoders put such diagnostics in
// Message.Diagnostics.
//
// # Validation
//
// [Message.Validate] checks Rule D6 (who the message is about, the event name, the
// groupId, the alias and delete identifiers, the messageId's length) and returns a
// [*ValidationError] carrying a diagnostic code. A message without a messageId is
// valid; [DeriveMessageID] gives it one from its canonical content (Rule E2).
//
// # Records
//
// [Message.Record] gives the [Record] a contact keeps for a track, page, screen or group
// call (Rule E1): kind, name, category, groupId, properties or group traits, time,
// messageId and a subset of the context.
//
// # Sharing
//
// A decoded message may share one buffer between its strings and values. Values are
// safe to read from several goroutines; to keep a message or record apart from the
// buffer it came from (in a store, say), use [Message.Clone] or [Record.Clone].
package event
