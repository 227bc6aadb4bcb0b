// Package optin keeps SMS, voice and email consent with its legal evidence (rules
// C1–C9 of RULES.md at the repository root).
//
// A wrong "subscribed" is an unlawful text message and a lost "unsubscribed" is worse,
// so the package is built to be right whatever Segment does: it re-delivers messages,
// delivers them out of order, and re-sends cached traits. The package is pure: no I/O,
// no clock, no context.
//
// Most callers only read consent, from a contact the Processor built:
//
//	c.Subscription(optin.SMS) == optin.StateSubscribed // the primary phone, Rule A2
//	view := c.ConsentView()                            // every address, Rule C5
//	view.State("+19545552399", optin.Voice)
//
// and ask the Processor's Guard before a call or a text (Rules G1–G4). The parsers
// and the [Ledger] below are what the Processor uses to get there.
//
// # Records and evidence
//
// A [Record] is one opt-in or opt-out on one [Channel] ([SMS], [Voice], [Email]) with
// its evidence: the address it applies to (an E.164 phone, or an email address), the
// consent timestamp, the IP, the source, the consent text, the messageId and event time
// of its message, and when it was processed (Rule C7).
//
// # Parsing
//
// [ParseTrait] reads an optIn trait, the seed's array of records or a single record;
// [ParsePhone] reads the smsOptIn and voiceOptIn values of one phone in Regal's phones
// trait, and [ParseEmail] the emailOptIn value of one address (Rule C2). subscribed may be
// a boolean or "true"/"false"; timestamps go through the module's one D4 parser. A
// [Message] carries what the parsers need from the message: its messageId, event time,
// context.ip, the phone or email it sets, and the processing time. The parsers read
// JSON with the module's one scanner, which takes RFC 8259 JSON in UTF-8 only.
//
// Segment re-sends cached traits with every identify. A [ParseCache], made and sized by
// whoever configures the processing (regalkit.Processor, through Options.OptInCacheSize),
// remembers what recent optIn values gave; the package keeps no state of its own.
//
// # Validation
//
// The shape of a record as sent, its channel and its IP address, is checked by the
// module's one validator (go-playground/validator) through `validate` tags. A record on
// another channel is refused with optin.unknown_channel (Rule C1); an own IP that is
// not an IP address is left out with optin.invalid; a record without a parseable
// timestamp is refused with optin.no_timestamp (Rule C3); an opt-in with no IP, its own
// or the message's context.ip, with optin.no_ip (Rule C4), while an opt-out needs none. A refusal is never an error: each problem is a diag.Diagnostic with its code and
// field path, the refused record is kept in the history (Rule C7), and the rest of the
// message goes on.
//
// # The ledger
//
// A [Ledger] is a grow-only set of records; adding the same record twice keeps it once,
// and so does the same consent re-sent by later messages (Segment re-sends cached traits):
// the copy from the earliest message stands as the evidence.
// Nothing in it depends on arrival order, because nothing derived is stored:
// [Ledger.Resolve] computes a [View] from the set and a [Binder]. A record without an
// address applies to the phone primary at its message's time, else to the first phone
// the contact ever gets, and is pending until then (Rule C5; [BindPrimary]). Per address
// and channel the record with the newest consent timestamp decides; at equal timestamps
// the opt-out does (Rule C6). Every record's outcome (applied, superseded, refused with
// its code, pending) is derived the same way (Rule C7).
//
// # States
//
// [View.State] gives [StateSubscribed], [StateUnsubscribed] or [StateNone] per address
// and channel (Rule C9).
//
// # Opt-in events
//
// [Events] turns configured track events into records, dated by the event, with the
// context.ip as evidence and the event name as source (Rule C8).
//
// # Merging
//
// When two contacts merge (Rule I3), [Ledger.Merge] unites their ledgers: the result is
// the same as applying both histories' records in any order.
//
// # Keyword replies and shared phones
//
// [ClassifyKeyword] reads an inbound text: STOP and the other revocation words, START
// and UNSTOP, or a longer message that only contains a revocation word (RULES.md
// G5, G6). [KeywordRecords] makes the consent records of a reply, with the message as
// evidence (source [SourceSMSKeyword]); [Ledger.SetKeywordRecords] replaces a ledger's
// keyword records, which the processor derives from the contact's phones (G7). [Across]
// applies Rule C6 to a phone shared by several contacts (G1).
//
// # Export
//
// [View.OptIns] gives a phone's "optIns" object and [View.History] the "consentHistory"
// list of the contact export (RULES.md, X), both ready for encoding/json. A [Ledger] reads
// that history back with [Ledger.UnmarshalJSON] to an equal ledger: outcomes and
// bindings are derived again, never trusted.
//
// # Privacy and safety
//
// Diagnostics, errors, and the String, GoString and LogValue methods of records,
// entries, messages and ledgers never hold a whole phone number or email address.
// Methods return copies: no caller can change a ledger or view through a slice or map it
// got from one. No input makes the package panic.
package optin
