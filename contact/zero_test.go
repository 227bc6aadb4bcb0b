package contact_test

import (
	"encoding/json"
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

// TestContact_zeroValue: the zero Contact, and one made by New, is an empty contact
// every read works on: nothing set, no key, subscribed to nothing, and an export and a
// storage document that read back.
func TestContact_zeroValue(t *testing.T) {
	for name, c := range map[string]*contact.Contact{"zero": new(contact.Contact), "New": contact.New("c1")} {
		if c.FirstName() != "" || c.LastName() != "" || c.Email() != "" || c.Gender() != "" || c.TimeZone() != "" ||
			c.Phone() != "" || len(c.Phones()) != 0 || c.PhoneLabel("+19545552399") != "" || c.InAudience() ||
			len(c.CustomKeys()) != 0 || !c.Address().IsZero() || c.Consent().Len() != 0 {
			t.Errorf("%s: a field is set on an empty contact", name)
		}
		if _, ok := c.Age(); ok {
			t.Errorf("%s: Age is known", name)
		}
		if _, ok := c.Custom("plan"); ok {
			t.Errorf("%s: a custom property is set", name)
		}
		if c.HasKey(identity.EmailKey("a@example.com")) || len(c.Keys()) != 0 {
			t.Errorf("%s: an empty contact has keys %v", name, c.Keys())
		}
		if got := c.Subscription(optin.SMS); got != optin.StateNone {
			t.Errorf("%s: SMS subscription %v, want none", name, got)
		}
		if !c.IsEmpty() {
			t.Errorf("%s: not empty", name)
		}
		b, err := json.Marshal(c.Clone())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var back contact.Contact
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: the export %s does not read back: %v", name, b, err)
		}
		doc, err := contact.EncodeStorage(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := contact.DecodeStorage(doc); err != nil {
			t.Fatalf("%s: the storage document does not read back: %v", name, err)
		}
	}
}
