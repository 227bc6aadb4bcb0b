// Package identity names the people regalkit keeps contacts for: identifier keys, phone
// numbers validated with libphonenumber, and normalized email addresses.
//
// It is the leaf of the SDK: every other package imports it, and it imports none of
// them.
//
// # Keys
//
// A contact can be found by its Segment userId (its External ID), any anonymousId
// stitched to it, any of its phones, and its email (Rule I6). A [Key] is one such
// identifier: a small comparable value, usable as a map key. Its String and LogValue
// mask phone numbers and email addresses, so keys can be logged.
//
// # Phones
//
// [ParsePhone] reads a phone number in any common format, from a string or a JSON number
// (via [PhoneInput]), in a default region ("US" unless the caller names one), and
// accepts it only when libphonenumber finds it valid, not just possible (Rule T8). The
// result is E.164 and the number's region. A refusal is a [*PhoneError] that says why
// ([PhoneReason]), matches [ErrInvalidPhone], unwraps to libphonenumber's own error when
// there is one, and shows no more than the input's last four digits.
//
// Segment re-sends cached traits with every identify, so the same phone strings arrive
// again and again. A [PhoneParser] keeps results, valid and invalid, in a bounded LRU
// cache: a hit costs a map lookup and allocates nothing.
//
// # Emails
//
// [NormalizeEmail] trims an address, checks its syntax and lowercases its domain, keeping
// the local part as written (Rule T7). Its error, an [*EmailError] matching
// [ErrInvalidEmail], never holds the local part.
//
// # Resolution
//
// [Decide] is the pure decision of who a message belongs to (Rules I1–I5), given
// [Facts]: what its userId, anonymousId and previousId resolve to. It says whether to
// attach the message to an existing contact, create one, rename one (alias), or refuse
// a conflict, and which [Link] the message makes. [Owner] settles a shared anonymous
// ID (Rule I4): an anonymous-only message belongs to the userId linked most recently
// at or before it, and a message older than every link to the earliest-linked userId.
// Both depend only on their inputs, never on the order messages arrived in; the root
// Processor gathers the facts and carries the decision out in one store transaction.
//
// # Masking
//
// [MaskPhone] and [MaskEmail] hide all but a phone's last four digits and an email's
// domain. Every error and diagnostic in regalkit that mentions a phone or an email uses
// them.
package identity
