// Package diag defines the diagnostics regalkit reports for every field it refuses.
//
// regalkit never drops input silently: a message that cannot be applied whole is applied
// in part, and each part left out comes back as a [Diagnostic] with a [Code] in the
// `area.reason` form. RULES.md at the repository root lists every code with the rule
// that produces it and what triggers it. Every package that reads input (segmentio,
// event, optin, contact, the root Processor) reports through this one type, so callers
// handle a single shape.
//
//	for _, d := range res.Diagnostics { // a regalkit.Result
//		if d.Code == diag.PhoneInvalid {
//			log.Printf("%s: %s", d.Field, d.Message) // safe to log: see Privacy
//		}
//	}
//
// # Privacy
//
// A diagnostic's Message never holds a whole phone number or email address: phones are
// masked to their last four digits and emails to their domain (see identity.MaskPhone
// and identity.MaskEmail). Its Field names a known field, or masks the keys it echoes
// from the input ([Mask]), since a key can be a phone number. Diagnostics are safe to
// log.
package diag

// Code names why a field or message was refused, in `area.reason` form.
type Code string

// The diagnostic codes. Each names the rule of RULES.md that produces it.
const (
	// MessageUnsupportedType: the message type is not one of the seven (Rule D2).
	MessageUnsupportedType Code = "message.unsupported_type"
	// MessageNoIdentity: neither userId nor anonymousId where one is needed (Rule D6).
	MessageNoIdentity Code = "message.no_identity"
	// MessageNoEvent: a track without an event name (Rule D6).
	MessageNoEvent Code = "message.no_event"
	// MessageNoGroup: a group call without groupId (Rule D6).
	MessageNoGroup Code = "message.no_group"
	// MessageNoPreviousID: an alias without previousId (Rule D6).
	MessageNoPreviousID Code = "message.no_previous_id"
	// MessageNoUserID: an alias or delete without userId (Rule D6).
	MessageNoUserID Code = "message.no_user_id"
	// MessageInvalidID: a messageId over 100 characters, or a userId, anonymousId,
	// previousId or groupId over 1,024 bytes (Rule D6).
	MessageInvalidID Code = "message.invalid_id"
	// MessageReservedID: a userId, anonymousId or previousId that names one of the
	// contacts regalkit keeps for a phone (Rule D6).
	MessageReservedID Code = "message.reserved_id"
	// MessageInvalid: the message is not valid JSON, not a JSON object, repeats a key,
	// has a field of an impossible type or both a type and a batch (Rule D1); an
	// identifier is not valid UTF-8 or escapes half a surrogate pair, or an event, page
	// or screen name is over 1,024 bytes (Rule D6); a START reply has neither a time nor
	// a messageId (Rule G8).
	MessageInvalid Code = "message.invalid"
	// MessageLimit: the message or batch breaks a size, count or depth limit, or the
	// message refused more fields than its result reports one by one (Rule D7).
	MessageLimit Code = "message.limit"
	// MessageEnvelopeKey: the message came in a batch envelope with keys that are not
	// part of its messages, which were not read (Rule D1).
	MessageEnvelopeKey Code = "message.envelope_key"
	// MessageDeleted: the message happened before its user was deleted (Rule I7).
	MessageDeleted Code = "message.deleted"
	// TimestampInvalid: a timestamp that cannot be parsed; the next source is used (Rule D4).
	TimestampInvalid Code = "timestamp.invalid"
	// TraitInvalid: a standard trait with a value of the wrong shape (Rules T4, T6).
	TraitInvalid Code = "trait.invalid"
	// TraitLimit: more than 300 traits, or a key over 255 characters (Rule T10).
	TraitLimit Code = "trait.limit"
	// EmailInvalid: an email that is not a syntactically valid address (Rule T7).
	EmailInvalid Code = "email.invalid"
	// PhoneInvalid: a phone that is not a valid number (Rule T8).
	PhoneInvalid Code = "phone.invalid"
	// OptinUnknownChannel: a consent record for a channel other than sms, voice, email (Rule C1).
	OptinUnknownChannel Code = "optin.unknown_channel"
	// OptinNoTimestamp: a consent record without a parseable timestamp (Rule C3).
	OptinNoTimestamp Code = "optin.no_timestamp"
	// OptinNoIP: a subscribing consent record without an IP address (Rule C4).
	OptinNoIP Code = "optin.no_ip"
	// OptinInvalid: a consent record of the wrong shape (Rule C2), one naming the
	// source keyword replies reserve (Rule G7), an opt-in naming no phone in a message
	// whose phone was refused (Rule C5), a Regal consent event without a userId that
	// names no phone or email (Rule R5).
	OptinInvalid Code = "optin.invalid"
	// IdentityConflict: identities that cannot be joined, or a second link of a shared
	// anonymousId (Rules I4, I5).
	IdentityConflict Code = "identity.conflict"
	// IdentityLimit: an alias that would tie more userIds or alias facts together than
	// regalkit keeps in one group (Rule I5).
	IdentityLimit Code = "identity.limit"
	// RegalUnmapped: a value the Regal Events API body has no place for, left out of
	// the body (Rule R1).
	RegalUnmapped Code = "regal.unmapped"
	// RegalInvalid: a Regal reporting-webhook event, or one of its fields, of the wrong
	// shape (Rule R3); a keyword reply from Regal with no sender (Rule G8).
	RegalInvalid Code = "regal.invalid"
	// GuardNotSubscribed: the Guard refuses a phone with no consent record on the
	// channel (Rule G1).
	GuardNotSubscribed Code = "guard.not_subscribed"
	// GuardOptedOut: the Guard refuses a phone whose deciding record, across every
	// contact with the phone, is an opt-out (Rule G1).
	GuardOptedOut Code = "guard.opted_out"
	// GuardQuietHours: the Guard refuses an instant outside the calling window of the
	// recipient's local time (Rule G2).
	GuardQuietHours Code = "guard.quiet_hours"
	// GuardUnknownZone: the Guard refuses a phone whose time zone is unknown, when no
	// fallback zone is configured (Rule G3).
	GuardUnknownZone Code = "guard.unknown_zone"
	// GuardNoCommonWindow: the phone's candidate zones have no calling hour in common
	// (Rule G3).
	GuardNoCommonWindow Code = "guard.no_common_window"
	// KeywordPossibleOptOut: an inbound SMS longer than a keyword contains a revocation
	// keyword; a person should read it (Rule G5).
	KeywordPossibleOptOut Code = "keyword.possible_opt_out"
)

// Diagnostic is one refusal: which message, which field, why, and a message for people.
type Diagnostic struct {
	// MessageID is the messageId of the message the diagnostic is about; empty when the
	// message had none and none could be derived (a payload that is not JSON), or when
	// it was refused for its length (Rule D6): it is not echoed.
	MessageID string `json:"messageId,omitempty"`
	// Code says why, in `area.reason` form.
	Code Code `json:"code"`
	// Field is the path of the refused field, such as "traits.phone" or
	// "traits.optIn[1]". A message refused whole names the field that decided it
	// ("type", "userId", "event", "messageId"); empty when no one field did (a payload
	// that is not JSON).
	Field string `json:"field,omitempty"`
	// Message explains the refusal for people. It never holds a whole phone number or
	// email address.
	Message string `json:"message"`
}

// String formats the diagnostic for logs: "code field: message".
func (d Diagnostic) String() string {
	s := string(d.Code)
	if d.Field != "" {
		s += " " + d.Field
	}
	return s + ": " + d.Message
}
