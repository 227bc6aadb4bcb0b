package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
)

// naiveOutbox is an outbox as simple as possible beside a memory store, which keeps
// the contacts: one mutex, a slice of every entry. Without faults it keeps the contract
// of contact.Outbox; each fault breaks one clause.
type naiveOutbox struct {
	*memstore.Store
	faults outboxFault

	mu      sync.Mutex
	seq     int64
	claims  int
	entries []*contact.OutboxEntry // by Seq
	sent    int
}

type outboxFault uint32

const (
	faultEnqueueWritesThrough outboxFault = 1 << iota // Enqueue stores at once, whatever the transaction does
	faultEnqueueAcceptsEmpty                          // Enqueue takes an entry without ids
	faultClaimEvery                                   // Claim returns every due entry, several of a contact
	faultClaimNewest                                  // Claim returns a contact's last pending entry
	faultIgnoresMax                                   // Claim returns every due entry, whatever max
	faultLeaseNeverExpires                            // a leased entry is never claimed again
	faultIgnoresLease                                 // Claim returns leased entries too
	faultIgnoresNextAttempt                           // Claim returns entries not yet due
	faultDeadBlocks                                   // a dead entry blocks its contact's later entries
	faultAnyToken                                     // Ack, Retry and Park take any token
	faultNoClaimLock                                  // Claim picks entries and leases them in two steps
	faultForgetsSent                                  // OutboxStats does not count sent entries
	faultSharesEvent                                  // the event record is shared with callers
	faultAckKeepsEntry                                // Ack counts the entry sent but leaves it pending, leased
)

func newNaiveOutbox(f outboxFault) *naiveOutbox {
	return &naiveOutbox{Store: memstore.New(), faults: f}
}

func (s *naiveOutbox) has(f outboxFault) bool { return s.faults&f != 0 }

// naiveOutboxTx is a transaction of the memory store with the naive outbox's Enqueue.
type naiveOutboxTx struct {
	contact.Tx
	s       *naiveOutbox
	pending *[]contact.OutboxEntry
}

func (tx naiveOutboxTx) Enqueue(e contact.OutboxEntry) error {
	if !tx.s.has(faultEnqueueAcceptsEmpty) && (e.ContactID == "" || e.MessageID == "") {
		return errors.New("naive: empty id")
	}
	if e.Event != nil && !tx.s.has(faultSharesEvent) {
		r := e.Event.Clone()
		e.Event = &r
	}
	if tx.s.has(faultEnqueueWritesThrough) {
		tx.s.mu.Lock()
		tx.s.add(e)
		tx.s.mu.Unlock()
		return nil
	}
	*tx.pending = append(*tx.pending, e)
	return nil
}

func (s *naiveOutbox) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	var pending []contact.OutboxEntry
	err := s.Store.Update(ctx, func(tx contact.Tx) error {
		pending = pending[:0]
		return fn(naiveOutboxTx{Tx: tx, s: s, pending: &pending})
	})
	if err == nil {
		s.mu.Lock()
		for _, e := range pending {
			s.add(e)
		}
		s.mu.Unlock()
	}
	return err
}

// add stores an entry; the caller holds s.mu.
func (s *naiveOutbox) add(e contact.OutboxEntry) {
	s.seq++
	e.Seq, e.State, e.Attempts, e.Lease, e.LeaseUntil, e.NextAttempt, e.Reason = s.seq, contact.OutboxPending, 0, "", time.Time{}, time.Time{}, ""
	s.entries = append(s.entries, &e)
}

func (s *naiveOutbox) out(e *contact.OutboxEntry) contact.OutboxEntry {
	c := *e
	if e.Event != nil && !s.has(faultSharesEvent) {
		r := e.Event.Clone()
		c.Event = &r
	}
	return c
}

func (s *naiveOutbox) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]contact.OutboxEntry, error) {
	s.mu.Lock()
	order := slices.Clone(s.entries)
	if s.has(faultClaimNewest) {
		slices.Reverse(order)
	}
	seen := map[string]bool{}
	var due []*contact.OutboxEntry
	for _, e := range order {
		if e.State != contact.OutboxPending {
			if e.State == contact.OutboxDead && s.has(faultDeadBlocks) {
				seen[e.ContactID] = true
			}
			continue
		}
		if seen[e.ContactID] && !s.has(faultClaimEvery) {
			continue
		}
		seen[e.ContactID] = true
		live := e.Lease != "" && (e.LeaseUntil.After(now) || s.has(faultLeaseNeverExpires))
		if live && !s.has(faultIgnoresLease) {
			continue
		}
		if e.NextAttempt.After(now) && !s.has(faultIgnoresNextAttempt) {
			continue
		}
		due = append(due, e)
	}
	dueAt := func(e *contact.OutboxEntry) time.Time {
		var t time.Time
		if e.NextAttempt.After(t) {
			t = e.NextAttempt
		}
		if e.Lease != "" && e.LeaseUntil.After(t) {
			t = e.LeaseUntil
		}
		return t
	}
	slices.SortFunc(due, func(a, b *contact.OutboxEntry) int {
		if c := dueAt(a).Compare(dueAt(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	if len(due) > max && !s.has(faultIgnoresMax) {
		due = due[:max]
	}
	if s.has(faultNoClaimLock) {
		s.mu.Unlock()
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	out := make([]contact.OutboxEntry, len(due))
	for i, e := range due {
		s.claims++
		e.Attempts++
		e.Lease = fmt.Sprintf("n%d", s.claims)
		e.LeaseUntil = now.Add(lease)
		out[i] = s.out(e)
	}
	return out, nil
}

// leased returns the pending entry seq leased under token; the caller holds s.mu.
func (s *naiveOutbox) leased(seq int64, token string) (*contact.OutboxEntry, error) {
	for _, e := range s.entries {
		if e.Seq == seq && e.State == contact.OutboxPending && (s.has(faultAnyToken) || (token != "" && e.Lease == token)) {
			return e, nil
		}
	}
	return nil, contact.ErrLeaseLost
}

func (s *naiveOutbox) Ack(ctx context.Context, seq int64, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.leased(seq, token)
	if err != nil {
		return err
	}
	if !s.has(faultAckKeepsEntry) {
		e.State = contact.OutboxSent
	}
	if !s.has(faultForgetsSent) {
		s.sent++
	}
	return nil
}

func (s *naiveOutbox) Retry(ctx context.Context, seq int64, token string, next time.Time, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.leased(seq, token)
	if err != nil {
		return err
	}
	e.Lease, e.LeaseUntil, e.NextAttempt, e.Reason = "", time.Time{}, next, reason
	return nil
}

func (s *naiveOutbox) Park(ctx context.Context, seq int64, token string, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.leased(seq, token)
	if err != nil {
		return err
	}
	e.State, e.Reason, e.Lease, e.LeaseUntil = contact.OutboxDead, reason, "", time.Time{}
	return nil
}

func (s *naiveOutbox) OutboxStats(ctx context.Context) (contact.OutboxStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := contact.OutboxStats{Sent: s.sent}
	for _, e := range s.entries {
		switch e.State {
		case contact.OutboxPending:
			st.Pending++
			if st.OldestPending.IsZero() || e.Created.Before(st.OldestPending) {
				st.OldestPending = e.Created
			}
		case contact.OutboxDead:
			st.Dead++
		}
	}
	return st, nil
}

func (s *naiveOutbox) DeadEntries(ctx context.Context) ([]contact.OutboxEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []contact.OutboxEntry
	for _, e := range s.entries {
		if e.State == contact.OutboxDead {
			out = append(out, s.out(e))
		}
	}
	return out, nil
}

var _ contact.Outbox = (*naiveOutbox)(nil)

// The naive outbox without faults passes every outbox clause.
func TestKitPassesCorrectOutbox(t *testing.T) {
	runOutbox(t, func(t *testing.T) contact.Store { return newNaiveOutbox(0) })
}

// Each fault of the naive outbox breaks a clause, and the check of that clause fails.
func TestKitCatchesBrokenOutboxes(t *testing.T) {
	tests := []struct {
		fault outboxFault
		name  string
		fails []string
	}{
		{faultEnqueueWritesThrough, "enqueue writes through", []string{"Outbox/EnqueueCommitsWithTheTransaction"}},
		{faultEnqueueAcceptsEmpty, "enqueue accepts empty ids", []string{"Outbox/EnqueueRefusesEmptyIDs"}},
		{faultClaimEvery, "claim every entry", []string{"Outbox/ClaimOnePerContactInOrder"}}, // SharedClaimsNeverOverlap sees it only in some schedules
		{faultClaimNewest, "claim newest", []string{"Outbox/ClaimOnePerContactInOrder"}},
		{faultIgnoresMax, "ignores max", []string{"Outbox/ClaimRespectsMax"}},
		{faultLeaseNeverExpires, "lease never expires", []string{"Outbox/LeaseExpires"}},
		{faultIgnoresLease, "ignores lease", []string{"Outbox/LeaseExpires", "Outbox/ClaimOnePerContactInOrder"}},
		{faultIgnoresNextAttempt, "ignores next attempt", []string{"Outbox/RetryBacksOff"}},
		{faultDeadBlocks, "dead blocks", []string{"Outbox/ParkDoesNotBlock"}},
		{faultAnyToken, "any token", []string{"Outbox/SettleNeedsTheLease", "Outbox/LeaseExpires"}},
		{faultNoClaimLock, "no claim lock", []string{"Outbox/SharedClaimsNeverOverlap"}},
		{faultForgetsSent, "forgets sent", []string{"Outbox/Stats"}},
		{faultSharesEvent, "shares event", []string{"Outbox/Copies"}},
		{faultAckKeepsEntry, "ack keeps the entry", []string{"Outbox/SettledStaysSettled"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range tt.fails {
				covered[name] = true
				c, ok := outboxClauseNamed(name)
				if !assert.True(t, ok, "no clause %s", name) {
					continue
				}
				r := runCheck(c, newNaiveOutbox(tt.fault))
				assert.True(t, r.failed, "%s passes an outbox that %s", name, tt.name)
				if r.failed {
					t.Logf("%s: %s", name, firstLine(r.log))
				}
			}
		})
	}
	for _, c := range outboxClauses {
		assert.True(t, covered[c.name], "no broken outbox shows that %s can fail", c.name)
	}
}

func outboxClauseNamed(name string) (clause, bool) {
	for _, c := range outboxClauses {
		if c.name == name {
			return c, true
		}
	}
	return clause{}, false
}

func TestOutboxClausesHaveUniqueNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range append(slices.Clone(clauses), outboxClauses...) {
		assert.False(t, seen[c.name], "duplicate %s", c.name)
		seen[c.name] = true
	}
}
