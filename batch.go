package regalkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/reuse"
	"github.com/regalkit/regalkit/segmentio"
)

// ProcessBatch processes msgs with [Options.Workers] workers and returns one Result per
// message, in input order. Each message is checked as [Processor.Process] checks it.
//
// Messages that share an identifier (userId, anonymousId, previousId or messageId) are
// applied in input order, one after the other, so every contact sees its messages as a
// one-worker run would and a re-delivery is always the later copy (Rule E2). Messages
// that share none may be applied at once and in any order: the store keeps each one
// atomic (Rule S2) and the contacts do not depend on the order (Rule S3).
//
// The contacts are those of a one-worker run. A diagnostic that depends on other
// identifiers' messages (identity.conflict: an anonymous ID already linked to another
// userId, Rule I4, or an alias in conflict, Rule I5; message.deleted for an
// anonymous-only message of a deleted user's time, Rule I7) reports what had been
// applied when the message was, and so may differ from a one-worker run's, as in any
// other arrival order. A Regal event without a userId, which finds its contact by
// phone or email (Rule R5), is applied after every earlier message and before every
// later one, as one worker would, since what it finds depends on them all
// (Options.MatchByPhone, which matches every message that way, keeps one worker).
//
// The error is for store and context failures only. It comes with the results of the
// messages before the failed one; with several workers, later messages may have been
// applied too, and processing them again changes nothing (Rule E2). A panic of the
// store is raised again on the caller's goroutine once every worker has stopped.
func (p *Processor) ProcessBatch(ctx context.Context, msgs []event.Message) ([]Result, error) {
	results := make([]Result, 0, len(msgs))
	k := 0
	err := p.run(ctx, func(it *batchItem) (bool, error) {
		if k == len(msgs) {
			return false, nil
		}
		it.msg, it.diag, it.src = msgs[k], nil, fromGo
		k++
		return true, nil
	}, func(r Result) bool {
		results = append(results, r)
		return true
	})
	return results, err
}

// ProcessStream decodes Segment JSON from r with a [segmentio.Decoder] (any form of
// Rule D1; NDJSON is read line by line, never whole) and processes each message as
// [Processor.ProcessBatch] does, handing each Result to yield in input order. A message
// that cannot be decoded is a Result with its diagnostic; input that stops being
// readable as JSON (a syntax error outside NDJSON, a limit of the whole document) ends
// with a Result holding that diagnostic. When yield returns false, ProcessStream stops
// taking messages, waits for those under way and returns nil.
//
// When the process can run more than one goroutine at once (runtime.GOMAXPROCS above
// one), r is decoded on a goroutine of its own, a few messages ahead of the workers,
// one worker included: decoding the next messages overlaps with applying this one.
// With one worker, unless r is a regular file or an in-memory reader (which never make
// a Read wait), that goroutine reads r only while the worker waits for input, so that a
// stream with nothing more to say yet (a pipe, a connection) is not being read while
// the worker applies a message: ProcessStream returns as soon as yield says stop, as
// it would reading in line. With several workers it reads ahead freely. When
// ProcessStream returns, that goroutine has ended (after the Read of r under way, if
// any) and r is not read again.
//
// The messages never leave ProcessStream, and it reuses the memory of each one's
// traits and properties for the next ones once it has processed it: a store must copy
// what it keeps of them, as [contact.Store] ("Copies") and [contact.OutboxTx] require.
//
// The error is for failures of r, of the store and of ctx. yield is called by one
// goroutine at a time. A panic of r, of the store or of yield, on whichever goroutine,
// is raised again with its own value on the goroutine that called ProcessStream, once
// every worker has stopped: it can be recovered there as if one worker had processed
// the stream in line.
func (p *Processor) ProcessStream(ctx context.Context, r io.Reader, yield func(Result) bool) error {
	var ahead *decodeAhead
	if p.workers() > 1 || runtime.GOMAXPROCS(0) > 1 {
		ahead = newDecodeAhead()
		if p.workers() == 1 && !neverBlocks(r) {
			r = &gatedReader{r: r, d: ahead}
		}
	}
	dec := segmentio.NewDecoder(r)
	if p.opts.Limits != nil {
		dec.SetLimits(*p.opts.Limits)
	}
	stopped := false
	next := func(it *batchItem) (bool, error) {
		if stopped {
			return false, nil
		}
		it.diag = nil
		if it.arena == nil {
			it.arena = memberArenas.Get().(*memberArena)
		}
		err := reuse.DecodeInto(dec, &it.msg, &it.arena.m)
		switch {
		case err == nil:
			return true, nil
		case err == io.EOF:
			return false, nil
		case isItemError(err):
			d := decodeDiagnostic(err)
			it.diag = &d
			return true, nil
		case errors.Is(err, segmentio.ErrSyntax), errors.Is(err, segmentio.ErrLimit),
			errors.Is(err, segmentio.ErrInvalidMessage), errors.Is(err, segmentio.ErrUnsupportedType):
			d := decodeDiagnostic(err)
			it.msg, it.diag, stopped = event.Message{}, &d, true
			return true, nil
		default:
			return false, err
		}
	}
	if ahead != nil {
		ahead.start(next)
		defer ahead.stop()
		next = ahead.next
	}
	return p.run(ctx, next, yield)
}

// decodeAhead runs a batch's next on a goroutine of its own, a few items ahead of the
// workers. Workers take items in input order under the batch's lock, so decoding there
// would make it the one step no two workers can do at once (about a quarter of the
// work of a message); on its own goroutine it overlaps with every worker's processing.
// One worker gains as much: while it applies a message the next ones are decoded on
// another core (issue 14: BENCHMARKS.md). Only one worker in a process limited to one
// goroutine at a time (GOMAXPROCS 1) decodes in line, where a goroutine would only add
// its handoffs.
type decodeAhead struct {
	mu       sync.Mutex
	notEmpty sync.Cond // signalled when filled gets an item, or the goroutine ends
	notFull  sync.Cond // signalled when filled is taken, or stop is called
	// filled holds the items decoded and not yet taken, in input order; the goroutine
	// appends to it, and next takes all of it at once, leaving it the slice it had
	// emptied before. Guarded by mu.
	filled []batchItem
	// ended is set when the goroutine has decoded its last item: end is what next
	// returns once filled is empty. Guarded by mu.
	ended bool
	end   error
	quit  bool // stop was called; guarded by mu
	// panicked is a panic the goroutine recovered, which ended it; guarded by mu.
	panicked *batchPanic
	// stopping is quit for the goroutine to check between items without the lock.
	stopping   atomic.Bool
	takerWaits bool // next waits on notEmpty; guarded by mu
	// readerWaits is set while the goroutine waits in gatedReader.Read for the
	// workers to run out of items (gate). Guarded by mu.
	readerWaits bool
	gate        sync.Cond

	// taking holds the items next took from filled, from taken on. Only next uses
	// them (the batch calls next under its taking lock).
	taking []batchItem
	taken  int

	done chan struct{} // closed when the goroutine has returned
}

// decodeAheadItems is how many items decodeAhead decodes before the workers take them.
// The workers take what is there all at once, so that the two goroutines wake each
// other about once per decodeAheadItems items rather than once per item: a channel of
// items cost one worker about 2 µs of CPU a message in handoffs (issue 14). Decoded
// messages held at once: up to twice as many (those taken, and the queue refilled).
const decodeAheadItems = 64

func newDecodeAhead() *decodeAhead {
	d := &decodeAhead{
		filled: make([]batchItem, 0, decodeAheadItems),
		taking: make([]batchItem, 0, decodeAheadItems),
		done:   make(chan struct{}),
	}
	d.notEmpty.L, d.notFull.L, d.gate.L = &d.mu, &d.mu, &d.mu
	return d
}

// start runs next on the goroutine, until it reports the end or stop is called.
func (d *decodeAhead) start(next func(*batchItem) (bool, error)) {
	go func() {
		defer close(d.done)
		defer func() {
			// A panic of r or of the decoder is raised again by next, on the worker
			// that takes the next item (and from there on run's caller).
			if v := recover(); v != nil {
				d.mu.Lock()
				d.panicked, d.ended = &batchPanic{v}, true
				if d.takerWaits {
					d.notEmpty.Signal()
				}
				d.mu.Unlock()
			}
		}()
		var it batchItem
		for !d.stopping.Load() { // no new item, and so no new Read, once stop is called
			ok, err := next(&it)
			d.mu.Lock()
			for len(d.filled) == cap(d.filled) && !d.quit {
				d.notFull.Wait()
			}
			switch {
			case d.quit:
			case ok && err == nil:
				d.filled = append(d.filled, it)
			default: // next reports an item, or the end with or without an error
				d.ended, d.end = true, err
			}
			stop := d.quit || d.ended
			if d.takerWaits {
				d.notEmpty.Signal()
			}
			d.mu.Unlock()
			if stop {
				return
			}
			it = batchItem{}
		}
	}()
}

// errStopped is what gatedReader.Read returns once stop is called: the decoder's
// goroutine is to end, not to read.
var errStopped = errors.New("regalkit: stream processing stopped")

// gatedReader is the reader the decoding goroutine reads through when there is one
// worker and r may block. It reads r in chunks into a buffer of its own, and starts a
// Read of r only when the worker has taken every item decoded and waits for more (or
// stop is called). While the worker applies a message, the goroutine decodes from
// what was read but starts no Read, which on a stream with nothing more to say yet
// would block until it says more: a yield that says stop would then have to wait for
// that, where reading in line (one worker before issue 14) it never did. The chunks
// keep those waits rare: the two goroutines meet at the gate once per chunk, not once
// per read of the decoder's own buffer (4 KB; gating those made one worker slower than
// decoding in line).
//
// With several workers one of them may wait while another applies a message, so a
// gate would not spare that wait; they read through r directly.
type gatedReader struct {
	r    io.Reader
	d    *decodeAhead
	buf  []byte
	pos  int
	rerr error // the error of r's last Read, returned once buf is drained
}

// neverBlocks reports whether a Read of r returns at once whatever the input: an
// in-memory reader, or a regular file (one on a network or FUSE file system may stall,
// but does not wait for a writer to say more). Decoding ahead reads those freely (the gate of
// gatedReader cost one worker 13% of its rate on an in-memory corpus, the waits it
// adds once per chunk).
func neverBlocks(r io.Reader) bool {
	switch r := r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return true
	case *os.File:
		fi, err := r.Stat()
		return err == nil && fi.Mode().IsRegular()
	}
	return false
}

// gatedReader reads r in chunks of minGatedChunk bytes at first, twice as large each
// time a Read fills one, up to maxGatedChunk: a stream that trickles keeps a small
// buffer, a file soon meets the gate only once per thousand messages or so.
const (
	minGatedChunk = 16 << 10
	maxGatedChunk = 1 << 20
)

func (g *gatedReader) Read(b []byte) (int, error) {
	if g.pos == len(g.buf) {
		if g.rerr != nil {
			return 0, g.rerr
		}
		d := g.d
		d.mu.Lock()
		for !d.quit && !(d.takerWaits && len(d.filled) == 0) {
			d.readerWaits = true
			d.gate.Wait()
		}
		d.readerWaits = false
		quit := d.quit
		d.mu.Unlock()
		if quit {
			return 0, errStopped
		}
		switch {
		case g.buf == nil:
			g.buf = make([]byte, minGatedChunk)
		case len(g.buf) == cap(g.buf) && cap(g.buf) < maxGatedChunk:
			// The last Read filled the buffer: the source has more to give at once
			// (a file, a busy connection), so read it in larger chunks.
			g.buf = make([]byte, 2*cap(g.buf))
		}
		n, err := g.r.Read(g.buf[:cap(g.buf)])
		g.buf, g.pos, g.rerr = g.buf[:n], 0, err
		if n == 0 {
			return 0, err
		}
	}
	n := copy(b, g.buf[g.pos:])
	g.pos += n
	return n, nil
}

// next is the batch's next: the goroutine's next item, moved into dst.
func (d *decodeAhead) next(dst *batchItem) (bool, error) {
	if d.taken == len(d.taking) {
		d.mu.Lock()
		for len(d.filled) == 0 && !d.ended {
			d.takerWaits = true
			if d.readerWaits {
				d.gate.Signal() // the goroutine may read now
			}
			d.notEmpty.Wait()
		}
		d.takerWaits = false
		// Take everything decoded so far, and give the goroutine the emptied slice
		// to fill (cleared: it held messages the workers now own).
		clear(d.taking)
		d.taking, d.filled, d.taken = d.filled, d.taking[:0], 0
		d.notFull.Signal()
		end, panicked := d.end, d.panicked
		d.mu.Unlock()
		if len(d.taking) == 0 {
			if panicked != nil {
				panic(panicked.value)
			}
			return false, end
		}
	}
	*dst = d.taking[d.taken]
	d.taking[d.taken] = batchItem{}
	d.taken++
	return true, nil
}

// stop ends the goroutine and waits for it, so that the reader is not read once
// ProcessStream has returned.
func (d *decodeAhead) stop() {
	d.stopping.Store(true)
	d.mu.Lock()
	d.quit = true
	d.notFull.Signal()
	d.gate.Signal()
	d.mu.Unlock()
	<-d.done
}

// processDecoded processes what segmentio.DecodeAll returned, as ProcessBytes
// documents.
func (p *Processor) processDecoded(ctx context.Context, items []segmentio.Result, decodeErr error) ([]Result, error) {
	results := make([]Result, 0, len(items)+1)
	k := 0
	err := p.run(ctx, func(it *batchItem) (bool, error) {
		switch {
		case k < len(items):
			it.msg, it.diag = items[k].Message, nil
			if e := items[k].Err; e != nil {
				d := decodeDiagnostic(e)
				it.diag = &d
			}
		case k == len(items) && decodeErr != nil:
			d := decodeDiagnostic(decodeErr)
			it.msg, it.diag = event.Message{}, &d
		default:
			return false, nil
		}
		k++
		return true, nil
	}, func(r Result) bool {
		results = append(results, r)
		return true
	})
	return results, err
}

// isItemError reports whether err concerns one message of the input alone.
func isItemError(err error) bool {
	var ie *segmentio.ItemError
	return errors.As(err, &ie)
}

// maxWorkers bounds Options.Workers: enough for a store over the network, whose
// transactions mostly wait.
const maxWorkers = 1024

// workers returns how many messages a batch applies at once (Options.Workers).
func (p *Processor) workers() int {
	switch {
	case p.opts.MatchByPhone:
		// Matching by phone or email joins messages that share no identifier, in an
		// order-dependent way (Rule I6): keep input order.
		return 1
	case p.opts.Workers < 0:
		return runtime.GOMAXPROCS(0)
	case p.opts.Workers == 0:
		return 1
	}
	return min(p.opts.Workers, maxWorkers)
}

// batchItem is one input of a batch: a message, or the diagnostic that stands for an
// input that could not be decoded.
type batchItem struct {
	msg  event.Message
	diag *diag.Diagnostic
	src  source // fromDecoder or fromGo
	// arena, when not nil, holds the members of msg's traits and properties, decoded
	// by ProcessStream into recycled memory (reuse.DecodeInto): the worker hands it
	// back (release) once it has processed msg.
	arena *memberArena
}

// memberArena is the memory of a streamed message's traits and properties, recycled
// from one message to the next: its members were a sixth of the bytes a message cost
// (about 500 B of 3,450 on BenchmarkPipeline's corpus, issue 14), and every one was
// dead once the message was processed, since stores copy what they keep (contact.Store,
// "Copies"; contact.OutboxTx.Enqueue).
type memberArena struct{ m []event.Member }

var memberArenas = sync.Pool{New: func() any { return new(memberArena) }}

// maxArenaMembers is the largest arena kept for reuse: one message with huge objects
// does not leave every arena that size.
const maxArenaMembers = 512

// poisonArenas makes release overwrite an arena's members with poison rather than
// clear them, for the tests that check that nothing keeps them.
var poisonArenas atomic.Bool

// poison is the member a poisoned arena holds.
var poison = event.Member{Key: "\x00recycled", Value: []byte(`"recycled"`)}

// release hands the arena back for the next message to be decoded into. The caller
// no longer uses the message whose objects it held.
func (a *memberArena) release() {
	m := a.m[:cap(a.m)]
	switch {
	case poisonArenas.Load(): // an arena too large to keep too: whatever kept it sees it
		for i := range m {
			m[i] = poison
		}
	case cap(m) <= maxArenaMembers:
		clear(m) // its values point into the message's text
	}
	if cap(m) > maxArenaMembers {
		a.m = nil
	} else {
		a.m = m[:0]
	}
	memberArenas.Put(a)
}

// releaseArena hands back the arena of the item's message, which is no longer used.
func (it *batchItem) releaseArena() {
	if it.arena != nil {
		it.arena.release()
		it.arena = nil
		it.msg.Traits, it.msg.Properties = nil, nil
	}
}

// batch runs the messages of one ProcessBatch, ProcessStream or ProcessBytes call over
// several workers. Its fields are guarded by mu.
type batch struct {
	p    *Processor
	mu   sync.Mutex
	cond sync.Cond
	// taking is held by the one worker taking the next item, from before it checks
	// for room until the item has its index: next is called under taking alone, not
	// under mu, so that while it waits for input (a stream whose next message has not
	// come yet) the other workers still file and yield their results.
	taking sync.Mutex
	// next fills the next input item; false means the input is exhausted, and an error
	// that it cannot be read.
	next  func(*batchItem) (bool, error)
	yield func(Result) bool

	taken   int            // items taken by workers
	emitted int            // items whose results were yielded, a prefix of the input
	slots   []batchSlot    // finished results waiting to be yielded, by index mod len
	last    map[string]int // identifier -> index of the latest taken message holding it
	stop    bool           // take no more items: input exhausted, yield said stop, or failure
	quit    bool           // yield said stop: yield nothing more
	// barrier is the index of the latest message that waits for every earlier one
	// (matchedByPhone), which every later message waits for; -1 for none.
	barrier int
	err     error // the failure of the lowest index so far
	errAt   int   // its index
	// panicked is the first panic a worker recovered (of the store, of r, of yield);
	// run raises it again once every worker has stopped.
	panicked *batchPanic
}

type batchSlot struct {
	index int
	full  bool
	res   Result
}

// run processes the items next gives, handing their results to yield in input order.
func (p *Processor) run(ctx context.Context, next func(*batchItem) (bool, error), yield func(Result) bool) error {
	n := p.workers()
	b := &batch{p: p, next: next, yield: yield, slots: make([]batchSlot, 4*n+4), errAt: -1, barrier: -1}
	b.cond.L = &b.mu
	if n > 1 {
		b.last = make(map[string]int, 8*n)
	}
	var wg sync.WaitGroup
	for range n - 1 {
		wg.Go(func() { b.work(ctx) })
	}
	b.work(ctx)
	wg.Wait()
	if b.panicked != nil {
		// A worker's panic, raised again here: on the caller's goroutine, once every
		// worker has stopped, as one worker processing in line would have raised it.
		panic(b.panicked.value)
	}
	return b.err
}

// batchKeys returns the identifiers that order m after earlier messages holding them.
func batchKeys(m *event.Message) [4]string {
	return [4]string{m.MessageID, m.UserID, m.AnonymousID, m.PreviousID}
}

// done reports whether item i is finished.
func (b *batch) done(i int) bool {
	if i < b.emitted {
		return true
	}
	s := &b.slots[i%len(b.slots)]
	return s.full && s.index == i
}

// failedBefore reports whether a failure happened at an index below i.
func (b *batch) failedBefore(i int) bool { return b.err != nil && b.errAt < i }

func (b *batch) fail(i int, err error) {
	if b.err == nil || i < b.errAt {
		b.err, b.errAt = err, i
	}
	b.stop = true
}

// work takes items in input order and processes them until there are none left.
func (b *batch) work(ctx context.Context) {
	// held and taking say whether this worker holds mu and taking: a panic (of the
	// store, of r, of yield, or a bug) may come with either held or not, and the
	// deferred function puts both right before it records the panic for run to raise
	// again on its caller's goroutine.
	held, taking, returned := true, false, false
	b.mu.Lock()
	defer func() {
		v := recover()
		if taking {
			b.taking.Unlock()
		}
		if !held {
			b.mu.Lock()
		}
		if v != nil || !returned { // a panic, or runtime.Goexit (t.FailNow in yield)
			b.recordPanic(v)
		}
		b.mu.Unlock()
	}()
	b.takeAndApply(ctx, &held, &taking)
	returned = true
}

// takeAndApply is the loop of work, which it starts holding mu; *held and *taking say
// at every moment whether it holds mu and taking.
func (b *batch) takeAndApply(ctx context.Context, held, taking *bool) {
	var it batchItem
	for {
		b.mu.Unlock()
		*held = false
		b.taking.Lock()
		*taking = true
		b.mu.Lock()
		*held = true
		for !b.stop && b.taken-b.emitted >= len(b.slots) {
			b.cond.Wait()
		}
		if b.stop {
			b.taking.Unlock()
			*taking = false
			return
		}
		if err := ctx.Err(); err != nil {
			b.taking.Unlock()
			*taking = false
			b.fail(b.taken, fmt.Errorf("regalkit: %w", err))
			b.cond.Broadcast()
			return
		}
		b.mu.Unlock()
		*held = false
		ok, err := b.next(&it) // under taking alone: see batch.taking
		if ok && err == nil && it.msg.MessageID == "" && (it.diag == nil || it.msg.Kind.Valid()) {
			// Rule E2: a re-delivery has the same. Here, not under mu: the
			// other workers file and yield their results meanwhile. A message refused
			// whole but read far enough to have a type gets one too, as Process gives
			// it: its result and diagnostic name it.
			it.msg.MessageID = event.DeriveMessageID(&it.msg)
			if it.diag != nil && it.diag.MessageID == "" {
				d := *it.diag
				d.MessageID = it.msg.MessageID
				it.diag = &d
			}
		}
		b.mu.Lock()
		*held = true
		b.taking.Unlock()
		*taking = false
		if err != nil {
			b.fail(b.taken, err)
		}
		if !ok || b.stop { // b.stop: yield said stop, or a failure, while next ran
			b.stop = true
			b.cond.Broadcast()
			return
		}
		i := b.taken
		b.taken++
		if it.diag != nil {
			id := it.msg.MessageID
			if event.MessageIDTooLong(id) {
				id = "" // refused for its length (Rule D6), it is not echoed: it may hold anything
			}
			b.finish(i, Result{MessageID: id, Diagnostics: []diag.Diagnostic{*it.diag}})
			it.releaseArena()
			continue
		}
		var keys [4]string
		if b.last != nil {
			keys = batchKeys(&it.msg)
			var deps [len(keys) + 1]int
			nd := 0
			for _, k := range keys {
				if k == "" {
					continue
				}
				if j, found := b.last[k]; found && j != i { // j == i: a key the message holds twice (alias P→P)
					deps[nd] = j
					nd++
				}
				b.last[k] = i
			}
			// A message matched by what was applied before it rather than by its
			// identifiers (a Regal event without a userId, Rule R5) waits for every
			// earlier message, and every later one waits for it: it sees what one
			// worker would have applied, and so do they.
			if b.barrier >= 0 {
				deps[nd] = b.barrier
				nd++
			}
			waitAll := matchedByPhone(&it.msg)
			if waitAll {
				b.barrier = i
			}
			// A failure at a later index (the input failing after this message, or ctx
			// seen when the next was taken) does not stop this message: its result is
			// still due, and every later one waits for it to be yielded. Only a
			// failure before it, whose result would never come, does.
			for _, j := range deps[:nd] {
				for !b.done(j) && !b.failedBefore(i) && b.panicked == nil {
					b.cond.Wait()
				}
			}
			// Results are yielded in order: once they are up to i, every earlier
			// message is done. When yield said stop nothing more is yielded; the
			// message is applied then as the others under way are, whose workers
			// may wait for it.
			for waitAll && b.emitted < i && !b.quit && !b.failedBefore(i) && b.panicked == nil {
				b.cond.Wait()
			}
			if b.failedBefore(i) || b.panicked != nil {
				return
			}
		}
		b.mu.Unlock()
		*held = false
		res, err := b.p.process(ctx, &it.msg, it.src)
		it.releaseArena() // nothing refers to the message's objects any more
		b.mu.Lock()
		*held = true
		for _, k := range keys {
			if k != "" && b.last[k] == i {
				delete(b.last, k)
			}
		}
		if err != nil {
			b.fail(i, err)
			b.cond.Broadcast()
			return
		}
		b.finish(i, res)
	}
}

// recordPanic keeps the first panic of a worker for run to raise again, and stops the
// batch: no more items are taken and nothing more is yielded. v is nil when the worker
// ended by runtime.Goexit, which goes on unwinding by itself. The caller holds mu.
func (b *batch) recordPanic(v any) {
	if v != nil && b.panicked == nil {
		b.panicked = &batchPanic{v}
	}
	if v == nil {
		// On the caller's goroutine the Goexit goes on and nothing returns; on
		// another worker's, the caller learns why the batch stopped.
		b.fail(b.emitted, errGoexit)
	}
	b.stop, b.quit = true, true
	b.cond.Broadcast()
}

// errGoexit is what a batch returns when a worker's goroutine other than the caller's
// ended by runtime.Goexit in yield.
var errGoexit = errors.New("regalkit: yield ended its goroutine (runtime.Goexit); processing stopped")

// batchPanic is a panic a worker recovered, to be raised again on run's caller.
type batchPanic struct{ value any }

// finish files the result of item i and yields every result now due, in order.
func (b *batch) finish(i int, res Result) {
	b.slots[i%len(b.slots)] = batchSlot{index: i, full: true, res: res}
	for !b.quit && (b.err == nil || b.emitted < b.errAt) {
		s := &b.slots[b.emitted%len(b.slots)]
		if !s.full || s.index != b.emitted {
			break
		}
		r := s.res
		*s = batchSlot{index: -1}
		b.emitted++
		if !b.yield(r) {
			b.quit, b.stop = true, true
		}
	}
	b.cond.Broadcast()
}
