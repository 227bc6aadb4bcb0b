package memstore

import (
	"context"
	"iter"
	"strings"

	"github.com/regalkit/regalkit/contact"
)

// nameAdd adds ev to the stripe's index by event name.
func (s *stripe) nameAdd(ev *storedEvent) {
	l := s.named[ev.name()]
	if l == nil {
		if s.named == nil {
			s.named = make(map[string]*eventList)
		}
		l = &eventList{}
		// A copy of the name, so that the key keeps no record's bytes alive.
		s.named[strings.Clone(ev.name())] = l
	}
	l.insert(ev, byTimelineOrder)
}

// nameRemove removes ev from the stripe's index by event name, and the name when no
// event has it any more.
func (s *stripe) nameRemove(ev *storedEvent) {
	l := s.named[ev.name()]
	if l == nil {
		return
	}
	l.remove(ev, byTimelineOrder)
	if l.chunks == nil {
		delete(s.named, ev.name())
	}
}

// Named implements contact.Store. It read-locks every stripe while it gathers, from
// each stripe's index by name, the records in q's time range; then it sorts them
// (oldest first) and copies each as it is yielded. Its cost follows the records with
// the name in the range, not the events stored.
func (s *Store) Named(ctx context.Context, q contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	return yieldContactEvents(ctx, func() []heldEvent { return s.named(q) })
}

// named returns the stored events Named yields, in its order.
func (s *Store) named(q contact.EventQuery) []heldEvent {
	if q.Name == "" {
		return nil
	}
	var (
		runs   [][]keyed // one sorted run per stripe
		shared []string  // the dictionary strings the events refer to (keyed.shared)
	)
	unlock := s.rLockAll()
	for i := range s.stripes {
		if l := s.stripes[i].named[q.Name]; l != nil {
			var run []keyed
			d := &s.stripes[i].dict
			l.ascend(q.Since, q.Until, func(ev *storedEvent) bool {
				if ev.matches(&q) {
					run = append(run, keyed{ev.rec.Time.Unix(), int32(ev.rec.Time.Nanosecond()), uint32(len(shared)), ev})
					shared = d.resolve(ev, shared)
				}
				// Each run needs no more than the limit.
				return q.Limit <= 0 || len(run) < q.Limit
			})
			if len(run) > 0 {
				runs = append(runs, run)
			}
		}
	}
	unlock()
	merged := mergeRuns(runs)
	if q.Limit > 0 && len(merged) > q.Limit {
		merged = merged[:q.Limit]
	}
	out := make([]heldEvent, len(merged))
	for i, k := range merged {
		out[i] = heldEvent{ev: k.ev}
		if n := uint32(k.ev.rec.refs); n > 0 {
			out[i].shared = shared[k.shared : k.shared+n : k.shared+n]
		}
	}
	return out
}

// keyed is a stored event with its time (Unix seconds and nanoseconds, exact for any
// time), so that merging compares integers side by side in memory rather than following
// a pointer per comparison.
type keyed struct {
	sec  int64
	nsec int32
	// shared is where the dictionary strings the event refers to start in the
	// strings named gathered (resolved under the stripe's lock; copyRecord takes as
	// many as the event refers to).
	shared uint32
	ev     *storedEvent
}

func (a keyed) before(b keyed) bool {
	switch {
	case a.sec != b.sec:
		return a.sec < b.sec
	case a.nsec != b.nsec:
		return a.nsec < b.nsec
	}
	return byTimelineOrder(a.ev, b.ev) < 0
}

// mergeRuns merges runs sorted in byTimelineOrder into one, pairwise: a pass per
// doubling, fewer comparisons than sorting them together.
func mergeRuns(runs [][]keyed) []keyed {
	for len(runs) > 1 {
		merged := runs[:0]
		for i := 0; i < len(runs); i += 2 {
			if i+1 == len(runs) {
				merged = append(merged, runs[i])
				break
			}
			merged = append(merged, merge(runs[i], runs[i+1]))
		}
		runs = merged
	}
	if len(runs) == 0 {
		return nil
	}
	return runs[0]
}

func merge(a, b []keyed) []keyed {
	out := make([]keyed, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].before(a[0]) {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}
