package pgstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/storetest"
)

// BenchmarkStore is the store kit's benchmark, each sub-benchmark on a fresh schema.
// Compare with contact/memstore's BenchmarkStore.
func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) contact.Store {
		return openStore(b, testPool(b, testSchema(b), func(cfg *pgxpool.Config) { cfg.MaxConns = 16 }), nil)
	})
}

// BenchmarkProcessor measures the Processor's throughput on the store: 20,000
// generated messages for 2,000 users (every kind but delete, in no time order),
// processed by 1, 2 and 8 workers into an empty schema. It reports messages per second
// and the share of transactions that ran more than once. Run it with -benchtime 1x:
// one iteration is the whole corpus.
func BenchmarkProcessor(b *testing.B) {
	const messages, users = 20_000, 2_000
	msgs := corpus(b, 11, messages, users, false)
	perm := rand.New(rand.NewPCG(5, 5)).Perm(len(msgs))
	for _, workers := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var elapsed time.Duration
			var retries, txs int64
			for b.Loop() {
				b.StopTimer()
				tr := &retryCounter{}
				pool := testPool(b, testSchema(b), func(cfg *pgxpool.Config) {
					cfg.MaxConns = int32(workers + 2)
					cfg.ConnConfig.Tracer = tr
				})
				s := openStore(b, pool, nil)
				p := regalkit.New(s, processorOptions("bench"))
				b.StartTimer()
				start := time.Now()
				processAll(b, p, msgs, perm, workers)
				elapsed += time.Since(start)
				retries += tr.begins.Load() - int64(len(msgs))
				b.Logf("failed commits and reads by SQLSTATE: %v", tr.codes)
				txs += int64(len(msgs))
			}
			b.ReportMetric(float64(txs)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(retries)/float64(txs)*100, "%retried")
		})
	}
}

// BenchmarkOutboxClaim measures Claim on an outbox of 20,000 pending entries for 100
// contacts (200 each), entered by SQL. "empty": every contact's first entry is leased,
// so a claim finds nothing, after stepping over the backlog behind those leases (the
// worst case: a Regal outage that left every contact retrying). "claim+ack": claims of
// up to 16 entries, each acknowledged, one round after another; it reports entries
// settled per second by one claimer.
func BenchmarkOutboxClaim(b *testing.B) {
	const contacts, each = 100, 200
	setup := func(b *testing.B) *Store {
		s := openStore(b, testPool(b, testSchema(b), nil), nil)
		_, err := s.pool.Exec(b.Context(), `INSERT INTO regalkit_outbox (contact_id, message_id, created_at)
SELECT convert_to('c-' || (i % $1), 'UTF8'), convert_to('m-' || i, 'UTF8'), now() FROM generate_series(0, $2 - 1) AS i`, contacts, contacts*each)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.pool.Exec(b.Context(), `ANALYZE regalkit_outbox`); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("empty", func(b *testing.B) {
		s := setup(b)
		now := time.Now()
		heads, err := s.Claim(b.Context(), now, time.Hour, contacts)
		if err != nil || len(heads) != contacts {
			b.Fatalf("leasing the heads: %d, %v", len(heads), err)
		}
		for b.Loop() {
			es, err := s.Claim(b.Context(), now, time.Hour, 16)
			if err != nil || len(es) != 0 {
				b.Fatalf("claim: %d, %v", len(es), err)
			}
		}
	})
	b.Run("claim+ack", func(b *testing.B) {
		s := setup(b)
		settled := 0
		start := time.Now()
		for b.Loop() {
			es, err := s.Claim(b.Context(), time.Now(), time.Hour, 16)
			if err != nil || len(es) == 0 {
				b.Fatalf("claim: %d, %v", len(es), err)
			}
			for _, e := range es {
				if err := s.Ack(b.Context(), e.Seq, e.Lease); err != nil {
					b.Fatal(err)
				}
			}
			settled += len(es)
		}
		b.ReportMetric(float64(settled)/time.Since(start).Seconds(), "entries/s")
	})
}
