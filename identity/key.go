package identity

import "log/slog"

// Kind is the kind of an identifier a contact can be found by (Rule I6).
type Kind uint8

// The identifier kinds. The zero Kind is invalid.
const (
	UserID      Kind = iota + 1 // Segment userId: the contact's External ID (Rule I1)
	AnonymousID                 // Segment anonymousId (Rule I2)
	Phone                       // a phone number in E.164 (Rule T8)
	Email                       // a normalized email address (Rule T7)
	// DeletedUserID is a deleted user's userId, by which the contact that keeps the
	// links the user's messages made before the delete is found (Rule I7; see
	// contact.Contact.Hidden).
	DeletedUserID
)

var kindNames = [...]string{"invalid", "userId", "anonymousId", "phone", "email", "deletedUserId"}

// String returns the kind's name as Segment spells it: "userId", "anonymousId", "phone"
// or "email"; "deletedUserId" for DeletedUserID.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return kindNames[0]
}

// Key is one identifier of a contact: its kind and its value. Keys are comparable and
// serve as map keys. A phone key's value is E.164 and an email key's value is
// normalized (see [NormalizeEmail]); the constructors do not check this.
type Key struct {
	Kind  Kind
	Value string
}

// UserKey returns the key of a Segment userId.
func UserKey(userID string) Key { return Key{UserID, userID} }

// AnonymousKey returns the key of a Segment anonymousId.
func AnonymousKey(anonymousID string) Key { return Key{AnonymousID, anonymousID} }

// PhoneKey returns the key of a phone number already in E.164.
func PhoneKey(e164 string) Key { return Key{Phone, e164} }

// EmailKey returns the key of an already normalized email address.
func EmailKey(email string) Key { return Key{Email, email} }

// DeletedUserKey returns the key of a deleted user's userId (see DeletedUserID).
func DeletedUserKey(userID string) Key { return Key{DeletedUserID, userID} }

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return k == Key{} }

// String returns "kind:value" with phone numbers and email addresses masked (see
// [MaskPhone] and [MaskEmail]), so a Key can be printed and logged safely.
func (k Key) String() string {
	return k.Kind.String() + ":" + k.masked()
}

// LogValue makes a Key log as its masked String in log/slog.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

func (k Key) masked() string {
	switch k.Kind {
	case Phone:
		return MaskPhone(k.Value)
	case Email:
		return MaskEmail(k.Value)
	}
	return k.Value
}

// IsE164 reports whether s has the shape of an E.164 number, as [ParsePhone] writes
// every number it accepts: "+", then up to 15 digits, the first not 0. It checks the
// shape only, not that the number is valid: for data already parsed once (a store's,
// a Regal body's), which must not be refused for rules that changed since.
func IsE164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
