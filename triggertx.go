package regalkit

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/trigger"
)

// TriggerChange is a contact entering or leaving a trigger of Options.Triggers as one
// message is processed (Rule J4). A contact is in a trigger when [trigger.Trigger.State]
// holds it, over all its events whatever their time: the contact is then due at DueAt,
// which may be in the future. Folding a contact's changes, the one with the largest Seq
// winning, gives its state; over any now at or after its last event, [Evaluate] lists
// exactly the contacts in the trigger whose DueAt is not after now, with the same entry.
type TriggerChange struct {
	// Trigger is the trigger's name.
	Trigger string
	// ContactID is the contact that entered or left.
	ContactID string
	// Entered is true when the contact entered the trigger, or is held in it by another
	// entry than before (a late, earlier entry; an exit that cancelled the first of
	// two); false when it left (an exit, a requirement no longer met, a merge or a
	// delete).
	Entered bool
	// Match is the entry that holds the contact and when it is due; zero when it left.
	trigger.Match
	// Seq orders the changes one Processor reports for a contact: of two, the one with
	// the larger Seq was decided later. Results come in input order, which is not
	// always the order their transactions committed in: with Options.Workers above one
	// (ProcessBatch, ProcessStream), or Process called from several goroutines, two
	// messages that share no identifier may still change one contact (a stitched
	// anonymousId, an alias), the later message committing first. Fold by Seq, not by
	// arrival. Seq starts at 1 for each Processor; the changes of one result share it.
	Seq uint64
}

// triggerTx is the Tx the Processor hands its transaction when triggers are
// configured: it passes every call through, and before the first write to a contact it
// notes the contact's state in each trigger, so that the end of the transaction can
// tell what changed.
type triggerTx struct {
	contact.Tx
	triggers []*trigger.Trigger
	names    []string                  // the event names the triggers look at
	before   map[string][]triggerState // by contact id: the state before the first write
	order    []string                  // contact ids in the order first written
}

type triggerState struct {
	in bool
	m  trigger.Match
}

func (s triggerState) same(o triggerState) bool {
	return s.in == o.in && (!s.in || s.m.Entry.MessageID == o.m.Entry.MessageID && s.m.DueAt.Equal(o.m.DueAt))
}

func newTriggerTx(tx contact.Tx, triggers []*trigger.Trigger) *triggerTx {
	w := &triggerTx{Tx: tx, triggers: triggers, before: map[string][]triggerState{}}
	for _, t := range triggers {
		for _, n := range t.Names() {
			if !slices.Contains(w.names, n) {
				w.names = append(w.names, n)
			}
		}
	}
	return w
}

// states returns the contact's state in each trigger, as the transaction sees it now.
func (w *triggerTx) states(id string) ([]triggerState, error) {
	out := make([]triggerState, len(w.triggers))
	c, err := w.Tx.Contact(id)
	if errors.Is(err, contact.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var events []event.Record
	for _, n := range w.names {
		for r, err := range w.Tx.Events(id, contact.EventQuery{Name: n}) {
			if err != nil {
				return nil, err
			}
			events = append(events, r)
		}
	}
	for i, t := range w.triggers {
		out[i].m, out[i].in = t.State(c, events, time.Time{})
	}
	return out, nil
}

// note keeps the contact's states before the transaction's first write to it.
func (w *triggerTx) note(id string) error {
	if _, ok := w.before[id]; ok || id == "" {
		return nil
	}
	st, err := w.states(id)
	if err != nil {
		return err
	}
	w.before[id] = st
	w.order = append(w.order, id)
	return nil
}

// changes returns what changed for each contact written, in the order first written,
// each contact's triggers in the order of Options.Triggers.
func (w *triggerTx) changes() ([]TriggerChange, error) {
	var out []TriggerChange
	for _, id := range w.order {
		after, err := w.states(id)
		if err != nil {
			return nil, err
		}
		for i, b := range w.before[id] {
			a := after[i]
			if a.same(b) {
				continue
			}
			out = append(out, TriggerChange{Trigger: w.triggers[i].Name, ContactID: id, Entered: a.in, Match: a.m})
		}
	}
	return out, nil
}

func (w *triggerTx) Insert(c *contact.Contact) error {
	if c != nil {
		if err := w.note(c.ID()); err != nil {
			return err
		}
	}
	return w.Tx.Insert(c)
}

func (w *triggerTx) Put(c *contact.Contact) error {
	if c != nil {
		if err := w.note(c.ID()); err != nil {
			return err
		}
	}
	return w.Tx.Put(c)
}

func (w *triggerTx) Delete(id string) error {
	if err := w.note(id); err != nil {
		return err
	}
	return w.Tx.Delete(id)
}

func (w *triggerTx) AddEvent(id string, r event.Record) (bool, error) {
	if err := w.note(id); err != nil {
		return false, err
	}
	return w.Tx.AddEvent(id, r)
}

func (w *triggerTx) DeleteEvents(id string, messageIDs ...string) (int, error) {
	if err := w.note(id); err != nil {
		return 0, err
	}
	return w.Tx.DeleteEvents(id, messageIDs...)
}

// validateTriggers checks the triggers of Options (Rule J1): each valid, names unique.
func validateTriggers(ts []*trigger.Trigger) error {
	seen := map[string]bool{}
	for i, t := range ts {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("regalkit: options: triggers[%d]: %w", i, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("regalkit: options: triggers[%d]: name %q used twice", i, t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}
