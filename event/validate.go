package event

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/internal/timestamp"
)

// ErrInvalid is the sentinel every [*ValidationError] unwraps to.
var ErrInvalid = errors.New("event: invalid message")

// MaxMessageIDLength is the longest messageId accepted, in characters (Rule D6).
const MaxMessageIDLength = 100

// MaxIDBytes is the longest userId, anonymousId, previousId or groupId accepted, and
// MaxNameBytes the longest event, page or screen name, in bytes (Rule D6). Segment sets
// no such limit below its 32 KB a message; these keep every identifier and name within
// what a database index holds (PostgreSQL's btree refuses an entry over about 2.7 KB),
// so that a message no store could keep is refused with a diagnostic, the same way on
// every store, rather than failing its whole delivery with a store error.
const (
	MaxIDBytes   = 1024
	MaxNameBytes = 1024
)

// MessageIDTooLong reports whether id is over MaxMessageIDLength characters (Rule D6),
// counting characters only when its bytes are more.
func MessageIDTooLong(id string) bool {
	return len(id) > MaxMessageIDLength && utf8.RuneCountInString(id) > MaxMessageIDLength
}

// ValidationError is a message that breaks Rule D6 (or has no valid kind, Rule D2). It
// never quotes the message's values.
type ValidationError struct {
	Kind  Kind      // the message's kind; zero when it has none
	Code  diag.Code // why, such as diag.MessageNoIdentity
	Field string    // the field at fault, such as "userId"; empty for the whole message

	reason string // what is wrong, when the code alone does not say it
}

var validationReasons = map[diag.Code]string{
	diag.MessageUnsupportedType: "not one of the seven message types (identify, track, page, screen, group, alias, delete)",
	diag.MessageInvalidID:       "messageId longer than 100 characters",
	diag.MessageNoIdentity:      "needs a userId or an anonymousId",
	diag.MessageNoEvent:         "needs a non-empty event name",
	diag.MessageNoGroup:         "needs a groupId",
	diag.MessageNoPreviousID:    "needs a previousId",
	diag.MessageNoUserID:        "needs a userId",
	diag.TimestampInvalid:       "time outside the years 1677 to 2262",
	diag.MessageInvalid:         "an identifier that is not valid UTF-8",
}

// Error names the kind, the rule broken and its code; it quotes no value.
func (e *ValidationError) Error() string {
	reason := e.reason
	if reason == "" {
		reason = validationReasons[e.Code]
	}
	kind := e.Kind.String() + " "
	if !e.Kind.Valid() {
		kind = ""
	}
	return "event: invalid " + kind + "message: " + reason + " (" + string(e.Code) + ")"
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate checks the message against Rule D6 and returns the first rule it breaks as a
// [*ValidationError], or nil:
//
//   - the kind is one of the seven (Rule D2);
//   - messageId is at most 100 characters (message.invalid_id);
//   - every kind but alias and delete has a userId or an anonymousId
//     (message.no_identity);
//   - track has a non-empty event (message.no_event);
//   - group has a groupId (message.no_group);
//   - alias has a userId and a previousId (message.no_user_id, message.no_previous_id);
//   - delete has a userId (message.no_user_id);
//   - Time, when set, is within the years of Rule D4 (timestamp.invalid): a message
//     built in Go may carry any time.Time, a decoded one only those;
//   - messageId, userId, anonymousId, previousId and groupId are valid UTF-8
//     (message.invalid), as a decoded message's always are;
//   - userId, anonymousId, previousId and groupId are at most MaxIDBytes
//     (message.invalid_id), and the event (track) or name (page, screen) at most
//     MaxNameBytes (message.invalid).
//
// An empty messageId is valid: the processor derives one (see [DeriveMessageID]).
// Validate does not look inside the message's objects: [Message.CheckJSON] does.
// What each kind requires is in the one table of kinds, beside the Kind constants.
// Validate reads it rather than running a struct validator: it runs once per message
// on the hot path.
func (m *Message) Validate() error {
	fail := func(code diag.Code, field string) error {
		return &ValidationError{Kind: m.Kind, Code: code, Field: field}
	}
	if !m.Kind.Valid() {
		return fail(diag.MessageUnsupportedType, "type")
	}
	if MessageIDTooLong(m.MessageID) {
		return fail(diag.MessageInvalidID, "messageId")
	}
	if !m.Time.IsZero() && !timestamp.InRange(m.Time) {
		return fail(diag.TimestampInvalid, "timestamp")
	}
	// Identifiers are text (Rule D6): a decoded message's always are, and a message
	// built in Go with invalid UTF-8 in one would name one contact in memory and
	// another once a store wrote it as JSON.
	for _, id := range [...]struct{ name, value string }{
		{"messageId", m.MessageID}, {"userId", m.UserID}, {"anonymousId", m.AnonymousID},
		{"previousId", m.PreviousID}, {"groupId", m.GroupID},
	} {
		if !utf8.ValidString(id.value) {
			return fail(diag.MessageInvalid, id.name)
		}
		if len(id.value) > MaxIDBytes && id.name != "messageId" {
			return &ValidationError{Kind: m.Kind, Code: diag.MessageInvalidID, Field: id.name,
				reason: id.name + " longer than " + strconv.Itoa(MaxIDBytes) + " bytes"}
		}
	}
	if name, field := m.recordName(); len(name) > MaxNameBytes {
		return &ValidationError{Kind: m.Kind, Code: diag.MessageInvalid, Field: field,
			reason: field + " longer than " + strconv.Itoa(MaxNameBytes) + " bytes"}
	}
	k := &kinds[m.Kind]
	if k.identity && m.UserID == "" && m.AnonymousID == "" {
		return fail(diag.MessageNoIdentity, "userId")
	}
	for _, f := range k.needs {
		if f.field.of(m) == "" {
			return fail(f.code, f.field.name())
		}
	}
	return nil
}

// recordName returns the name the message's event record would have, and its field.
func (m *Message) recordName() (string, string) {
	switch m.Kind {
	case Track:
		return m.Event, "event"
	case Page, Screen:
		return m.Name, "name"
	}
	return "", ""
}

// Diagnostic returns the error as a diagnostic about the message with the given ID.
func (e *ValidationError) Diagnostic(messageID string) diag.Diagnostic {
	return diag.Diagnostic{MessageID: messageID, Code: e.Code, Field: e.Field, Message: e.Error()}
}
