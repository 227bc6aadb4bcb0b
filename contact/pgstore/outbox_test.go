package pgstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/contact"
)

// TestOutboxSeqsFollowCommitOrder: transactions on two pools enqueue entries for a few
// contacts at once (and write nothing else, so that nothing but the outbox's own lock
// orders them), while claimers on both pools claim and acknowledge. Every contact's
// entries are acknowledged in Seq order, each once: a claim never saw a contact's later
// Seq before an earlier one had committed.
func TestOutboxSeqsFollowCommitOrder(t *testing.T) {
	const contacts, writers, each = 3, 6, 40
	schema := testSchema(t)
	stores := []*Store{openStore(t, testPool(t, schema, nil), nil), openStore(t, testPool(t, schema, nil), nil)}
	for _, s := range stores {
		// A commit that has inserted its entries waits a random few milliseconds before its COMMIT: time
		// for a concurrent commit to insert and commit a later entry of the same contact,
		// were nothing to order them.
		s.beforeCommit = func(b *pgx.Batch) { b.Queue(`SELECT pg_sleep(random() * 0.005)`) }
	}
	ctx := context.Background()

	var writing atomic.Int32
	writing.Store(writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			defer writing.Add(-1)
			s := stores[w%2]
			for n := range each {
				id := fmt.Sprintf("c-%d", (w+n)%contacts)
				err := s.Update(ctx, func(tx contact.Tx) error {
					return tx.(contact.OutboxTx).Enqueue(contact.OutboxEntry{ContactID: id, MessageID: fmt.Sprintf("m-%d-%d", w, n), Created: time.Now()})
				})
				assert.NoError(t, err)
			}
		})
	}
	var mu sync.Mutex
	acked := map[string][]int64{}
	for c := range 4 {
		wg.Go(func() {
			s := stores[c%2]
			for idle := 0; idle < 20; {
				es, err := s.Claim(ctx, time.Now(), time.Minute, 8)
				if !assert.NoError(t, err) {
					return
				}
				if len(es) == 0 {
					if writing.Load() == 0 {
						idle++
					}
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				for _, e := range es {
					mu.Lock()
					acked[e.ContactID] = append(acked[e.ContactID], e.Seq)
					mu.Unlock()
					assert.NoError(t, s.Ack(ctx, e.Seq, e.Lease))
				}
			}
		})
	}
	wg.Wait()
	st, err := stores[0].OutboxStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, contact.OutboxStats{Sent: writers * each}, st)
	total := 0
	for id, seqs := range acked {
		total += len(seqs)
		assert.True(t, slices.IsSorted(seqs), "%s acknowledged in Seq order: %v", id, seqs)
	}
	assert.Equal(t, writers*each, total, "each entry once")
}
