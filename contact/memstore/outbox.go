package memstore

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regalkit/regalkit/contact"
)

var (
	_ contact.Outbox   = (*Store)(nil)
	_ contact.OutboxTx = (*tx)(nil)

	errOutboxEntry = errors.New("memstore: outbox entry needs a contact id and a messageId")
)

// outbox is the store's transactional outbox: entries committed with the transactions
// that enqueued them, a queue of pending entries per contact, and counts. One mutex
// guards it all; a commit takes it after the stripe locks, and nothing takes a stripe
// lock while holding it.
//
// The first entry of each queue has an item in the heap due, keyed by when it is due
// (zero for at once, its next attempt, or the end of its lease), then Seq, so that
// Claim looks only at the entries it returns. An item is current while its gen is its
// contact's queue's; every change to a queue's first entry gives the queue a new gen
// and pushes a new item, and Claim drops the old ones as it meets them. Gens come from
// one counter of the outbox, never from the queue: a contact's queue is deleted when it
// empties and made anew by its next entry, and the old queue's items, still in the
// heap, must not be taken for the new queue's (a gen counted per queue made them so,
// and Claim then leased a settled entry again, or dereferenced an acknowledged one).
type outbox struct {
	mu      sync.Mutex
	seq     int64  // the last Seq given
	gen     uint64 // the last gen given
	claims  uint64
	entries map[int64]*contact.OutboxEntry // pending and dead entries, by Seq
	queues  map[string]*queue              // by contact id, while it has pending entries
	due     dueHeap
	sent    int
	dead    []int64 // Seqs of dead entries, ascending
}

// queue is one contact's pending entries.
type queue struct {
	seqs []int64 // ascending
	gen  uint64  // the gen of the contact's current heap item
}

// dueItem is a contact's first pending entry in the heap.
type dueItem struct {
	at      time.Time
	seq     int64
	contact string
	gen     uint64
}

type dueHeap []dueItem

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// schedule makes the heap's item for the contact's queue say that its first entry is
// due at at. The caller holds o.mu.
func (o *outbox) schedule(contactID string, q *queue, at time.Time) {
	o.gen++
	q.gen = o.gen
	heap.Push(&o.due, dueItem{at: at, seq: q.seqs[0], contact: contactID, gen: q.gen})
}

// copyEntry returns a copy of e that shares no memory with it.
func copyEntry(e *contact.OutboxEntry) contact.OutboxEntry {
	out := *e
	if e.Event != nil {
		r := e.Event.Clone()
		out.Event = &r
	}
	return out
}

// Enqueue implements contact.OutboxTx. The entry is kept in the transaction and stored
// by its commit.
func (t *tx) Enqueue(e contact.OutboxEntry) error {
	if err := t.usable(); err != nil {
		return err
	}
	if e.ContactID == "" || e.MessageID == "" {
		return errOutboxEntry
	}
	stored := contact.OutboxEntry{
		ContactID: strings.Clone(e.ContactID),
		MessageID: strings.Clone(e.MessageID),
		Created:   e.Created,
	}
	if e.Event != nil {
		r := e.Event.Clone()
		stored.Event = &r
	}
	t.outbox = append(t.outbox, stored)
	return nil
}

// add stores entries enqueued by a committing transaction. The caller holds the locks
// of the stripes the transaction wrote, so that transactions on one contact add their
// entries in commit order.
func (o *outbox) add(es []contact.OutboxEntry) {
	if len(es) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.entries == nil {
		o.entries = make(map[int64]*contact.OutboxEntry)
		o.queues = make(map[string]*queue)
	}
	for i := range es {
		o.seq++
		e := es[i]
		e.Seq = o.seq
		o.entries[e.Seq] = &e
		q := o.queues[e.ContactID]
		if q == nil {
			q = &queue{}
			o.queues[e.ContactID] = q
		}
		q.seqs = append(q.seqs, e.Seq)
		if len(q.seqs) == 1 {
			o.schedule(e.ContactID, q, time.Time{})
		}
	}
}

// Claim implements contact.Outbox. It takes the due contacts off the top of the heap,
// earliest due first, then by Seq; a claimed entry goes back in, due when its lease
// ends.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []contact.OutboxEntry
	for len(out) < max && len(o.due) > 0 {
		top := o.due[0]
		q := o.queues[top.contact]
		if q == nil || q.gen != top.gen {
			heap.Pop(&o.due) // replaced by a later item
			continue
		}
		if top.at.After(now) {
			break // in flight or backing off, and so is every item below
		}
		heap.Pop(&o.due)
		e := o.entries[top.seq]
		o.claims++
		e.Attempts++
		e.Lease = "m" + strconv.FormatUint(o.claims, 36)
		e.LeaseUntil = now.Add(lease)
		o.schedule(e.ContactID, q, e.LeaseUntil)
		out = append(out, copyEntry(e))
	}
	return out, nil
}

// leased returns the pending entry seq leased under token. The caller holds o.mu.
func (o *outbox) leased(seq int64, token string) (*contact.OutboxEntry, error) {
	e := o.entries[seq]
	if e == nil || e.State != contact.OutboxPending || token == "" || e.Lease != token {
		return nil, fmt.Errorf("memstore: outbox entry %d: %w", seq, contact.ErrLeaseLost)
	}
	return e, nil
}

// dequeue removes a settled entry from its contact's queue, and makes the next entry
// due at once. Only a queue's first entry is ever leased, and so settled.
func (o *outbox) dequeue(e *contact.OutboxEntry) {
	q := o.queues[e.ContactID]
	if q == nil {
		return
	}
	if i := slices.Index(q.seqs, e.Seq); i >= 0 {
		q.seqs = slices.Delete(q.seqs, i, i+1)
	}
	if len(q.seqs) == 0 {
		delete(o.queues, e.ContactID)
		return
	}
	o.schedule(e.ContactID, q, o.entries[q.seqs[0]].NextAttempt)
}

// Ack implements contact.Outbox. A sent entry is forgotten, but for the count.
func (s *Store) Ack(ctx context.Context, seq int64, token string) error {
	return s.settle(ctx, seq, token, func(o *outbox, e *contact.OutboxEntry) {
		o.dequeue(e)
		delete(o.entries, seq)
		o.sent++
	})
}

// Retry implements contact.Outbox.
func (s *Store) Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error {
	return s.settle(ctx, seq, token, func(o *outbox, e *contact.OutboxEntry) {
		e.Lease, e.LeaseUntil = "", time.Time{}
		e.NextAttempt, e.Reason = next, strings.Clone(reason)
		o.schedule(e.ContactID, o.queues[e.ContactID], next)
	})
}

// Park implements contact.Outbox.
func (s *Store) Park(ctx context.Context, seq int64, token string, reason string) error {
	return s.settle(ctx, seq, token, func(o *outbox, e *contact.OutboxEntry) {
		o.dequeue(e)
		e.State, e.Reason = contact.OutboxDead, strings.Clone(reason)
		e.Lease, e.LeaseUntil = "", time.Time{}
		o.dead = append(o.dead, seq)
	})
}

// settle applies how a claimed entry ended (Ack, Retry, Park) under the outbox's lock,
// once the lease token is checked.
func (s *Store) settle(ctx context.Context, seq int64, token string, apply func(*outbox, *contact.OutboxEntry)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	e, err := o.leased(seq, token)
	if err != nil {
		return err
	}
	apply(o, e)
	return nil
}

// OutboxStats implements contact.Outbox.
func (s *Store) OutboxStats(ctx context.Context) (contact.OutboxStats, error) {
	if err := ctx.Err(); err != nil {
		return contact.OutboxStats{}, err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	st := contact.OutboxStats{Sent: o.sent, Dead: len(o.dead)}
	for _, q := range o.queues {
		st.Pending += len(q.seqs)
		// The first of a queue is its oldest: Seqs follow commit order, and so,
		// within a contact, the processor's clock.
		if c := o.entries[q.seqs[0]].Created; st.OldestPending.IsZero() || c.Before(st.OldestPending) {
			st.OldestPending = c
		}
	}
	return st, nil
}

// DeadEntries implements contact.Outbox.
func (s *Store) DeadEntries(ctx context.Context) ([]contact.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]contact.OutboxEntry, len(o.dead))
	for i, seq := range o.dead {
		out[i] = copyEntry(o.entries[seq])
	}
	return out, nil
}
