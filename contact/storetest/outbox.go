package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outboxClauses lists the contract of contact.Outbox and contact.OutboxTx, in the order
// of their documentation. Run checks them when the store implements contact.Outbox.
var outboxClauses = []clause{
	{"Outbox/EnqueueCommitsWithTheTransaction", outboxEnqueueCommitsWithTheTransaction},
	{"Outbox/EnqueueRefusesEmptyIDs", outboxEnqueueRefusesEmptyIDs},
	{"Outbox/ClaimOnePerContactInOrder", outboxClaimOnePerContactInOrder},
	{"Outbox/ClaimRespectsMax", outboxClaimRespectsMax},
	{"Outbox/LeaseExpires", outboxLeaseExpires},
	{"Outbox/RetryBacksOff", outboxRetryBacksOff},
	{"Outbox/ParkDoesNotBlock", outboxParkDoesNotBlock},
	{"Outbox/SettleNeedsTheLease", outboxSettleNeedsTheLease},
	{"Outbox/SettledStaysSettled", outboxSettledStaysSettled},
	{"Outbox/SharedClaimsNeverOverlap", outboxSharedClaimsNeverOverlap},
	{"Outbox/Stats", outboxStats},
	{"Outbox/Copies", outboxCopies},
}

// runOutbox runs the outbox clauses when a store from newStore implements
// contact.Outbox.
func runOutbox(t *testing.T, newStore func(t *testing.T) contact.Store) {
	t.Helper()
	probe := newStore(t)
	if _, ok := probe.(contact.Outbox); !ok {
		return // an optional interface the store does not offer
	}
	for _, c := range outboxClauses {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, newStore(t))
		})
	}
}

func outboxOf(t tb, s contact.Store) contact.Outbox {
	t.Helper()
	o, ok := s.(contact.Outbox)
	require.True(t, ok, "the store implements contact.Outbox")
	return o
}

// entry returns an outbox entry for contact id and messageID, made minutes after t0.
func entry(id, messageID string, minutes int) contact.OutboxEntry {
	return contact.OutboxEntry{ContactID: id, MessageID: messageID, Created: t0.Add(time.Duration(minutes) * time.Minute)}
}

// enqueue adds entries in one transaction.
func enqueue(t tb, s contact.Store, es ...contact.OutboxEntry) {
	t.Helper()
	update(t, s, func(tx contact.Tx) error {
		otx, ok := tx.(contact.OutboxTx)
		require.True(t, ok, "the Tx of an Outbox store implements contact.OutboxTx")
		for _, e := range es {
			if err := otx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim claims up to max entries at t0 plus minutes, with a lease of a minute.
func claim(t tb, s contact.Store, minutes int, max int) []contact.OutboxEntry {
	t.Helper()
	es, err := outboxOf(t, s).Claim(context.Background(), t0.Add(time.Duration(minutes)*time.Minute), time.Minute, max)
	require.NoError(t, err)
	return es
}

func messageIDs(es []contact.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.MessageID
	}
	return out
}

func ack(t tb, s contact.Store, e contact.OutboxEntry) {
	t.Helper()
	require.NoError(t, outboxOf(t, s).Ack(context.Background(), e.Seq, e.Lease))
}

// Clause: an entry is stored if and only if its transaction commits, and becomes
// claimable when it does.
func outboxEnqueueCommitsWithTheTransaction(t tb, s contact.Store) {
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		if err := tx.(contact.OutboxTx).Enqueue(entry("c-1", "m-rolled-back", 0)); err != nil {
			return err
		}
		return errFromFn
	})
	require.ErrorIs(t, err, errFromFn)
	assert.Empty(t, claim(t, s, 0, 10), "an entry of a transaction that failed")
	enqueue(t, s, entry("c-1", "m-1", 0))
	got := claim(t, s, 0, 10)
	require.Len(t, got, 1, "an entry of a committed transaction")
	assert.Equal(t, "m-1", got[0].MessageID)
	assert.Equal(t, "c-1", got[0].ContactID)
	assert.Equal(t, contact.OutboxPending, got[0].State)
	assert.Positive(t, got[0].Seq, "the store assigns Seq")
}

// Clause: Enqueue returns an error when ContactID or MessageID is empty.
func outboxEnqueueRefusesEmptyIDs(t tb, s contact.Store) {
	for _, e := range []contact.OutboxEntry{entry("", "m-1", 0), entry("c-1", "", 0)} {
		err := s.Update(context.Background(), func(tx contact.Tx) error {
			return tx.(contact.OutboxTx).Enqueue(e)
		})
		assert.Error(t, err, "contact %q, message %q", e.ContactID, e.MessageID)
	}
}

// Clause: Claim returns at most one entry per contact, the pending entry of that
// contact with the smallest Seq, oldest Seq first, and none of a contact whose first
// pending entry is leased.
func outboxClaimOnePerContactInOrder(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 0), entry("c-2", "m-2", 0))
	enqueue(t, s, entry("c-1", "m-3", 1))
	enqueue(t, s, entry("c-1", "m-4", 2), entry("c-3", "m-5", 2))
	first := claim(t, s, 5, 10)
	assert.Equal(t, []string{"m-1", "m-2", "m-5"}, messageIDs(first), "one per contact, its first, by Seq")
	for i := 1; i < len(first); i++ {
		assert.Less(t, first[i-1].Seq, first[i].Seq)
	}
	assert.Empty(t, claim(t, s, 5, 10), "every contact's first entry is leased")
	require.NotEmpty(t, first)
	ack(t, s, first[0])
	assert.Equal(t, []string{"m-3"}, messageIDs(claim(t, s, 5, 10)), "the contact's next entry, once the first is sent")
}

// Clause: Claim returns up to max entries.
func outboxClaimRespectsMax(t tb, s contact.Store) {
	for i := range 5 {
		enqueue(t, s, entry(fmt.Sprintf("c-%d", i), fmt.Sprintf("m-%d", i), i))
	}
	assert.Equal(t, []string{"m-0", "m-1"}, messageIDs(claim(t, s, 10, 2)))
	assert.Equal(t, []string{"m-2", "m-3", "m-4"}, messageIDs(claim(t, s, 10, 5)))
	assert.Empty(t, claim(t, s, 10, 0), "max 0")
}

// Clause: until now + lease no other claim returns the entry; after then it can be
// claimed again, with Attempts increased and a fresh token, and the old token no
// longer settles it.
func outboxLeaseExpires(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 0))
	first := claim(t, s, 0, 10)
	require.Len(t, first, 1)
	assert.Equal(t, 1, first[0].Attempts)
	assert.NotEmpty(t, first[0].Lease)
	assert.True(t, first[0].LeaseUntil.Equal(t0.Add(time.Minute)), "LeaseUntil is now + lease: %v", first[0].LeaseUntil)
	assert.Empty(t, claim(t, s, 0, 10), "leased, half a minute later")
	again := claim(t, s, 2, 10)
	require.Len(t, again, 1, "claimed again once the lease expired")
	assert.Equal(t, first[0].Seq, again[0].Seq)
	assert.Equal(t, 2, again[0].Attempts)
	assert.NotEqual(t, first[0].Lease, again[0].Lease, "a fresh token")
	err := outboxOf(t, s).Ack(context.Background(), first[0].Seq, first[0].Lease)
	assert.ErrorIs(t, err, contact.ErrLeaseLost, "the first claim's token, after the second claim")
	ack(t, s, again[0])

	// To the nanosecond: a store that keeps times in microseconds must not end a lease,
	// or a backoff, early.
	o, ctx := outboxOf(t, s), context.Background()
	enqueue(t, s, entry("c-2", "m-2", 0))
	at := t0.Add(10*time.Minute + 900*time.Nanosecond)
	got, err := o.Claim(ctx, at, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	early, err := o.Claim(ctx, got[0].LeaseUntil.Add(-500*time.Nanosecond), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, early, "500 ns before LeaseUntil the lease holds")
	next := at.Add(time.Hour)
	require.NoError(t, o.Retry(ctx, got[0].Seq, got[0].Lease, next, "later"))
	early, err = o.Claim(ctx, next.Add(-500*time.Nanosecond), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, early, "500 ns before NextAttempt the entry waits")
}

// Clause: Retry ends the lease and leaves the entry pending, due at next, with its
// reason; the contact's later entries wait behind it.
func outboxRetryBacksOff(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 0), entry("c-1", "m-2", 0))
	got := claim(t, s, 0, 10)
	require.Len(t, got, 1)
	next := t0.Add(time.Hour)
	require.NoError(t, outboxOf(t, s).Retry(context.Background(), got[0].Seq, got[0].Lease, next, "regal answered 503"))
	assert.Empty(t, claim(t, s, 30, 10), "not due before next, and the contact's next entry waits")
	again := claim(t, s, 60, 10)
	require.Len(t, again, 1, "due at next")
	assert.Equal(t, "m-1", again[0].MessageID)
	assert.Equal(t, "regal answered 503", again[0].Reason)
	assert.Equal(t, 2, again[0].Attempts)
}

// Clause: Park marks the entry dead with its reason: it is never claimed again, and
// the contact's next entry becomes due.
func outboxParkDoesNotBlock(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 0), entry("c-1", "m-2", 1))
	got := claim(t, s, 0, 10)
	require.Len(t, got, 1)
	require.NoError(t, outboxOf(t, s).Park(context.Background(), got[0].Seq, got[0].Lease, "regal answered 400"))
	next := claim(t, s, 0, 10)
	require.Equal(t, []string{"m-2"}, messageIDs(next), "the contact's next entry goes")
	ack(t, s, next[0])
	assert.Empty(t, claim(t, s, 120, 10), "the dead entry never comes back")
	dead, err := outboxOf(t, s).DeadEntries(context.Background())
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "m-1", dead[0].MessageID)
	assert.Equal(t, contact.OutboxDead, dead[0].State)
	assert.Equal(t, "regal answered 400", dead[0].Reason)
}

// Clause: Ack, Retry and Park return ErrLeaseLost unless the entry is pending and
// leased under the token.
func outboxSettleNeedsTheLease(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 0))
	got := claim(t, s, 0, 10)
	require.Len(t, got, 1)
	o, ctx, e := outboxOf(t, s), context.Background(), got[0]
	assert.ErrorIs(t, o.Ack(ctx, e.Seq, e.Lease+"x"), contact.ErrLeaseLost, "Ack, wrong token")
	assert.ErrorIs(t, o.Retry(ctx, e.Seq, "", t0, "r"), contact.ErrLeaseLost, "Retry, no token")
	assert.ErrorIs(t, o.Park(ctx, e.Seq, e.Lease+"x", "r"), contact.ErrLeaseLost, "Park, wrong token")
	assert.ErrorIs(t, o.Ack(ctx, e.Seq, e.Lease+"\x00"), contact.ErrLeaseLost, "Ack, a token with NUL")
	assert.ErrorIs(t, o.Retry(ctx, e.Seq, "\xff"+e.Lease, t0, "r"), contact.ErrLeaseLost, "Retry, a token that is not UTF-8")
	assert.ErrorIs(t, o.Ack(ctx, e.Seq+1000, e.Lease), contact.ErrLeaseLost, "Ack, unknown Seq")
	require.NoError(t, o.Ack(ctx, e.Seq, e.Lease))
	assert.ErrorIs(t, o.Ack(ctx, e.Seq, e.Lease), contact.ErrLeaseLost, "Ack of a sent entry")
	assert.ErrorIs(t, o.Park(ctx, e.Seq, e.Lease, "r"), contact.ErrLeaseLost, "Park of a sent entry")
}

// Clause: a settled entry stays settled. Once a contact's entries are all acknowledged
// or parked, the end of their old leases neither brings one back nor lets out the
// contact's next entry while that one is leased.
func outboxSettledStaysSettled(t tb, s contact.Store) {
	o, ctx := outboxOf(t, s), context.Background()
	enqueue(t, s, entry("c-acked", "m-1", 0), entry("c-parked", "m-1", 0))
	first, err := o.Claim(ctx, t0, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, first, 2)
	for _, e := range first {
		if e.ContactID == "c-acked" {
			require.NoError(t, o.Ack(ctx, e.Seq, e.Lease))
		} else {
			require.NoError(t, o.Park(ctx, e.Seq, e.Lease, "regal answered 400"))
		}
	}
	enqueue(t, s, entry("c-acked", "m-2", 1), entry("c-parked", "m-2", 1))
	second, err := o.Claim(ctx, t0.Add(time.Second), 10*time.Minute, 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"m-2", "m-2"}, messageIDs(second))
	after, err := o.Claim(ctx, t0.Add(2*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, messageIDs(after), "the first leases ended: nothing is due, the m-2 entries are leased")
	late, err := o.Claim(ctx, t0.Add(11*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"m-2", "m-2"}, messageIDs(late), "the m-2 entries once their own leases ended")
	for _, e := range late {
		assert.Equal(t, 2, e.Attempts, "%s of %s", e.MessageID, e.ContactID)
	}
	dead, err := o.DeadEntries(ctx)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "c-parked", dead[0].ContactID)
}

// Clause: several claimers may call Claim at once; no entry is returned to two of them
// under live leases, no contact has two entries out at once, and each contact's
// entries are settled in Seq order.
func outboxSharedClaimsNeverOverlap(t tb, s contact.Store) {
	const contacts, each, claimers = 8, 12, 6
	for n := range each {
		var es []contact.OutboxEntry
		for c := range contacts {
			es = append(es, entry(fmt.Sprintf("c-%d", c), fmt.Sprintf("m-%d-%02d", c, n), n))
		}
		enqueue(t, s, es...)
	}
	o := outboxOf(t, s)
	var mu sync.Mutex
	acked := map[string][]string{} // by contact, in the order acknowledged
	inFlight := map[string]bool{}  // by contact: an entry is claimed and not yet acknowledged
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Go(func() {
			for idle := 0; idle < 50; {
				es, err := o.Claim(context.Background(), t0, time.Hour, 2+7*i) // some claim more than there are contacts
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(es) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				mu.Lock()
				for _, e := range es {
					if inFlight[e.ContactID] {
						t.Errorf("two entries of %s out at once", e.ContactID)
					}
					inFlight[e.ContactID] = true
				}
				mu.Unlock()
				for _, e := range es {
					mu.Lock()
					acked[e.ContactID] = append(acked[e.ContactID], e.MessageID)
					inFlight[e.ContactID] = false
					mu.Unlock()
					if err := o.Ack(context.Background(), e.Seq, e.Lease); err != nil {
						t.Errorf("entry %s returned to two claimers: %v", e.MessageID, err)
					}
				}
			}
		})
	}
	wg.Wait()
	for c := range contacts {
		id := fmt.Sprintf("c-%d", c)
		var want []string
		for n := range each {
			want = append(want, fmt.Sprintf("m-%d-%02d", c, n))
		}
		assert.Equal(t, want, acked[id], "every entry of %s once, in order", id)
	}
}

// Clause: OutboxStats counts the entries by state, and names the Created time of the
// oldest pending entry.
func outboxStats(t tb, s contact.Store) {
	enqueue(t, s, entry("c-1", "m-1", 5), entry("c-2", "m-2", 3), entry("c-3", "m-3", 9), entry("c-3", "m-4", 10))
	got := claim(t, s, 20, 10)
	require.ElementsMatch(t, []string{"m-1", "m-2", "m-3"}, messageIDs(got))
	byID := map[string]contact.OutboxEntry{}
	for _, e := range got {
		byID[e.MessageID] = e
	}
	o, ctx := outboxOf(t, s), context.Background()
	require.NoError(t, o.Ack(ctx, byID["m-2"].Seq, byID["m-2"].Lease))
	require.NoError(t, o.Park(ctx, byID["m-3"].Seq, byID["m-3"].Lease, "bad"))
	st, err := o.OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Pending, "m-1 (leased) and m-4")
	assert.Equal(t, 1, st.Sent)
	assert.Equal(t, 1, st.Dead)
	assert.True(t, st.OldestPending.Equal(t0.Add(5*time.Minute)), "the oldest pending entry is m-1: %v", st.OldestPending)
}

// Clause: the outbox shares no memory with its callers: Enqueue copies the entry's
// event, and Claim and DeadEntries return copies.
func outboxCopies(t tb, s contact.Store) {
	rec := record(event.Track, "Signed Up", 0, "m-1")
	rec.Properties = event.Object{{Key: "plan", Value: json.RawMessage(`"gold"`)}}
	e := entry("c-1", "m-1", 0)
	e.Event = &rec
	enqueue(t, s, e)
	rec.Name = "changed after Enqueue"
	rec.Properties[0].Value[1] = 'X'
	got := claim(t, s, 0, 10)
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Event)
	assert.Equal(t, "Signed Up", got[0].Event.Name)
	assert.JSONEq(t, `"gold"`, string(got[0].Event.Properties[0].Value))
	got[0].Event.Name = "changed after Claim"
	got[0].Event.Properties[0].Value[1] = 'Y'
	require.NoError(t, outboxOf(t, s).Park(context.Background(), got[0].Seq, got[0].Lease, "bad"))
	dead, err := outboxOf(t, s).DeadEntries(context.Background())
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.NotNil(t, dead[0].Event)
	assert.Equal(t, "Signed Up", dead[0].Event.Name)
	assert.JSONEq(t, `"gold"`, string(dead[0].Event.Properties[0].Value))
}
