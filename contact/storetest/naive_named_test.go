package storetest

import (
	"cmp"
	"context"
	"iter"
	"slices"

	"github.com/regalkit/regalkit/contact"
)

func (s *naive) Named(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	s.mu.Lock()
	var all []contact.ContactEvent
	if q.Name != "" || s.has(faultNamedEmptyAll) {
		for id, rs := range s.state.events {
			for _, r := range rs {
				if q.Match(&r) {
					all = append(all, contact.ContactEvent{ContactID: id, Record: s.copyRecordOut(r)})
				}
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b contact.ContactEvent) int {
		c := cmp.Or(contact.CompareEvents(&a.Record, &b.Record), cmp.Compare(a.ContactID, b.ContactID))
		if s.has(faultNamedNewestFirst) {
			return -c
		}
		return c
	})
	if n := s.limit(q.Limit); n > 0 && len(all) > n {
		all = all[:n]
	}
	return seq(s, ctx, all)
}
