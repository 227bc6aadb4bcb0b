package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckJSON_RuleD1 builds messages in Go that no decoder could give: each object
// problem is refused with message.invalid naming its field, and no value is quoted.
// A message that passes writes its record as JSON.
func TestCheckJSON_RuleD1(t *testing.T) {
	secret := "ann@example.com"
	str := func(s string) []byte { b, _ := json.Marshal(s); return b }
	base := func() Message {
		return Message{Kind: Track, MessageID: "m1", UserID: "u1", Event: "Signed", Time: time.Unix(1e9, 0).UTC()}
	}
	tests := []struct {
		name   string
		change func(*Message)
		field  string // "" for valid
	}{
		{"valid", func(m *Message) {
			m.Properties = Object{{Key: "a", Value: []byte(`{"b":[1,2]}`)}}
			m.Context = Context{IP: "1.2.3.4", Extra: Object{{Key: "campaign", Value: []byte(`{}`)}}}
		}, ""},
		{"an extra ip that is not a string, as decoded", func(m *Message) {
			m.Context = Context{Extra: Object{{Key: "ip", Value: []byte(`5`)}}}
		}, ""},
		{"property key twice", func(m *Message) {
			m.Properties = Object{{Key: "email", Value: str(secret)}, {Key: "email", Value: str(secret)}}
		}, "properties"},
		{"property value not JSON", func(m *Message) {
			m.Properties = Object{{Key: "email", Value: []byte(secret)}}
		}, "properties"},
		{"property value empty", func(m *Message) { m.Properties = Object{{Key: "a"}} }, "properties"},
		{"nested key twice", func(m *Message) {
			m.Properties = Object{{Key: "a", Value: []byte(`{"b":1,"b":2}`)}}
		}, "properties"},
		{"property key not UTF-8", func(m *Message) {
			m.Properties = Object{{Key: "\xff", Value: []byte(`1`)}}
		}, "properties"},
		{"trait value not JSON", func(m *Message) {
			m.Kind, m.Event = Identify, ""
			m.Traits = Object{{Key: "plan", Value: []byte(`{`)}}
		}, "traits"},
		{"integrations key twice", func(m *Message) {
			m.Integrations = Object{{Key: "All", Value: []byte(`true`)}, {Key: "All", Value: []byte(`false`)}}
		}, "integrations"},
		{"extra value not JSON", func(m *Message) { m.Extra = Object{{Key: "x", Value: []byte(`nul`)}} }, "extra"},
		{"context ip twice", func(m *Message) {
			m.Context = Context{IP: "1.2.3.4", Extra: Object{{Key: "ip", Value: str("5.6.7.8")}}}
		}, "context"},
		{"context traits twice", func(m *Message) {
			m.Context = Context{Traits: Object{}, Extra: Object{{Key: "traits", Value: []byte(`{}`)}}}
		}, "context"},
		{"context extra key twice", func(m *Message) {
			m.Context = Context{Extra: Object{{Key: "os", Value: []byte(`1`)}, {Key: "os", Value: []byte(`2`)}}}
		}, "context"},
		{"library name twice", func(m *Message) {
			m.Context = Context{Library: Library{Name: "x", Extra: Object{{Key: "name", Value: str("y")}}}}
		}, "context"},
		{"page url twice", func(m *Message) {
			m.Context = Context{Page: WebPage{URL: "https://a", Extra: Object{{Key: "url", Value: str("https://b")}}}}
		}, "context"},
		{"context trait not JSON", func(m *Message) {
			m.Context = Context{Traits: Object{{Key: "email", Value: []byte(secret)}}}
		}, "context"},
		{"user agent not UTF-8", func(m *Message) { m.Context = Context{UserAgent: "a\xffb"} }, "context"},
		{"page title not UTF-8", func(m *Message) { m.Context = Context{Page: WebPage{Title: "\xc3"}} }, "context"},
		{"event name not UTF-8", func(m *Message) { m.Event = "Signed\xff" }, "event"},
		{"category not UTF-8", func(m *Message) {
			m.Kind, m.Event, m.Name, m.Category = Page, "", "Home", "\xff"
		}, "category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(&m)
			err := m.CheckJSON()
			if tt.field == "" {
				require.NoError(t, err)
				rec, ok := m.Record()
				require.True(t, ok)
				_, err := json.Marshal(&rec)
				require.NoError(t, err, "a message that passes writes its record")
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, diag.MessageInvalid, ve.Code)
			assert.Equal(t, tt.field, ve.Field)
			assert.NotContains(t, err.Error(), secret)
			assert.True(t, strings.Contains(err.Error(), "message: "+tt.field+": "), err.Error())
		})
	}
}
