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
