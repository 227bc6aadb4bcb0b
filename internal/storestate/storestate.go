// Package storestate renders everything a contact.Store holds in a form that does not
// depend on the order messages were processed in, for the tests of Rule S3 (the same
// messages in any order, any number of times, give the same contacts) in this module
// and in contact/pgstore.
package storestate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
)

// Canonical returns every contact of s, one string each, sorted: its export with its
// events, without the store's id and the processor's times, its consent history
// sorted.
func Canonical(ctx context.Context, s contact.Store) ([]string, error) {
	var out []string
	for c, err := range s.Contacts(ctx) {
		if err != nil {
			return nil, err
		}
		var events []any
		for r, err := range s.Events(ctx, c.ID(), contact.EventQuery{}) {
			if err != nil {
				return nil, err
			}
			events = append(events, r)
		}
		b, err := json.Marshal(contact.Export{Contact: c})
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		delete(m, "id")
		delete(m, "createdAt")
		delete(m, "updatedAt")
		if h, ok := m["consentHistory"].([]any); ok {
			slices.SortFunc(h, func(a, b any) int {
				x, _ := json.Marshal(a)
				y, _ := json.Marshal(b)
				return strings.Compare(string(x), string(y))
			})
		}
		m["events"] = events
		if b, err = json.Marshal(m); err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out, nil
}

// Hidden returns the hidden contacts (contact.Contact.Hidden) that keys find, one
// string each, sorted: their storage encoding without the store's id and the
// processor's times. A Store's own reads skip hidden contacts, so Canonical does not
// show them; what they keep (the links and messages a delete keeps out of sight, Rule
// I7) must not depend on the order either, and shows once a later message moves it.
func Hidden(ctx context.Context, s contact.Store, keys []identity.Key) ([]string, error) {
	var out []string
	err := s.Update(ctx, func(tx contact.Tx) error {
		out = out[:0]
		seen := map[string]bool{}
		for _, k := range keys {
			cs, err := tx.Find(k)
			if err != nil {
				return err
			}
			for _, c := range cs {
				if !c.Hidden() || seen[c.ID()] {
					continue
				}
				seen[c.ID()] = true
				b, err := contact.EncodeStorage(c)
				if err != nil {
					return err
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					return err
				}
				delete(m, "id")
				delete(m, "createdAt")
				delete(m, "updatedAt")
				if b, err = json.Marshal(m); err != nil {
					return err
				}
				out = append(out, "hidden "+string(b))
			}
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
