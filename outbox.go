package regalkit

import (
	"bytes"
	"errors"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/regalio"
)

// This file writes the outbox entries of a message (Options.Outbox, Rule O1), in the message's
// own transaction, so that a change is never committed without its entry, nor an entry
// without its change. A duplicate message returns before it gets here (Rule E2) and
// adds nothing.

// outboxState is what a transaction keeps for its outbox entries.
type outboxState struct {
	before map[string][]byte     // by contact id: its Regal body when first read
	added  map[string]addedEvent // by messageId: each event added, and its contact
}

// addedEvent is an event the transaction added, and the contact it was added to.
type addedEvent struct {
	contactID string
	rec       event.Record
}

// regalBody is what Regal holds of a contact: its Events API body without an event
// (Rule R1).
func regalBody(c *contactcore.Contact) []byte {
	rc, _ := regalio.FromContact(stored(c))
	b, _ := regalio.Encode(rc, nil)
	return b
}

// emptyBody is the body of a contact Regal holds nothing of.
var emptyBody, _ = regalio.Encode(regalio.Contact{}, nil)

// snapshot keeps the Regal body of a contact as first read, to tell at the end whether
// the message changed it.
func (t *txn) snapshot(c *contactcore.Contact) {
	if !t.p.opts.Outbox || c.CreatedAt().IsZero() {
		return // a contact this transaction creates: enqueue compares it with emptyBody
	}
	if t.outbox.before == nil {
		t.outbox.before = map[string][]byte{}
	}
	t.outbox.before[c.ID()] = regalBody(c)
}

// noteEvent remembers an event added, and the contact it was added to.
func (t *txn) noteEvent(c *contactcore.Contact, rec event.Record) {
	if !t.p.opts.Outbox {
		return
	}
	if t.outbox.added == nil {
		t.outbox.added = map[string]addedEvent{}
	}
	t.outbox.added[rec.MessageID] = addedEvent{contactID: c.ID(), rec: rec}
}

// errNoOutboxTx is the error of a message processed with Options.Outbox on a store
// whose transaction does not implement contact.OutboxTx.
var errNoOutboxTx = errors.New("regalkit: Options.Outbox is on, but the store's transaction does not implement contact.OutboxTx " +
	"(a wrapper of the store's Update must pass on the store's own Tx, or one with its Enqueue): the message was not applied")

// enqueue adds an outbox entry for each contact whose Regal body the message changed,
// and for the contact on which it recorded its own track event, with that event. Events
// of other messages that the message moved between contacts (Rules I3, I4) are not sent
// again. A message Regal itself reported (Rule R5) is not sent back to it.
func (t *txn) enqueue(m *event.Message) error {
	if !t.p.opts.Outbox || regalio.IsRegal(m) {
		return nil
	}
	var ev *event.Record
	if a, recorded := t.outbox.added[m.MessageID]; recorded && a.rec.Kind == event.Track {
		ev = &a.rec
	}
	return t.enqueueChanges(m.MessageID, ev)
}

// enqueueChanges enqueues every contact whose Regal body the transaction changed, with
// ev, the event the message recorded (nil for none), on the contact that recorded it.
// A phone's keyword register (Rule G7) has neither userId nor phones, so its body
// stays empty and it is never sent.
func (t *txn) enqueueChanges(messageID string, ev *event.Record) error {
	if !t.p.opts.Outbox {
		return nil
	}
	otx, ok := t.raw.(contact.OutboxTx)
	if !ok {
		// New checks the store; a wrapper of its Update can still hide the Tx's
		// Enqueue. The message then fails whole rather than commit without its entries
		// (Rule O1).
		return errNoOutboxTx
	}
	eventOn := t.outbox.added[messageID].contactID
	for _, id := range t.order { // each id once: see txn.get, create
		c, ok := t.loaded[id]
		if !ok {
			continue // deleted by the message
		}
		e := contact.OutboxEntry{ContactID: id, MessageID: messageID, Created: t.now}
		if ev != nil && id == eventOn {
			e.Event = ev
		}
		before, ok := t.outbox.before[id]
		if _, created := t.created[id]; created || !ok {
			before = emptyBody
		}
		if e.Event == nil && bytes.Equal(before, regalBody(c)) {
			continue
		}
		if err := otx.Enqueue(e); err != nil {
			return err
		}
	}
	return nil
}
