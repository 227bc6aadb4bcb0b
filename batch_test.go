package regalkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/corpus"
	"github.com/regalkit/regalkit/segmentio"
	"github.com/regalkit/regalkit/trigger"
)

// outcome is what a Result says, without the store-assigned contact id.
type outcome struct {
	MessageID   string
	Duplicate   bool
	Diagnostics string
}

// outcomes reduces results to what must not depend on the number of workers. The
// identity.conflict and message.deleted diagnostics are left out: whether a link finds
// its anonymous ID already linked to another userId (Rule I4), an alias is in conflict
// (Rule I5) or an anonymous-only message belongs to a deleted user's time (Rule I7)
// depends on which messages of other identifiers were applied before it, as in any
// other arrival order; the contacts do not (Rule S3), and the tests compare those whole.
func outcomes(results []regalkit.Result) []outcome {
	out := make([]outcome, len(results))
	for i, r := range results {
		diags := slices.DeleteFunc(slices.Clone(r.Diagnostics), func(d diag.Diagnostic) bool { return d.Code == diag.IdentityConflict || d.Code == diag.MessageDeleted })
		out[i] = outcome{MessageID: r.MessageID, Duplicate: r.Duplicate, Diagnostics: fmt.Sprint(diags)}
	}
	return out
}

func batchProcessor(workers int) (*regalkit.Processor, *memstore.Store) {
	store := memstore.New()
	opts := variant{}.options()
	opts.Workers = workers
	return regalkit.New(store, opts), store
}

// TestProcessBatch_WorkersSameOutcome_RuleS3: several workers give the results (in input
// order) and the contacts of one worker, on drawn messages with duplicates (Rules S2,
// S3, E2).
func TestProcessBatch_WorkersSameOutcome_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads := drawPayloads(t, 30)
		for range rapid.IntRange(0, 5).Draw(t, "duplicates") {
			payloads = append(payloads, rapid.SampledFrom(payloads).Draw(t, "duplicate"))
		}
		var msgs []event.Message
		for _, pl := range payloads {
			var m event.Message
			if err := segmentio.Unmarshal([]byte(pl), &m); err != nil {
				t.Fatalf("generated payload does not decode: %v", err)
			}
			msgs = append(msgs, m)
		}
		p1, s1 := batchProcessor(1)
		want, err := p1.ProcessBatch(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		p4, s4 := batchProcessor(4)
		got, err := p4.ProcessBatch(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(outcomes(want), outcomes(got)) {
			t.Fatalf("results differ\nwant %v\ngot  %v", outcomes(want), outcomes(got))
		}
		requireSameContacts(t, state(t, s1), state(t, s4))
	})
}

// streamAll processes data with ProcessStream and returns every result.
func streamAll(t *testing.T, p *regalkit.Processor, data []byte) []regalkit.Result {
	t.Helper()
	var results []regalkit.Result
	err := p.ProcessStream(context.Background(), bytes.NewReader(data), func(r regalkit.Result) bool {
		results = append(results, r)
		return true
	})
	require.NoError(t, err)
	return results
}

// TestProcessStream_Corpus streams the benchmark corpus with one, two and four workers
// and requires the same results and contacts each time.
func TestProcessStream_Corpus(t *testing.T) {
	var data bytes.Buffer
	require.NoError(t, corpus.Write(&data, corpus.Config{Messages: 3000, Users: 300, Seed: 3}))
	var want []outcome
	var wantState []string
	for _, w := range []int{1, 2, 4} {
		p, store := batchProcessor(w)
		results := streamAll(t, p, data.Bytes())
		require.Len(t, results, 3000)
		st := state(t, store)
		if want == nil {
			want, wantState = outcomes(results), st
			dups := 0
			for _, o := range want {
				if o.Duplicate {
					dups++
				}
			}
			assert.Greater(t, dups, 50, "the corpus re-delivers messages")
			continue
		}
		assert.Equal(t, want, outcomes(results), "workers=%d", w)
		assert.Equal(t, wantState, st, "workers=%d", w)
	}
}

func TestProcessStream_Forms(t *testing.T) {
	p, _ := batchProcessor(2)
	collect := func(in io.Reader) ([]regalkit.Result, error) {
		var out []regalkit.Result
		err := p.ProcessStream(context.Background(), in, func(r regalkit.Result) bool {
			out = append(out, r)
			return true
		})
		return out, err
	}
	res, err := collect(strings.NewReader(`{"type":"track","userId":"u1","event":"A","messageId":"s1"}` + "\n" +
		"not json\n" + `{"type":"track","userId":"u1","event":"B","messageId":"s2"}` + "\n"))
	require.NoError(t, err)
	require.Len(t, res, 3, "a bad NDJSON line is one result")
	assert.Equal(t, "s1", res[0].MessageID)
	require.Len(t, res[1].Diagnostics, 1)
	assert.Equal(t, "message.invalid", string(res[1].Diagnostics[0].Code))
	assert.Equal(t, "s2", res[2].MessageID)

	res, err = collect(strings.NewReader(`[{"type":"track","userId":"u2","event":"A","messageId":"s3"},` + "\n" + `{"type":`))
	require.NoError(t, err, "unreadable JSON is a diagnostic, not an error")
	require.NotEmpty(t, res)
	last := res[len(res)-1]
	require.Len(t, last.Diagnostics, 1)
	assert.Equal(t, "message.invalid", string(last.Diagnostics[0].Code))

	readErr := errors.New("disk on fire")
	_, err = collect(io.MultiReader(strings.NewReader(`{"type":"track","userId":"u3","event":"A","messageId":"s4"}`+"\n"), iotestErr{readErr}))
	assert.ErrorIs(t, err, readErr, "a failing reader is an error")
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

func TestProcessStream_YieldStops(t *testing.T) {
	var data bytes.Buffer
	require.NoError(t, corpus.Write(&data, corpus.Config{Messages: 500, Seed: 4}))
	p, _ := batchProcessor(2)
	n := 0
	err := p.ProcessStream(context.Background(), &data, func(regalkit.Result) bool {
		n++
		return n < 10
	})
	require.NoError(t, err)
	assert.Equal(t, 10, n, "no result is yielded after yield returns false")
}

func TestProcessBatch_Cancelled(t *testing.T) {
	p, _ := batchProcessor(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := p.ProcessBatch(ctx, []event.Message{{Kind: event.Track, UserID: "u", Event: "A", MessageID: "m"}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, res)
}

// endless is an NDJSON stream that never ends, counting its reads.
type endless struct {
	reads atomic.Int64
	n     int
}

func (e *endless) Read(b []byte) (int, error) {
	e.reads.Add(1)
	line := fmt.Sprintf(`{"type":"track","userId":"u%d","event":"A","messageId":"e%d"}`+"\n", e.n%7, e.n)
	e.n++
	return copy(b, line), nil // lines are shorter than the decoder's reads
}

// TestProcessStream_StopsReading: the stream is decoded ahead of the workers, on a
// goroutine of its own (with one worker too, when GOMAXPROCS allows); once
// ProcessStream returns, that goroutine is gone and the reader is never read again (a
// caller may close it).
func TestProcessStream_StopsReading(t *testing.T) {
	base := runtime.NumGoroutine()
	for _, w := range []int{1, 2, 4} {
		p, _ := batchProcessor(w)
		r := &endless{}
		n := 0
		err := p.ProcessStream(context.Background(), r, func(regalkit.Result) bool {
			n++
			return n < 50
		})
		require.NoError(t, err)
		assert.Equal(t, 50, n)
		reads := r.reads.Load()
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, reads, r.reads.Load(), "workers=%d: the reader was read after ProcessStream returned", w)

		ctx, cancel := context.WithCancel(context.Background())
		r = &endless{}
		n = 0
		err = p.ProcessStream(ctx, r, func(regalkit.Result) bool {
			if n++; n == 30 {
				cancel()
			}
			return true
		})
		assert.ErrorIs(t, err, context.Canceled, "workers=%d", w)
		reads = r.reads.Load()
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, reads, r.reads.Load(), "workers=%d: the reader was read after a cancelled ProcessStream returned", w)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), base, "a decoding goroutine outlived its ProcessStream")
}

// slowStore is a memory store whose transactions take a while, as over a network.
type slowStore struct{ *memstore.Store }

func (s slowStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	time.Sleep(20 * time.Millisecond)
	return s.Store.Update(ctx, fn)
}

// TestProcessStream_YieldsWhileReaderWaits: a message's result is yielded once it is
// processed, even while the reader has no more input yet. With several workers, one
// worker waiting for the next message used to hold the batch's lock, so the result of
// a message another worker had processed stayed unyielded until more input came: a
// caller that sends its next message after the result of the last one (a consumer that
// acknowledges each message) waited forever.
func TestProcessStream_YieldsWhileReaderWaits(t *testing.T) {
	for _, w := range []int{2, 8} {
		p := regalkit.New(slowStore{memstore.New()}, &regalkit.Options{Workers: w})
		pr, pw := io.Pipe()
		got := make(chan string, 8)
		done := make(chan error, 1)
		go func() {
			done <- p.ProcessStream(context.Background(), pr, func(r regalkit.Result) bool {
				got <- r.MessageID
				return true
			})
		}()
		// Two lines at once: the decoder reads a second line to tell NDJSON from one
		// document (Rule D1).
		_, err := io.WriteString(pw, `{"type":"track","userId":"u0","event":"A","messageId":"w0"}`+"\n"+
			`{"type":"track","userId":"u1","event":"A","messageId":"w1"}`+"\n")
		require.NoError(t, err)
		for i := range 4 {
			if i >= 2 {
				_, err := fmt.Fprintf(pw, `{"type":"track","userId":"u%d","event":"A","messageId":"w%d"}`+"\n", i, i)
				require.NoError(t, err)
			}
			select {
			case id := <-got:
				assert.Equal(t, fmt.Sprint("w", i), id, "workers=%d", w)
			case <-time.After(3 * time.Second):
				t.Fatalf("workers=%d: the result of message %d was not yielded while the reader waited for more input", w, i)
			}
		}
		require.NoError(t, pw.Close())
		require.NoError(t, <-done)
	}
}

// failingStream reads n NDJSON lines (tracks of its own unless lines are given), a few
// bytes at a time when trickle is set (so that the decoder often waits for input),
// then fails with errBroken (or ends, with eof).
type failingStream struct {
	n, sent int
	trickle bool
	lines   []string // the lines to send, when set; tracks of their own otherwise
	eof     bool     // end with io.EOF rather than errBroken
	buf     []byte
}

var errBroken = errors.New("connection reset")

func (f *failingStream) Read(b []byte) (int, error) {
	if len(f.buf) == 0 {
		if f.sent == f.n {
			if f.eof {
				return 0, io.EOF
			}
			return 0, errBroken
		}
		if f.lines != nil {
			f.buf = append([]byte(f.lines[f.sent]), '\n')
		} else {
			f.buf = fmt.Appendf(nil, `{"type":"track","userId":"u%d","event":"A","messageId":"m%04d"}`+"\n", f.sent%11, f.sent)
		}
		f.sent++
	}
	k := len(f.buf)
	if f.trickle {
		k = min(k, 7)
	}
	k = copy(b, f.buf[:k])
	f.buf = f.buf[k:]
	return k, nil
}

// TestProcessStream_HandsOverEveryItemInOrder: whether the decoding goroutine runs
// ahead of slow workers (its queue full, waiting for them to take it) or behind a
// slow reader (the workers waiting for it), every message is handed over once, in
// input order, and the reader's error comes after the last of them. With several
// workers the messages share userIds, so a worker often waits for an earlier message
// of its user when the reader fails: it used to give up its own message then, and the
// results from it on were never yielded.
func TestProcessStream_HandsOverEveryItemInOrder(t *testing.T) {
	const n = 700 // more than ten times the decoding goroutine's queue
	for _, w := range []int{1, 2, 4} {
		for _, trickle := range []bool{false, true} {
			p, _ := batchProcessor(w)
			var got []string
			err := p.ProcessStream(context.Background(), &failingStream{n: n, trickle: trickle}, func(r regalkit.Result) bool {
				if !trickle && len(got)%97 == 0 {
					time.Sleep(2 * time.Millisecond) // slow workers: the queue fills up
				}
				got = append(got, r.MessageID)
				return true
			})
			require.ErrorIs(t, err, errBroken, "workers=%d trickle=%v", w, trickle)
			require.Len(t, got, n, "workers=%d trickle=%v", w, trickle)
			for i, id := range got {
				require.Equal(t, fmt.Sprintf("m%04d", i), id, "workers=%d trickle=%v: result %d", w, trickle, i)
			}
		}
	}
}

// downStore is a memory store whose Update fails from its failAt-th call on, as a
// database that goes away mid-stream.
type downStore struct {
	*memstore.Store
	calls, failAt atomic.Int64
}

var errStoreDown = errors.New("store down")

func (s *downStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	if s.calls.Add(1) >= s.failAt.Load() {
		return errStoreDown
	}
	return s.Store.Update(ctx, fn)
}

// TestProcessStream_FailuresYieldAPrefix injects the three failures a stream can meet
// (the reader failing, the store failing, ctx cancelled) at a drawn point, with
// messages of a few users so that workers often wait for each other. Whatever the
// number of workers, the results yielded are those of the first messages, in input
// order, with no gap, and the failure is returned; a reader failing after m messages
// yields all m, and leaves the contacts a one-worker run of those m leaves.
func TestProcessStream_FailuresYieldAPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 150).Draw(t, "messages")
		users := rapid.IntRange(1, 6).Draw(t, "users")
		workers := rapid.SampledFrom([]int{1, 2, 4}).Draw(t, "workers")
		fault := rapid.SampledFrom([]string{"reader", "store", "ctx"}).Draw(t, "fault")
		at := rapid.IntRange(0, n).Draw(t, "at")
		var lines []string
		for i := range n {
			if rapid.Bool().Draw(t, "identify") {
				lines = append(lines, fmt.Sprintf(`{"type":"identify","userId":"u%d","messageId":"m%03d","traits":{"plan":"p%d"}}`, i%users, i, i))
			} else {
				lines = append(lines, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"A","messageId":"m%03d"}`, i%users, i))
			}
		}
		input := &failingStream{n: n, lines: lines, eof: true}
		if fault == "reader" {
			input.n, input.eof = at, false
		}
		opts := &regalkit.Options{Workers: workers, Now: func() time.Time { return t0 }}
		store := &downStore{Store: memstore.New()}
		store.failAt.Store(math.MaxInt64)
		if fault == "store" {
			store.failAt.Store(int64(at) + 1) // the first at Updates succeed
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got []string
		err := regalkit.New(store, opts).ProcessStream(ctx, input, func(r regalkit.Result) bool {
			got = append(got, r.MessageID)
			if fault == "ctx" && len(got) == at {
				cancel()
			}
			return true
		})
		for i, id := range got {
			if want := fmt.Sprintf("m%03d", i); id != want {
				t.Fatalf("result %d is %s, want %s: not a prefix of the input (%v)", i, id, want, got)
			}
		}
		switch fault {
		case "reader":
			if !errors.Is(err, errBroken) || len(got) != at {
				t.Fatalf("reader failing after %d messages: %d results, error %v", at, len(got), err)
			}
			ref := memstore.New()
			opts1 := *opts
			opts1.Workers = 1
			if err := regalkit.New(ref, &opts1).ProcessStream(context.Background(), strings.NewReader(strings.Join(lines[:at], "\n")), func(regalkit.Result) bool { return true }); err != nil {
				t.Fatal(err)
			}
			if w, g := state(t, ref), state(t, store.Store); !slices.Equal(w, g) {
				t.Fatalf("contacts differ from a one-worker run of the first %d messages\nwant:\n  %s\ngot:\n  %s", at, strings.Join(w, "\n  "), strings.Join(g, "\n  "))
			}
		case "store":
			// A message may take more than one Update: the failure may come before
			// message at, never after it.
			if err == nil && len(got) != n || err != nil && (!errors.Is(err, errStoreDown) || len(got) > at) {
				t.Fatalf("store failing from call %d: %d of %d results, error %v", at+1, len(got), n, err)
			}
		case "ctx":
			// All messages may be taken before the cancel; then nothing fails.
			if err == nil && len(got) != n || err != nil && (!errors.Is(err, context.Canceled) || len(got) < at) {
				t.Fatalf("ctx cancelled after %d results: %d of %d results, error %v", at, len(got), n, err)
			}
		}
	})
}

// TestProcessStream_OneWorkerStopsOnAnIdleStream: with one worker (the default) the
// stream is decoded ahead on a goroutine of its own, but that goroutine starts no Read
// while the worker applies a message. So on a stream with nothing more to say yet (a
// pipe whose writer waits), ProcessStream returns as soon as yield says stop, as it
// did when it read in line, and reads nothing after it returns.
func TestProcessStream_OneWorkerStopsOnAnIdleStream(t *testing.T) {
	pipes := map[string]func(t *testing.T) (io.Reader, io.WriteCloser){
		"io.Pipe": func(*testing.T) (io.Reader, io.WriteCloser) { return io.Pipe() },
		// An *os.File that is not a regular file: it may block, and is read through
		// the gate too.
		"os.Pipe": func(t *testing.T) (io.Reader, io.WriteCloser) {
			pr, pw, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { pr.Close() })
			return pr, pw
		},
	}
	for name, pipe := range pipes {
		t.Run(name, func(t *testing.T) { oneWorkerStopsOnAnIdleStream(t, pipe) })
	}
}

func oneWorkerStopsOnAnIdleStream(t *testing.T, pipe func(t *testing.T) (io.Reader, io.WriteCloser)) {
	for _, stopAt := range []int{1, 2, 3} {
		p, _ := batchProcessor(1)
		pr, pw := pipe(t)
		r := &countingReader{r: pr}
		done := make(chan error, 1)
		n := 0
		go func() {
			done <- p.ProcessStream(context.Background(), r, func(regalkit.Result) bool {
				n++
				return n < stopAt
			})
		}()
		// Three messages, then the writer waits (it never closes until the test ends).
		_, err := io.WriteString(pw, `{"type":"track","userId":"u0","event":"A","messageId":"w0"}`+"\n"+
			`{"type":"track","userId":"u1","event":"A","messageId":"w1"}`+"\n"+
			`{"type":"track","userId":"u2","event":"A","messageId":"w2"}`+"\n")
		require.NoError(t, err)
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("stop at %d: ProcessStream did not return after yield said stop: it waits for a Read of an idle stream", stopAt)
		}
		assert.Equal(t, stopAt, n)
		reads := r.reads.Load()
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, reads, r.reads.Load(), "the stream was read after ProcessStream returned")
		require.NoError(t, pw.Close())
	}
}

type countingReader struct {
	r     io.Reader
	reads atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	c.reads.Add(1)
	return c.r.Read(b)
}

// TestProcessStream_ReadersOfEveryShape: the messages come through whole and in order
// whatever the shape of the reads: a byte at a time, half of what is asked, the last
// bytes with io.EOF in the same Read, an error after the first Read (with its results
// before it). One worker reads such readers through the decoding goroutine's gate,
// several workers directly.
func TestProcessStream_ReadersOfEveryShape(t *testing.T) {
	lines := trackLines(40, 3, "r")
	text := strings.Join(lines, "\n") + "\n"
	shapes := map[string]func() io.Reader{
		"one byte":      func() io.Reader { return iotest.OneByteReader(strings.NewReader(text)) },
		"half":          func() io.Reader { return iotest.HalfReader(strings.NewReader(text)) },
		"data with EOF": func() io.Reader { return iotest.DataErrReader(strings.NewReader(text)) },
		"no final newline": func() io.Reader {
			return iotest.DataErrReader(strings.NewReader(strings.TrimSuffix(text, "\n")))
		},
	}
	for name, shape := range shapes {
		for _, w := range []int{1, 2} {
			p, _ := batchProcessor(w)
			var got []string
			err := p.ProcessStream(context.Background(), shape(), func(r regalkit.Result) bool {
				got = append(got, r.MessageID)
				return true
			})
			require.NoError(t, err, "%s, workers=%d", name, w)
			require.Len(t, got, len(lines), "%s, workers=%d", name, w)
			for i, id := range got {
				require.Equal(t, fmt.Sprintf("r%02d", i), id, "%s, workers=%d", name, w)
			}
		}
	}
	// The second Read fails: the five messages the first brought are processed, then
	// the error. And an error that comes with the last data: the data first.
	first := strings.Join(lines[:5], "\n") + "\n"
	failing := map[string]struct {
		r    func() io.Reader
		want int
		err  error
	}{
		"timeout after the first Read": {func() io.Reader {
			return iotest.TimeoutReader(io.MultiReader(strings.NewReader(first), strings.NewReader(text)))
		}, 5, iotest.ErrTimeout},
		"error with the data": {func() io.Reader { return &dataWithError{data: []byte(text), err: errBroken} }, len(lines), errBroken},
	}
	for name, f := range failing {
		for _, w := range []int{1, 2} {
			p, _ := batchProcessor(w)
			var got []string
			err := p.ProcessStream(context.Background(), f.r(), func(r regalkit.Result) bool {
				got = append(got, r.MessageID)
				return true
			})
			require.ErrorIs(t, err, f.err, "%s, workers=%d", name, w)
			require.Len(t, got, f.want, "%s, workers=%d", name, w)
			for i, id := range got {
				require.Equal(t, fmt.Sprintf("r%02d", i), id, "%s, workers=%d", name, w)
			}
		}
	}
}

// trackLines returns n NDJSON tracks of users users, their messageIds prefix then two
// digits of their index: the input of the tests of ProcessStream's plumbing.
func trackLines(n, users int, prefix string) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"type":"track","userId":"u%d","event":"A","messageId":"%s%02d"}`, i%users, prefix, i)
	}
	return lines
}

// dataWithError returns all its data and err in one Read, then io.EOF: a reader that
// reports its error once.
type dataWithError struct {
	data []byte
	err  error
}

func (d *dataWithError) Read(b []byte) (int, error) {
	if d.err == nil {
		return 0, io.EOF
	}
	n := copy(b, d.data)
	d.data = d.data[n:]
	if len(d.data) == 0 {
		err := d.err
		d.err = nil
		return n, err
	}
	return n, nil
}

// applyingStore is a memory store whose Update takes a millisecond and counts the
// Updates that run while its reader is inside a Read; lineReader gives one line a
// Read, each taking two milliseconds.
type applyingStore struct {
	*memstore.Store
	reader   *lineReader
	overlaps atomic.Int64
}

func (s *applyingStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	if s.reader.inRead.Load() > 0 {
		s.overlaps.Add(1)
	}
	time.Sleep(time.Millisecond)
	if s.reader.inRead.Load() > 0 {
		s.overlaps.Add(1)
	}
	return s.Store.Update(ctx, fn)
}

type lineReader struct {
	lines  []string
	inRead atomic.Int64
}

func (r *lineReader) Read(b []byte) (int, error) {
	r.inRead.Add(1)
	defer r.inRead.Add(-1)
	time.Sleep(2 * time.Millisecond)
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.lines[0]+"\n") // lines are shorter than any read
	r.lines = r.lines[1:]
	return n, nil
}

// TestProcessStream_OneWorkerReadsOnlyWhileWaiting: with one worker and a reader that
// may block, no Read of it runs while the worker applies a message (each Read here
// takes two milliseconds and each Update one, so a Read started by a goroutine reading
// ahead, even just after the worker took a message, is still running when the worker
// applies it), yet every message comes through in order.
func TestProcessStream_OneWorkerReadsOnlyWhileWaiting(t *testing.T) {
	lines := trackLines(30, 4, "g")
	r := &lineReader{lines: lines}
	store := &applyingStore{Store: memstore.New(), reader: r}
	p := regalkit.New(store, &regalkit.Options{Workers: 1, Now: func() time.Time { return t0 }})
	var got []string
	require.NoError(t, p.ProcessStream(context.Background(), r, func(res regalkit.Result) bool {
		got = append(got, res.MessageID)
		return true
	}))
	require.Len(t, got, len(lines))
	for i, id := range got {
		require.Equal(t, fmt.Sprintf("g%02d", i), id)
	}
	if runtime.GOMAXPROCS(0) > 1 {
		assert.Zero(t, store.overlaps.Load(), "a Read of the stream ran while the worker applied a message")
	}
}

// panickyStore is a memory store whose Update panics from its at-th call on.
type panickyStore struct {
	*memstore.Store
	calls, at atomic.Int64
}

func (s *panickyStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	if s.calls.Add(1) >= s.at.Load() {
		panic("store exploded")
	}
	return s.Store.Update(ctx, fn)
}

// panickyReader reads lines, then panics.
type panickyReader struct{ lines []string }

func (r *panickyReader) Read(b []byte) (int, error) {
	if len(r.lines) == 0 {
		panic("reader exploded")
	}
	n := copy(b, r.lines[0]+"\n")
	r.lines = r.lines[1:]
	return n, nil
}

// TestProcessStream_PanicsReachTheCaller: a panic of the store, of the reader or of
// yield, whichever goroutine it happens on (a worker's, the decoding goroutine's), is
// raised again on the goroutine that called ProcessStream, with its own value, once
// every worker has stopped; the caller can recover it, and no goroutine is left
// behind. (A panic that happened with the batch's lock not held used to be a fatal
// "unlock of unlocked mutex", which no recover can catch.)
func TestProcessStream_PanicsReachTheCaller(t *testing.T) {
	lines := trackLines(50, 5, "p")
	text := strings.Join(lines, "\n") + "\n"
	base := runtime.NumGoroutine()
	for _, w := range []int{1, 2, 4} {
		cases := map[string]struct {
			run  func() error
			want any
		}{
			"store": {func() error {
				s := &panickyStore{Store: memstore.New()}
				s.at.Store(20)
				return regalkit.New(s, &regalkit.Options{Workers: w}).ProcessStream(context.Background(), strings.NewReader(text), func(regalkit.Result) bool { return true })
			}, "store exploded"},
			"reader": {func() error {
				p, _ := batchProcessor(w)
				return p.ProcessStream(context.Background(), &panickyReader{lines: slices.Clone(lines)}, func(regalkit.Result) bool { return true })
			}, "reader exploded"},
			"yield": {func() error {
				p, _ := batchProcessor(w)
				n := 0
				return p.ProcessStream(context.Background(), strings.NewReader(text), func(regalkit.Result) bool {
					if n++; n == 10 {
						panic("yield exploded")
					}
					return true
				})
			}, "yield exploded"},
		}
		for name, c := range cases {
			var got any
			func() {
				defer func() { got = recover() }()
				err := c.run()
				t.Errorf("workers=%d, %s: ProcessStream returned %v instead of panicking", w, name, err)
			}()
			assert.Equal(t, c.want, got, "workers=%d, %s", w, name)
		}
	}
	time.Sleep(20 * time.Millisecond)
	assert.LessOrEqual(t, runtime.NumGoroutine(), base, "a goroutine outlived its ProcessStream")
}

// TestProcessStream_GoexitInYieldStops: a yield that ends its goroutine with
// runtime.Goexit (as t.FailNow does) stops the batch like a panic: no other worker
// applies or yields anything more, and every goroutine is gone. yield may run on a
// worker's goroutine rather than the caller's: then ProcessStream returns, with an
// error that says why.
func TestProcessStream_GoexitInYieldStops(t *testing.T) {
	base := runtime.NumGoroutine()
	for _, w := range []int{1, 2, 4} {
		p, store := batchProcessor(w)
		var yields atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			err := p.ProcessStream(context.Background(), strings.NewReader(strings.Join(trackLines(200, 7, "x"), "\n")), func(regalkit.Result) bool {
				if yields.Add(1) == 10 {
					runtime.Goexit()
				}
				return true
			})
			// Reached only when yield ran on another worker's goroutine.
			if err == nil || !strings.Contains(err.Error(), "Goexit") {
				t.Errorf("workers=%d: ProcessStream returned %v after a yield's goroutine exited", w, err)
			}
		}()
		<-done
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, int64(10), yields.Load(), "workers=%d: yielded after the Goexit", w)
		applied := len(state(t, store))
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, applied, len(state(t, store)), "workers=%d: still applying after the Goexit", w)
	}
	time.Sleep(20 * time.Millisecond)
	assert.LessOrEqual(t, runtime.NumGoroutine(), base, "a goroutine outlived its ProcessStream")
}

// firstSlowStore is a memory store whose first Update takes a while, so that later
// messages of other identifiers overtake it on other workers.
type firstSlowStore struct {
	*memstore.Store
	calls atomic.Int64
}

func (s *firstSlowStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	if s.calls.Add(1) == 1 {
		time.Sleep(30 * time.Millisecond)
	}
	return s.Store.Update(ctx, fn)
}

// TestProcessBatch_RegalEventByPhoneWaits_RuleR5: a Regal event without a userId finds
// its contact by phone (Rule R5), which depends on what was applied before it, not on
// shared identifiers. With several workers it waits for every earlier message, and
// every later one waits for it: the contacts are those of one worker even when the
// identify that gives the phone is slow to apply.
func TestProcessBatch_RegalEventByPhoneWaits_RuleR5(t *testing.T) {
	payloads := []string{
		`{"type":"identify","userId":"u1","messageId":"i1","timestamp":"2024-03-01T12:00:00Z","traits":{"phone":"+19545552399"}}`,
		`{"type":"track","event":"Call Completed","eventSource":"Regal Voice","anonymousId":"regal-contact:+19545552399","messageId":"r1","timestamp":"2024-03-01T12:01:00Z","context":{"traits":{"phone":"+19545552399"}}}`,
		`{"type":"identify","userId":"u2","messageId":"i2","timestamp":"2024-03-01T12:02:00Z","traits":{"phone":"+19175554444"}}`,
	}
	var msgs []event.Message
	for _, pl := range payloads {
		var m event.Message
		require.NoError(t, segmentio.Unmarshal([]byte(pl), &m))
		msgs = append(msgs, m)
	}
	run := func(workers int) []string {
		store := &firstSlowStore{Store: memstore.New()}
		n := 0
		p := regalkit.New(store, &regalkit.Options{Workers: workers, Now: func() time.Time { return t0 },
			NewID: func() string { n++; return fmt.Sprintf("c%d", n) }})
		_, err := p.ProcessBatch(context.Background(), slices.Clone(msgs))
		require.NoError(t, err)
		return state(t, store.Store)
	}
	want := run(1)
	require.Len(t, want, 2, "one worker: the Regal event lands on u1's contact")
	for _, w := range []int{2, 4} {
		assert.Equal(t, want, run(w), "workers=%d", w)
	}
}

// TestProcessStream_RecycledMembersAreNotKept_RuleS1: ProcessStream decodes each message's
// traits and properties into memory it recycles once the message is processed (issue
// 14). With that memory poisoned on release, streaming a corpus gives the results,
// contacts, events and outbox entries of ProcessBatch over messages decoded apart, with
// every option that reads a message's objects (context traits, opt-in events,
// triggers, the outbox): nothing the Processor or the store keeps refers to them.
func TestProcessStream_RecycledMembersAreNotKept_RuleS1(t *testing.T) {
	var data bytes.Buffer
	require.NoError(t, corpus.Write(&data, corpus.Config{Messages: 3000, Users: 300, Seed: 5}))
	// Context traits, an opt-in event, and a message whose objects are the largest.
	data.WriteString(`{"type":"track","event":"Page Viewed","userId":"u-ctx","messageId":"m-ctx","timestamp":"2024-01-02T00:00:00Z","context":{"traits":{"firstName":"Ada","phone":"+19175554444","custom":{"a":1}}},"properties":{"x":1}}` + "\n")
	data.WriteString(`{"type":"track","event":"SMS Opt In","userId":"u-ctx","messageId":"m-optin","timestamp":"2024-01-02T00:00:01Z","properties":{"phone":"+19175554444","text":"Yes"}}` + "\n")
	var big strings.Builder
	for i := range 600 {
		fmt.Fprintf(&big, `,"k%d":%d`, i, i)
	}
	data.WriteString(`{"type":"identify","userId":"u-big","messageId":"m-big","timestamp":"2024-01-02T00:00:02Z","traits":{"plan":"pro"` + big.String() + "}}\n")
	data.WriteString(`{"type":"track","event":"Loan Application Approved","userId":"u-big","messageId":"m-big2","timestamp":"2024-01-02T00:00:03Z","properties":{"p":"q"` + big.String() + "}}\n")

	approved, err := trigger.Decode(strings.NewReader(`{"name":"approved","entry":{"event":"Loan Application Approved"},"exit":[{"event":"Order Completed"}]}`))
	require.NoError(t, err)
	newProcessor := func(workers int) (*regalkit.Processor, *memstore.Store) {
		store := memstore.New()
		opts := variant{contextTraits: true}.options()
		opts.Workers, opts.Outbox, opts.Triggers = workers, true, []*trigger.Trigger{approved}
		return regalkit.New(store, opts), store
	}
	type entry struct {
		MessageID string
		Event     string
	}
	entries := func(store *memstore.Store) []entry {
		var out []entry
		for _, e := range drain(t, store) {
			en := entry{MessageID: e.MessageID}
			if e.Event != nil {
				b, err := json.Marshal(e.Event)
				require.NoError(t, err)
				en.Event = string(b)
			}
			out = append(out, en)
		}
		slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.MessageID+a.Event, b.MessageID+b.Event) })
		return out
	}
	// triggered lists the trigger changes of results, entry events included, without
	// the store-assigned contact ids and sequence numbers (two workers commit in
	// another order).
	triggered := func(results []regalkit.Result) []string {
		var out []string
		for _, r := range results {
			for _, tc := range r.Triggers {
				tc.ContactID, tc.Seq = "", 0
				b, err := json.Marshal(tc)
				require.NoError(t, err)
				out = append(out, r.MessageID+" "+string(b))
			}
		}
		return out
	}

	items, err := segmentio.DecodeAll(data.Bytes(), nil)
	require.NoError(t, err)
	msgs := make([]event.Message, len(items))
	for i, it := range items {
		require.NoError(t, it.Err)
		msgs[i] = it.Message
	}
	p, store := newProcessor(1)
	want, err := p.ProcessBatch(context.Background(), msgs)
	require.NoError(t, err)
	wantState, wantEntries := state(t, store), entries(store)
	require.NotEmpty(t, triggered(want), "the corpus enters the trigger")
	require.Greater(t, len(wantEntries), 1000)

	defer regalkit.PoisonRecycledMembers()()
	for _, workers := range []int{1, 2} {
		p, store := newProcessor(workers)
		got := streamAll(t, p, data.Bytes())
		assert.Equal(t, outcomes(want), outcomes(got), "workers=%d", workers)
		assert.Equal(t, triggered(want), triggered(got), "workers=%d", workers)
		assert.Equal(t, wantState, state(t, store), "workers=%d", workers)
		assert.Equal(t, wantEntries, entries(store), "workers=%d", workers)
	}
}

// TestProcessStream_RecycledMembers_RuleS3: drawn messages of every kind (the order
// properties' generator: opt-ins, context traits, aliases, deletes, anonymous-only
// messages, missing messageIds) streamed as NDJSON by one to three workers, with the
// recycled traits and properties poisoned once each message is processed, give the
// contacts of the same messages processed one by one (Rules S3, E2; issue 14).
func TestProcessStream_RecycledMembers_RuleS3(t *testing.T) {
	defer regalkit.PoisonRecycledMembers()()
	rapid.Check(t, func(t *rapid.T) {
		payloads, v, want := drawReplayed(t, 30)

		store := memstore.New()
		opts := v.options()
		opts.Workers = rapid.IntRange(1, 3).Draw(t, "workers")
		p := regalkit.New(store, opts)
		n := 0
		err := p.ProcessStream(context.Background(), strings.NewReader(strings.Join(payloads, "\n")), func(regalkit.Result) bool {
			n++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != len(payloads) {
			t.Fatalf("%d results for %d messages", n, len(payloads))
		}
		requireSameContacts(t, want, state(t, store))
	})
}

// scribbleObjects overwrites, in place, every member of the message's objects (traits,
// properties, context, integrations, other keys), keys and value bytes alike: what a
// caller may do with its message once Process has returned.
func scribbleObjects(m *event.Message) {
	for _, o := range []event.Object{m.Traits, m.Properties, m.Context.Traits, m.Context.Extra, m.Context.Library.Extra, m.Context.Page.Extra, m.Integrations, m.Extra} {
		for i := range o {
			for j := range o[i].Value {
				o[i].Value[j] = '#'
			}
			o[i] = event.Member{Key: "scribbled", Value: json.RawMessage(`"scribbled"`)}
		}
	}
}

// TestProcess_KeepsNothingOfTheMessage_RuleS3: drawn messages of every kind, each
// scribbled over (its objects' members and their bytes) once Process has returned,
// give the contacts of the same messages left alone: nothing the Processor or the
// store keeps shares memory with a message its caller owns (contact.Store, "Copies").
func TestProcess_KeepsNothingOfTheMessage_RuleS3(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads, v, want := drawReplayed(t, 30)

		store := memstore.New()
		p := regalkit.New(store, v.options())
		for _, pl := range payloads {
			var m event.Message
			if err := segmentio.Unmarshal([]byte(pl), &m); err != nil {
				continue // refused whole, as ProcessBytes refuses it
			}
			if _, err := p.Process(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			scribbleObjects(&m)
		}
		requireSameContacts(t, want, state(t, store))
	})
}
