package memstore

import (
	"cmp"
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
type outbox struct {
	mu      sync.Mutex
	seq     int64 // the last Seq given
	claims  uint64
	entries map[int64]*contact.OutboxEntry // pending and dead entries, by Seq
	queues  map[string][]int64             // by contact id: its pending entries' Seqs, ascending
	sent    int
	dead    []int64 // Seqs of dead entries, ascending
}

// copyEntry returns a copy of e that shares no memory with it.
func copyEntry(e *contact.OutboxEntry) contact.OutboxEntry {
	out := *e
	if e.Event != nil {
		r := copyRecord(e.Event)
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
		r := copyRecord(e.Event)
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
		o.queues = make(map[string][]int64)
	}
	for i := range es {
		o.seq++
		e := es[i]
		e.Seq = o.seq
		o.entries[e.Seq] = &e
		o.queues[e.ContactID] = append(o.queues[e.ContactID], e.Seq)
	}
}

// Claim implements contact.Outbox. It looks at the first pending entry of every contact
// that has one.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, nil
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []*contact.OutboxEntry
	for _, q := range o.queues {
		e := o.entries[q[0]]
		if e.Lease != "" && e.LeaseUntil.After(now) {
			continue // in flight
		}
		if e.NextAttempt.After(now) {
			continue // backing off; the contact's later entries wait behind it
		}
		due = append(due, e)
	}
	slices.SortFunc(due, func(a, b *contact.OutboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	if len(due) > max {
		due = due[:max]
	}
	out := make([]contact.OutboxEntry, len(due))
	for i, e := range due {
		o.claims++
		e.Attempts++
		e.Lease = "m" + strconv.FormatUint(o.claims, 36)
		e.LeaseUntil = now.Add(lease)
		out[i] = copyEntry(e)
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

// dequeue removes a settled entry from its contact's queue.
func (o *outbox) dequeue(e *contact.OutboxEntry) {
	q := o.queues[e.ContactID]
	if i := slices.Index(q, e.Seq); i >= 0 {
		q = slices.Delete(q, i, i+1)
	}
	if len(q) == 0 {
		delete(o.queues, e.ContactID)
	} else {
		o.queues[e.ContactID] = q
	}
}

// Ack implements contact.Outbox. A sent entry is forgotten, but for the count.
func (s *Store) Ack(ctx context.Context, seq int64, token string) error {
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
	o.dequeue(e)
	delete(o.entries, seq)
	o.sent++
	return nil
}

// Retry implements contact.Outbox.
func (s *Store) Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error {
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
	e.Lease, e.LeaseUntil = "", time.Time{}
	e.NextAttempt, e.Reason = next, strings.Clone(reason)
	return nil
}

// Park implements contact.Outbox.
func (s *Store) Park(ctx context.Context, seq int64, token string, reason string) error {
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
	o.dequeue(e)
	e.State, e.Reason = contact.OutboxDead, strings.Clone(reason)
	e.Lease, e.LeaseUntil = "", time.Time{}
	o.dead = append(o.dead, seq)
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
		st.Pending += len(q)
		// The first of a queue is its oldest: Seqs follow commit order, and so,
		// within a contact, the processor's clock.
		if c := o.entries[q[0]].Created; st.OldestPending.IsZero() || c.Before(st.OldestPending) {
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
