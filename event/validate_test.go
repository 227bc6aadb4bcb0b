package event

import (
	"errors"
	"strings"
	"testing"

	"github.com/regalkit/regalkit/diag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidate_RuleD6 checks each kind's requirements.
func TestValidate_RuleD6(t *testing.T) {
	tests := []struct {
		name  string
		m     Message
		code  diag.Code // "" for valid
		field string
	}{
		{"identify with userId", Message{Kind: Identify, UserID: "u"}, "", ""},
		{"identify with anonymousId", Message{Kind: Identify, AnonymousID: "a"}, "", ""},
		{"identify without identity", Message{Kind: Identify}, diag.MessageNoIdentity, "userId"},
		{"track", Message{Kind: Track, UserID: "u", Event: "Signed Up"}, "", ""},
		{"track without event", Message{Kind: Track, UserID: "u"}, diag.MessageNoEvent, "event"},
		{"track without identity", Message{Kind: Track, Event: "x", Context: Context{Traits: Object{{Key: "userId"}}}}, diag.MessageNoIdentity, "userId"},
		{"page", Message{Kind: Page, AnonymousID: "a"}, "", ""},
		{"screen without identity", Message{Kind: Screen, Name: "Home"}, diag.MessageNoIdentity, "userId"},
		{"group", Message{Kind: Group, UserID: "u", GroupID: "g"}, "", ""},
		{"group without groupId", Message{Kind: Group, UserID: "u"}, diag.MessageNoGroup, "groupId"},
		{"group without identity", Message{Kind: Group, GroupID: "g"}, diag.MessageNoIdentity, "userId"},
		{"alias", Message{Kind: Alias, UserID: "u", PreviousID: "p"}, "", ""},
		{"alias without previousId", Message{Kind: Alias, UserID: "u", AnonymousID: "a"}, diag.MessageNoPreviousID, "previousId"},
		{"alias without userId", Message{Kind: Alias, PreviousID: "p"}, diag.MessageNoUserID, "userId"},
		{"delete", Message{Kind: Delete, UserID: "u"}, "", ""},
		{"delete with anonymousId only", Message{Kind: Delete, AnonymousID: "a"}, diag.MessageNoUserID, "userId"},
		{"no kind", Message{UserID: "u"}, diag.MessageUnsupportedType, "type"},
		{"messageId of 100", Message{Kind: Identify, UserID: "u", MessageID: strings.Repeat("x", 100)}, "", ""},
		{"messageId of 100 runes", Message{Kind: Identify, UserID: "u", MessageID: strings.Repeat("é", 100)}, "", ""},
		{"messageId of 101", Message{Kind: Identify, UserID: "u", MessageID: strings.Repeat("x", 101)}, diag.MessageInvalidID, "messageId"},
		{"no messageId", Message{Kind: Identify, UserID: "u"}, "", ""},
		// Identifiers are valid UTF-8, as a decoded message's are (a store writes them
		// as JSON, which has no other text).
		{"userId not UTF-8", Message{Kind: Identify, UserID: "u\xff"}, diag.MessageInvalid, "userId"},
		{"anonymousId not UTF-8", Message{Kind: Track, Event: "E", AnonymousID: "a\xff"}, diag.MessageInvalid, "anonymousId"},
		{"messageId not UTF-8", Message{Kind: Identify, UserID: "u", MessageID: "m\xfe"}, diag.MessageInvalid, "messageId"},
		{"previousId not UTF-8", Message{Kind: Alias, UserID: "u", PreviousID: "p\xff"}, diag.MessageInvalid, "previousId"},
		{"groupId not UTF-8", Message{Kind: Group, UserID: "u", GroupID: "g\xff"}, diag.MessageInvalid, "groupId"},
		// Identifiers and names a database index can hold (MaxIDBytes, MaxNameBytes).
		{"userId of 1024 bytes", Message{Kind: Identify, UserID: strings.Repeat("u", 1024)}, "", ""},
		{"userId of 1025 bytes", Message{Kind: Identify, UserID: strings.Repeat("u", 1025)}, diag.MessageInvalidID, "userId"},
		{"anonymousId of 1025 bytes", Message{Kind: Page, AnonymousID: strings.Repeat("é", 513)}, diag.MessageInvalidID, "anonymousId"},
		{"previousId of 1025 bytes", Message{Kind: Alias, UserID: "u", PreviousID: strings.Repeat("p", 1025)}, diag.MessageInvalidID, "previousId"},
		{"groupId of 1025 bytes", Message{Kind: Group, UserID: "u", GroupID: strings.Repeat("g", 1025)}, diag.MessageInvalidID, "groupId"},
		{"event of 1024 bytes", Message{Kind: Track, UserID: "u", Event: strings.Repeat("e", 1024)}, "", ""},
		{"event of 1025 bytes", Message{Kind: Track, UserID: "u", Event: strings.Repeat("e", 1025)}, diag.MessageInvalid, "event"},
		{"page name of 1025 bytes", Message{Kind: Page, UserID: "u", Name: strings.Repeat("n", 1025)}, diag.MessageInvalid, "name"},
		{"identify's name is no record's", Message{Kind: Identify, UserID: "u", Name: strings.Repeat("n", 1025)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.code == "" {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, tt.code, ve.Code)
			assert.Equal(t, tt.field, ve.Field)
			assert.Contains(t, err.Error(), string(tt.code))
			d := ve.Diagnostic("m1")
			assert.Equal(t, diag.Diagnostic{MessageID: "m1", Code: tt.code, Field: tt.field, Message: err.Error()}, d)
		})
	}
}

func TestValidationError_message(t *testing.T) {
	err := (&Message{Kind: Track, UserID: "u"}).Validate()
	assert.EqualError(t, err, "event: invalid track message: needs a non-empty event name (message.no_event)")
}
