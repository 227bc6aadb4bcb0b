// Package trigger holds journey triggers: "contacts who did A, and not B within T, are
// due for a call D after A" (Rules J1–J5 in RULES.md). Regal's Segment guide gives the
// reason to send track events at all: to call a user "for whom a 'Loan Application
// Approved' event has been received, but not a 'Loan Signed' event".
//
// The package is pure: a [Trigger] is a value, built in Go or decoded from JSON
// ([Decode]), and [Trigger.State] decides over a contact and the events it is given,
// with no I/O. Listing the due contacts of a whole store is regalkit.Evaluate; the
// Processor reports, per message, the triggers a contact entered or left
// (regalkit.Options.Triggers).
//
// # Sections
//
//   - The trigger value and its JSON form: [Trigger], [Decode], [FieldError].
//   - The decision: [Trigger.Enters] (events), [Require.Admits] (the contact),
//     [Trigger.State] (both).
//
// # Order independence
//
// The decision is a function of the set of events a contact has, never of the order
// they arrived in (Rules S3 and J5): an exit that arrives late but happened inside its
// window cancels the entry; an entry that arrives late is due at its own time plus the
// delay; a re-delivered event changes nothing; the same events and the same now give
// the same answer.
package trigger
