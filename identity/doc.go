// Package identity names the people regalkit keeps contacts for: identifier keys, phone
// numbers validated with libphonenumber, and normalized email addresses.
//
// It imports only package diag of the SDK's own packages (and internal helpers): the
// processor, the stores and the guard build on it.
//
//	pn, err := identity.ParsePhone("(954) 555-2399", "US") // pn.E164 == "+19545552399"
//	cs, err := store.Find(ctx, identity.PhoneKey(pn.E164))  // a contact.Store
//	slog.Info("found", "key", identity.PhoneKey(pn.E164))   // logged masked
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
// accepts it only when it is valid by libphonenumber's data, not just possible (Rule
// T8): the check runs this package's own code over that data (the metadata of
// github.com/nyaruka/phonenumbers), tested to give libphonenumber's answers. The
// result is E.164 and the number's region. A refusal is a [*PhoneError] that says why
// ([PhoneReason]), matches [ErrInvalidPhone], unwraps to libphonenumber's own error when
// there is one, and shows no more than the input's last four digits.
//
// Segment re-sends cached traits with every identify, so the same phone strings arrive
// again and again. A [PhoneParser] keeps results, valid and invalid, in a bounded cache
// that takes no lock: a hit costs a hash and a comparison, and allocates nothing.
//
// # Emails
//
// [NormalizeEmail] trims an address, checks its syntax and lowercases its domain, keeping
// the local part as written (Rule T7). Its error, an [*EmailError] matching
// [ErrInvalidEmail], never holds the local part.
//
// # Resolution
//
// [Decide] is the pure decision of who a message with a userId or an anonymousId
// belongs to (Rules I1–I4), given [Facts]: what its identifiers resolve to. It says
// whether to attach the message to an existing contact or create one, and which [Link]
// the message makes. [Owner] settles a shared anonymous ID (Rule I4): an anonymous-only
// message belongs to the userId linked most recently at or before it, and a message
// older than every link to the earliest-linked userId. [Group] decides aliases (Rule
// I5). Each depends only on its inputs, never on the order messages arrived in; the
// root Processor gathers the facts and carries the decision out in one store
// transaction.
//
// # Aliases and deletes in any order
//
// Segment delivers out of order, so regalkit never decides an alias or a delete by what
// happens to have arrived. These rules predict the outcome from the set of messages
// alone ("before" is by event time, then messageId):
//
//  1. An alias (previousId P, userId U, at time t) is a fact, "P is U since t", kept
//     whether or not P's messages have arrived. An alias with P == U changes nothing.
//  2. The aliases that name a userId are decided together, in the order they happened
//     ([Group]): an alias is a conflict (diagnostic identity.conflict; it changes
//     nothing) when both P's and U's sides have a message under their own userId that
//     happened before it, or when an earlier alias already made P another userId's;
//     otherwise P joins U's contact. A late message can turn a joining alias into a
//     conflict; P's messages then leave U's contact again, as a contact of their own.
//  3. When P joins U, every message with userId P, before or after the alias, lands on
//     U's contact; P stays a lookup key of it (a former External ID: Find(UserKey(P))
//     and the export's formerUserIds), and nothing is left under P. An anonymous-only
//     message with anonymousId P belongs to U as if P had been linked to U at t (Rule
//     I3).
//  4. A delete of userId X at time d (Rule I7) removes what messages under X said
//     before d, and the anonymous-only messages that belong to X and happened before d.
//     What happened after d stays, whatever arrived first. A link or a consent record
//     sent both before and after d survives, counted from its latest sending: the
//     earliest sending after d cannot be known when the delete arrives last. An
//     anonymous-only message that belongs to X's time before d is kept out of sight,
//     so that a late link can still hand it to another user. A delete touches only X's
//     messages: the other userIds an alias joined to the contact keep theirs. X's own
//     aliases (userId X) from before d go, as X's messages do. The links X's messages
//     made before d go, but still decide who owns their anonymous IDs' messages from
//     before d ([Facts].Ghosts): those they give X stay out of sight (RULES.md, I7).
//
// Two examples. An alias {previousId old-3, userId u3} that arrives before old-3's
// identify and track makes, in every order, one contact u3 with old-3's phone and
// event and old-3 as a former External ID. And with identifies of (u2, a2) at 12:01
// and 12:05, a delete of u2 at 12:03 and a page of a2 alone at 12:06, every order ends
// with u2's fresh contact holding the 12:05 traits, the link to a2 and the page, and
// nothing of 12:01.
//
// # Masking
//
// [MaskPhone] and [MaskEmail] hide all but a phone's last four digits and an email's
// domain. Every error and diagnostic in regalkit that mentions a phone or an email uses
// them.
package identity
