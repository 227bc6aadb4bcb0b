package regalkit

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/trigger"
)

// Evaluate yields the contacts of store due for t at now (Rules J2, J3): those whose
// events as of now hold them in the trigger (see [trigger.Trigger.Enters]), whose
// entry is due at or before now, and who meet t's requirements as they are now. Each
// comes with the entry event that holds it and the time it became due. They come in
// the order of their first event with the entry event's name as of now, whether or
// not it meets the entry's kind and conditions (by time, messageId, then contact id):
// the same order for the same store and now. Sort by DueAt for a schedule.
//
// It reads the store through [contact.Store.Named]: the entry events up to now, then
// the exit events from the first entry on, so its cost follows the events with the
// trigger's names, not every event stored. Those reads and the contacts it reads are
// each a committed state, not necessarily the same one. The answer depends on the
// events the store holds and on now, never on the order they arrived in: evaluating
// twice at the same now over the same store gives the same answer. An invalid trigger
// yields its error (a *trigger.FieldError) and nothing else; so do a store's errors
// and ctx's.
func Evaluate(ctx context.Context, store contact.Store, t *trigger.Trigger, now time.Time) iter.Seq2[trigger.Due, error] {
	return func(yield func(trigger.Due, error) bool) {
		if err := t.Validate(); err != nil {
			yield(trigger.Due{}, err)
			return
		}
		groups, err := triggerEvents(ctx, store, t, now)
		if err != nil {
			yield(trigger.Due{}, err)
			return
		}
		for _, g := range groups {
			id := g.id
			m, ok := t.Enters(g.events, now)
			if !ok || m.DueAt.After(now) {
				continue
			}
			c, err := store.Contact(ctx, id)
			switch {
			case errors.Is(err, contact.ErrNotFound):
				continue // deleted since its events were read
			case err != nil:
				yield(trigger.Due{}, err)
				return
			}
			if !t.Require.Admits(c) {
				continue
			}
			if !yield(trigger.Due{ContactID: id, UserID: c.UserID(), Match: m}, nil) {
				return
			}
		}
	}
}

// contactEvents are the events of one contact.
type contactEvents struct {
	id     string
	events []event.Record
}

// triggerEvents reads the events t looks at, as of now, by contact: the entry events,
// and for the contacts that have one, the exit events from the earliest entry on.
func triggerEvents(ctx context.Context, store contact.Store, t *trigger.Trigger, now time.Time) ([]contactEvents, error) {
	until := now.Add(time.Nanosecond) // Named's Until is exclusive; now is included
	index := map[string]int{}         // contact id -> its place in groups
	var groups []contactEvents
	var first time.Time
	for ce, err := range store.Named(ctx, contact.EventQuery{Name: t.Entry.Event, Until: until}) {
		if err != nil {
			return nil, err
		}
		if first.IsZero() {
			first = ce.Record.Time
		}
		i, ok := index[ce.ContactID]
		if !ok {
			i = len(groups)
			index[ce.ContactID] = i
			groups = append(groups, contactEvents{id: ce.ContactID})
		}
		groups[i].events = append(groups[i].events, ce.Record)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	for _, name := range t.Names()[1:] {
		for ce, err := range store.Named(ctx, contact.EventQuery{Name: name, Since: first, Until: until}) {
			if err != nil {
				return nil, err
			}
			if i, ok := index[ce.ContactID]; ok {
				groups[i].events = append(groups[i].events, ce.Record)
			}
		}
	}
	return groups, nil
}
