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
