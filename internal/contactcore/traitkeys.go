package contactcore

import (
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
)

// TraitKeys returns the phone and email keys an identify message's traits carry, as
// the contact would store them (Rules T7–T9): the phones first, then the email. A
// processor that matches messages by phone or email (Rule I6) looks contacts up by
// them. Other kinds carry none.
func TraitKeys(m *event.Message, opts *ApplyOptions) []identity.Key {
	var s state
	s.applyTraits(m, opts)
	var keys []identity.Key
	if p := s.phones.primary(); p != "" {
		keys = append(keys, identity.PhoneKey(p))
	}
	for _, mb := range s.phones.members {
		if mb.member.val != "" && mb.phone != s.phones.primary() {
			keys = append(keys, identity.PhoneKey(mb.phone))
		}
	}
	if e := s.fields[fieldEmail].val; e != "" {
		keys = append(keys, identity.EmailKey(e))
	}
	return keys
}
