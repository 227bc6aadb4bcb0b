package regalkit_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/internal/baseline"
	"github.com/regalkit/regalkit/internal/corpus"
)

var (
	corpusMessages = flag.Int("corpus.messages", 20_000, "messages in BenchmarkPipeline's corpus")
	corpusSeed     = flag.Uint64("corpus.seed", 1, "seed of BenchmarkPipeline's corpus")
)

// pipelineCorpus writes the corpus to a temporary file, as a user's export would be,
// and reads it back.
func pipelineCorpus(b *testing.B) []byte {
	b.Helper()
	path := filepath.Join(b.TempDir(), "corpus.ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := corpus.Write(f, corpus.Config{Messages: *corpusMessages, Seed: *corpusSeed}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// pipelineRun measures one way of processing the corpus: run processes all of it
// once, into fresh state, and reports how many messages it read.
type pipelineRun func(data []byte) (int, error)

// BenchmarkPipeline runs the generated corpus (package internal/corpus) through the
// Processor on the memory store, and through the naive loop (package internal/baseline)
// in the same run, so that the ratios it reports compare like with like:
//
//	msgs/s       messages processed per second (decoding included)
//	B/msg        bytes allocated per message
//	allocs/msg   allocations per message
//	cpu-µs/msg   CPU time of the whole process (every thread, GC included) per message
//	x-naive      msgs/s over the naive loop's msgs/s in this run
//	x-1worker    msgs/s over the one-worker Processor's msgs/s in this run
//	x-1core      msgs/s over the one-worker Processor's msgs/s on one core in this run
//
// The one-core run ("regalkit/workers=1/gomaxprocs=1") is the Processor with
// runtime.GOMAXPROCS(1): everything, decoding and the garbage collector included, on
// one core. With the default GOMAXPROCS, one worker is one message applied at a time
// while ProcessStream decodes the next ones on another core, so x-1worker measures what
// a second worker adds to that; x-1core measures what going from one core to all of
// them gives.
//
// On a shared machine msgs/s swings with the neighbours' load; cpu-µs/msg much less.
//
// Reproduce with: go test -run '^$' -bench 'Pipeline$' -benchtime 3x .
func BenchmarkPipeline(b *testing.B) {
	data := pipelineCorpus(b)
	var naiveRate, oneCoreRate, oneWorkerRate float64

	b.Run("naive", func(b *testing.B) {
		naiveRate = measurePipeline(b, data, runNaive)
	})
	if runtime.GOMAXPROCS(0) > 1 {
		b.Run("regalkit/workers=1/gomaxprocs=1", func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			oneCoreRate = measurePipeline(b, data, runRegalkit(1))
			reportRatio(b, oneCoreRate, naiveRate, "x-naive")
		})
	}
	workers := []int{1, max(2, runtime.GOMAXPROCS(0))}
	for _, w := range workers {
		b.Run("regalkit/workers="+strconv.Itoa(w), func(b *testing.B) {
			rate := measurePipeline(b, data, runRegalkit(w))
			reportRatio(b, rate, naiveRate, "x-naive")
			if w == 1 {
				oneWorkerRate = rate
			} else {
				reportRatio(b, rate, oneWorkerRate, "x-1worker")
			}
			reportRatio(b, rate, oneCoreRate, "x-1core")
		})
	}
}

// BenchmarkPipelineKinds is BenchmarkPipeline on each message type of the corpus
// alone, one worker against the naive loop, for sizing a deployment by its traffic
// mix: each run keeps the corpus's order and users, so a track finds the contact an
// earlier track created, as in the mixed corpus, but never one an identify made.
//
// Reproduce with: go test -run '^$' -bench PipelineKinds -benchtime 3x .
func BenchmarkPipelineKinds(b *testing.B) {
	data := pipelineCorpus(b)
	for _, kind := range []string{"identify", "track", "page"} {
		var lines []byte
		for line := range bytes.Lines(data) {
			if bytes.Contains(line, []byte(`"type":"`+kind+`"`)) {
				lines = append(lines, line...)
			}
		}
		if len(lines) == 0 {
			b.Fatalf("the corpus has no %s", kind)
		}
		var naiveRate float64
		b.Run(kind+"/naive", func(b *testing.B) {
			naiveRate = measurePipeline(b, lines, runNaive)
		})
		b.Run(kind+"/regalkit", func(b *testing.B) {
			rate := measurePipeline(b, lines, runRegalkit(1))
			reportRatio(b, rate, naiveRate, "x-naive") // not when -bench left the naive run out
		})
	}
}

// BenchmarkPipelineCeiling measures what this machine gives two goroutines that share
// nothing but the process: copies=2 runs two copies of a pipeline at once, each on
// state of its own (the naive loop's maps, or a Processor with one worker on a memory
// store of its own), over the whole corpus each, and reports the rate of both together
// against one copy alone in the same run (x-1copy), and against one copy with
// runtime.GOMAXPROCS(1) (x-1core). No lock, no contact and no cache is shared between
// the copies; what they share is the cores, the memory bus and the garbage collector.
// The x-1copy of the naive loop (a single goroutine, whose garbage collector already
// uses part of the second core) is the ceiling of what a second goroutine can add to
// such a loop here, and that of regalkit the ceiling of BenchmarkPipeline's
// x-1worker: a second worker shares the store and the Processor too.
//
// Reproduce with: go test -run '^$' -bench PipelineCeiling -benchtime 3x .
func BenchmarkPipelineCeiling(b *testing.B) {
	data := pipelineCorpus(b)
	for _, pipe := range []struct {
		name string
		run  pipelineRun
	}{{"naive", runNaive}, {"regalkit", runRegalkit(1)}} {
		var oneCoreRate, oneRate float64
		if runtime.GOMAXPROCS(0) > 1 {
			b.Run(pipe.name+"/copies=1/gomaxprocs=1", func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
				oneCoreRate = measurePipeline(b, data, pipe.run)
			})
		}
		for _, copies := range []int{1, 2} {
			b.Run(pipe.name+"/copies="+strconv.Itoa(copies), func(b *testing.B) {
				rate := measurePipeline(b, data, func(data []byte) (int, error) {
					counts, errs := make([]int, copies), make([]error, copies)
					var wg sync.WaitGroup
					for i := range counts {
						wg.Go(func() { counts[i], errs[i] = pipe.run(data) })
					}
					wg.Wait()
					n := 0
					for _, c := range counts {
						n += c
					}
					return n, errors.Join(errs...)
				})
				if copies == 1 {
					oneRate = rate
				} else {
					reportRatio(b, rate, oneRate, "x-1copy")
				}
				reportRatio(b, rate, oneCoreRate, "x-1core")
			})
		}
	}
}

// reportRatio reports rate over base as unit, when base was measured in this run.
func reportRatio(b *testing.B, rate, base float64, unit string) {
	if base > 0 {
		b.ReportMetric(rate/base, unit)
	}
}

// runNaive processes the corpus with the naive loop.
func runNaive(data []byte) (int, error) {
	l := baseline.New()
	n := 0
	for line := range bytes.Lines(data) {
		if _, err := l.Handle(line); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// runRegalkit processes the corpus with a Processor of workers workers on a new memory
// store.
func runRegalkit(workers int) pipelineRun {
	return func(data []byte) (int, error) {
		p := regalkit.New(memstore.New(), &regalkit.Options{Workers: workers})
		n := 0
		err := p.ProcessStream(context.Background(), bytes.NewReader(data), func(regalkit.Result) bool {
			n++
			return true
		})
		return n, err
	}
}

var memStatsMu sync.Mutex

// measurePipeline runs run b.N times and reports per-message figures; it returns the
// messages per second.
func measurePipeline(b *testing.B, data []byte, run pipelineRun) float64 {
	memStatsMu.Lock()
	defer memStatsMu.Unlock()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start, startCPU := time.Now(), processCPU()
	messages := 0
	for range b.N {
		n, err := run(data)
		if err != nil {
			b.Fatal(err)
		}
		messages += n
	}
	elapsed, cpu := time.Since(start), processCPU()-startCPU
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if messages == 0 {
		b.Fatal("no messages processed")
	}
	rate := float64(messages) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(messages), "B/msg")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(messages), "allocs/msg")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(messages), "cpu-µs/msg")
	}
	b.ReportMetric(0, "ns/op")
	return rate
}
