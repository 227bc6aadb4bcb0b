package regalkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/regalio"
)

// ForwarderOptions configures a [Forwarder]. The zero value, like a nil
// *ForwarderOptions, gives the defaults each field documents.
type ForwarderOptions struct {
	// Parallel is the most entries sent at once, each of a different contact. Zero
	// means 16.
	Parallel int
	// Lease is how long a claimed entry is the Forwarder's alone (see contact.Outbox):
	// a send is cut off a tenth of a lease before the claim's LeaseUntil (so a Claim
	// slow to return shortens the send), and an entry whose Forwarder crashed is claimed
	// again once its lease has ended. It should exceed a whole regalio.Client.Send,
	// retries included. Zero means 2 minutes.
	Lease time.Duration
	// Poll is how long the Forwarder waits before it looks again when nothing was due.
	// Zero means 500ms. [Forwarder.Notify] cuts the wait short.
	Poll time.Duration
	// MinBackoff is the wait before an entry is tried again after its first failed
	// send; it doubles with each failure up to MaxBackoff, with jitter. Zero means 1
	// second; MaxBackoff zero means 10 minutes.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts parks an entry as dead after that many failed sends that might have
	// succeeded later (network errors, 408, 429, 5xx, a refused API key). Zero means
	// never: such an entry is tried until it goes through. Attempts are counted when an
	// entry is claimed: a send Stop cut off is handed back, not parked, but counts, as
	// its request may have reached Regal.
	MaxAttempts int
	// EventSource is sent as every event's eventSource (Rule R1). Empty means
	// "Segment".
	EventSource string
	// Logger receives a warning per failed send, a warning per body that left values
	// out (Rule R1), and an error per parked entry. It never receives a whole phone
	// number or email address. Nil means no logging.
	Logger *slog.Logger
	// Now is the clock of claims and backoffs. Nil means time.Now.
	Now func() time.Time
}

// ForwarderStats are the counts of a Forwarder's outbox and of what the Forwarder did.
type ForwarderStats struct {
	// The outbox's counts, from the store: across every Forwarder sharing it.
	contact.OutboxStats
	// OldestPendingAge is how long the oldest pending entry has waited; zero when none.
	OldestPendingAge time.Duration

	// What this Forwarder did since it was made.
	Delivered int64 // entries Regal answered 2xx for
	Skipped   int64 // entries with nothing to send: the contact is gone, or Regal could not tell who it is
	Retried   int64 // failed sends set to be tried again
	Parked    int64 // entries refused for good, now dead
	// Unknown counts failed sends whose outcome is unknown: a request got no answer
	// or a 5xx before the attempts or the lease ran out, so Regal may have recorded
	// it, and the retry may record it twice. A send answered only 408 or 429 is not
	// counted: those record nothing.
	Unknown int64
	// LeaseLost counts entries whose lease another claim took before this Forwarder
	// settled them: they may be sent twice.
	LeaseLost int64
	// Unmapped counts the values that bodies this Forwarder built left out, having no
	// place for them in Regal's Events API (Rule R1): a custom key that is a standard
	// trait's, a second primary phone, properties without an event name. Each body
	// that left any out is also logged as a warning.
	Unmapped int64
}

// Forwarder drains a store's outbox (contact.Outbox, filled by a Processor with
// Options.Outbox) into Regal with a regalio.Client (Rules O2–O4; see RULES.md).
//
// What it sends for an entry is the contact as it is at send time, encoded by
// regalio.FromContact and regalio.Encode, with the entry's track event when it has
// one (Rule R1): so a message that arrived late never sends stale traits. An entry
// whose contact is gone (deleted, Rule I7, or merged into another, Rule I3) or has no
// userId, phone or email, which Regal needs to find it, is settled without a request.
//
// # Order and parallelism
//
// Entries of one contact are sent one at a time, in the order their messages
// committed: the outbox never hands out a contact's next entry while one is leased or
// backing off. Entries of different contacts are sent in parallel, up to
// ForwarderOptions.Parallel. Several Forwarders, in one process or many, may share
// one outbox.
//
// # Failures
//
// A send that Regal refuses for good (a 4xx other than 401, 403, 408 and 429, or a 3xx
// other than 307 and 308, such as a redirect that would lose the body: 301, 302, 303)
// parks the entry as dead with its
// reason; the contact's next entry then goes. A send that
// may succeed later (what regalio.Client retries, once its own attempts ran out) is
// tried again after a backoff, as is a refused API key (401, 403): the key is the
// operator's to fix, and parking every entry meanwhile would lose them. With
// ForwarderOptions.MaxAttempts such an entry is parked after that many attempts.
//
// # Guarantees
//
// At least once: an entry is settled only after Regal answered 2xx, or refused it for
// good. Once in practice: it is sent again only when the outcome of a send is unknown
// (the response was lost, the process crashed between Regal's answer and the outbox's
// acknowledgement, a lease ran out, an acknowledgement failed). Stats counts the sends
// of this Forwarder that failed that way (Unknown) and the leases it lost (LeaseLost);
// not counted are a retry inside one Send that then succeeded (a regalio.Client retries
// a 5xx or an unanswered attempt up to its MaxAttempts), a crash, and an
// acknowledgement the store failed to take (logged as a warning). Regal documents no
// idempotency key that would make it exactly once.
//
// A Forwarder is safe for concurrent use. Start it once; Stop it once.
type Forwarder struct {
	outbox contact.Outbox
	store  contact.Store
	client *regalio.Client
	opts   ForwarderOptions
	log    *slog.Logger

	sendCtx     context.Context
	cancelSends context.CancelFunc
	slots       chan struct{} // one per send in flight
	wake        chan struct{}
	stop        chan struct{}
	stopOnce    sync.Once
	started     atomic.Bool
	loopDone    chan struct{}
	sends       sync.WaitGroup

	delivered, skipped, retried, parked, unknown, leaseLost, unmapped atomic.Int64
}

// ErrNoOutbox is NewForwarder's error for a store that does not implement
// contact.Outbox.
var ErrNoOutbox = errors.New("regalkit: the store has no outbox")

// NewForwarder returns a Forwarder that drains store's outbox into client, configured
// by opts (nil means the defaults). It returns ErrNoOutbox when the store does not
// implement contact.Outbox.
func NewForwarder(store contact.Store, client *regalio.Client, opts *ForwarderOptions) (*Forwarder, error) {
	o, ok := store.(contact.Outbox)
	if !ok {
		return nil, ErrNoOutbox
	}
	if client == nil {
		return nil, errors.New("regalkit: NewForwarder with a nil client")
	}
	f := &Forwarder{outbox: o, store: store, client: client}
	if opts != nil {
		f.opts = *opts
	}
	d := &f.opts
	if d.Parallel <= 0 {
		d.Parallel = 16
	}
	if d.Lease <= 0 {
		d.Lease = 2 * time.Minute
	}
	if d.Poll <= 0 {
		d.Poll = 500 * time.Millisecond
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = 10 * time.Minute
	}
	d.MaxBackoff = max(d.MaxBackoff, d.MinBackoff)
	if d.EventSource == "" {
		d.EventSource = "Segment"
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	f.log = d.Logger
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.sendCtx, f.cancelSends = context.WithCancel(context.Background())
	f.slots = make(chan struct{}, d.Parallel)
	f.wake = make(chan struct{}, 1)
	f.stop = make(chan struct{})
	f.loopDone = make(chan struct{})
	return f, nil
}

// Start starts forwarding, in goroutines of the Forwarder's own, until Stop. Calling it
// again does nothing.
func (f *Forwarder) Start() {
	if f.started.CompareAndSwap(false, true) {
		go f.loop()
	}
}

// Notify tells the Forwarder that entries may be due, so that it looks at once rather
// than after its poll interval. It never blocks.
func (f *Forwarder) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming entries and waits for the sends in flight to finish and be
// settled. When ctx ends first, it cuts the remaining sends off, sets their entries due
// again at once (for the next Forwarder), and returns ctx's error. A Forwarder that
// was never started stops at once.
//
// ctx bounds the sends and a Claim under way: when it ends, the Claim's context is
// cancelled too (a store that honours it returns at once). The settling of the sends it
// cut off, which hands their entries back, has up to 5 seconds of its own after that.
func (f *Forwarder) Stop(ctx context.Context) error {
	f.stopOnce.Do(func() { close(f.stop) })
	drained := make(chan struct{})
	go func() {
		if f.started.Load() {
			<-f.loopDone // no send starts after this, so Wait below cannot miss one
		}
		f.sends.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		f.cancelSends()
		return nil
	case <-ctx.Done():
		f.cancelSends()
		<-drained
		return fmt.Errorf("regalkit: forwarder stopped before its sends finished: %w", ctx.Err())
	}
}

// Stats returns the outbox's counts and what this Forwarder did.
func (f *Forwarder) Stats(ctx context.Context) (ForwarderStats, error) {
	ob, err := f.outbox.OutboxStats(ctx)
	if err != nil {
		return ForwarderStats{}, err
	}
	s := ForwarderStats{
		OutboxStats: ob,
		Delivered:   f.delivered.Load(), Skipped: f.skipped.Load(), Retried: f.retried.Load(),
		Parked: f.parked.Load(), Unknown: f.unknown.Load(), LeaseLost: f.leaseLost.Load(), Unmapped: f.unmapped.Load(),
	}
	if !ob.OldestPending.IsZero() {
		s.OldestPendingAge = max(0, f.opts.Now().Sub(ob.OldestPending))
	}
	return s, nil
}

// loop claims due entries while there are free slots, and starts a send for each.
func (f *Forwarder) loop() {
	defer close(f.loopDone)
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		free := cap(f.slots) - len(f.slots)
		if free == 0 {
			if !f.idle(0) {
				return
			}
			continue
		}
		es, err := f.outbox.Claim(f.sendCtx, f.opts.Now(), f.opts.Lease, free)
		if err != nil {
			f.log.LogAttrs(context.Background(), slog.LevelWarn, "regalkit: outbox claim failed", slog.String("error", err.Error()))
		}
		for _, e := range es {
			f.slots <- struct{}{}
			f.sends.Add(1)
			go f.deliver(e)
		}
		if len(es) == 0 && !f.idle(f.opts.Poll) {
			return
		}
	}
}

// idle waits for a wake-up, or d when d is not zero; it reports false when the
// Forwarder is stopping.
func (f *Forwarder) idle(d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.stop:
		return false
	case <-f.wake:
	case <-timeout:
	}
	return true
}

// outcome is what became of one send.
type outcome uint8

const (
	outcomeSent    outcome = iota // Regal answered 2xx
	outcomeSkipped                // nothing to send
	outcomeRetry                  // may succeed later
	outcomePark                   // refused for good
)

// deliver sends one claimed entry and settles it.
func (f *Forwarder) deliver(e contact.OutboxEntry) {
	defer func() {
		<-f.slots
		f.sends.Done()
		f.Notify() // the contact's next entry may be due now
	}()
	// A send never outlives its lease: past it, another claim may send the entry too.
	// The lease counts from before the Claim returned (a store may wait for a
	// connection first), so the send's deadline is the lease's end, less a tenth of a
	// lease for the settling.
	budget := f.opts.Lease * 9 / 10
	if !e.LeaseUntil.IsZero() {
		budget = min(budget, e.LeaseUntil.Sub(f.opts.Now())-f.opts.Lease/10)
	}
	if budget <= 0 {
		// Too little of the lease is left to send anything: the entry goes to the
		// next claim once the lease has ended, unsent and unsettled.
		f.log.LogAttrs(context.Background(), slog.LevelWarn, "regalkit: outbox entry claimed with its lease nearly over; not sent",
			slog.Int64("seq", e.Seq), slog.String("messageId", e.MessageID))
		return
	}
	ctx, cancel := context.WithTimeout(f.sendCtx, budget)
	out, reason, unknown, wait := f.send(ctx, e)
	cancel()
	if unknown {
		f.unknown.Add(1)
	}
	// A send that Stop cut off is no failed attempt: it goes back as it was.
	cutOff := f.sendCtx.Err() != nil
	if out == outcomeRetry && !cutOff && f.opts.MaxAttempts > 0 && e.Attempts >= f.opts.MaxAttempts {
		out, reason = outcomePark, "gave up after "+strconv.Itoa(e.Attempts)+" attempts: "+reason
	}
	// Settled even when the Forwarder is being cut off: a short context of its own.
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	var err error
	switch out {
	case outcomeSent, outcomeSkipped:
		err = f.outbox.Ack(sctx, e.Seq, e.Lease)
		if err == nil {
			if out == outcomeSent {
				f.delivered.Add(1)
			} else {
				f.skipped.Add(1)
			}
		}
	case outcomeRetry:
		next := f.opts.Now()
		if !cutOff { // cut off by Stop: due again at once, for the next Forwarder
			next = next.Add(max(f.backoff(e.Attempts), wait))
		}
		err = f.outbox.Retry(sctx, e.Seq, e.Lease, next, reason)
		if err == nil {
			f.retried.Add(1)
			f.log.LogAttrs(sctx, slog.LevelWarn, "regalkit: send to regal failed; will retry",
				slog.Int64("seq", e.Seq), slog.String("messageId", e.MessageID), slog.Int("attempts", e.Attempts),
				slog.Time("next", next), slog.String("reason", reason))
		}
	case outcomePark:
		err = f.outbox.Park(sctx, e.Seq, e.Lease, reason)
		if err == nil {
			f.parked.Add(1)
			f.log.LogAttrs(sctx, slog.LevelError, "regalkit: regal refused an outbox entry; parked as dead",
				slog.Int64("seq", e.Seq), slog.String("messageId", e.MessageID), slog.String("reason", reason))
		}
	}
	if errors.Is(err, contact.ErrLeaseLost) {
		f.leaseLost.Add(1)
	}
	if err != nil {
		f.log.LogAttrs(sctx, slog.LevelWarn, "regalkit: outbox entry not settled; it will be claimed again",
			slog.Int64("seq", e.Seq), slog.String("error", err.Error()))
	}
}

// reasonUnauthorized starts the reason of a send Regal refused the API key for.
const reasonUnauthorized = "api key refused: "

// send builds the entry's body from the contact as it is now and sends it. unknown
// reports that a request was out when the send failed, so that Regal may have
// recorded it; wait is the least wait before the next attempt Regal asked for
// (Retry-After, Rule R2).
func (f *Forwarder) send(ctx context.Context, e contact.OutboxEntry) (out outcome, reason string, unknown bool, wait time.Duration) {
	c, err := f.store.Contact(ctx, e.ContactID)
	if errors.Is(err, contact.ErrNotFound) {
		return outcomeSkipped, "", false, 0 // deleted or merged away: Regal gets nothing of it (Rule I7)
	}
	if err != nil {
		return outcomeRetry, "reading the contact: " + err.Error(), false, 0
	}
	rc, diags := regalio.FromContact(c)
	if rc.UserID == "" && len(rc.Phones) == 0 && len(rc.Emails) == 0 {
		return outcomeSkipped, "", false, 0 // Regal finds a contact by phone, email or userId
	}
	var ev *regalio.Event
	if e.Event != nil {
		var more []diag.Diagnostic
		ev, more = regalio.FromRecord(*e.Event, f.opts.EventSource)
		diags = append(diags, more...)
	}
	body, more := regalio.Encode(rc, ev)
	if diags = append(diags, more...); len(diags) > 0 {
		f.leftOut(ctx, e, diags)
	}
	// The Client remembers the outcome per key (a 2xx, a refused body), so that a
	// claim after a lost Ack sends nothing twice; it forgets a refused API key.
	key := e.MessageID + "@" + e.ContactID
	err = f.client.Send(ctx, key, body)
	var re *regalio.RetryError
	switch {
	case err == nil:
		return outcomeSent, "", false, 0
	case errors.Is(err, regalio.ErrUnauthorized):
		return outcomeRetry, reasonUnauthorized + err.Error(), regalio.Uncertain(err), 0
	case errors.Is(err, regalio.ErrPermanent):
		return outcomePark, err.Error(), false, 0
	case errors.As(err, &re):
		return outcomeRetry, err.Error(), re.Uncertain, re.RetryAfter
	case errors.Is(err, regalio.ErrInFlight):
		return outcomeRetry, err.Error(), false, 0
	}
	// ctx ended (the lease, or Stop): a request may have been out.
	return outcomeRetry, err.Error(), regalio.Uncertain(err), 0
}

// leftOut reports what a body could not carry (Rule R1): counted, and logged as a
// warning with each value's code and field (their messages mask phones and emails).
func (f *Forwarder) leftOut(ctx context.Context, e contact.OutboxEntry, diags []diag.Diagnostic) {
	f.unmapped.Add(int64(len(diags)))
	attrs := make([]slog.Attr, 0, len(diags)+2)
	attrs = append(attrs, slog.Int64("seq", e.Seq), slog.String("messageId", e.MessageID))
	for i, d := range diags {
		attrs = append(attrs, slog.Group(strconv.Itoa(i), slog.String("code", string(d.Code)), slog.String("field", d.Field), slog.String("message", d.Message)))
	}
	f.log.LogAttrs(ctx, slog.LevelWarn, "regalkit: values left out of the body sent to regal", attrs...)
}

// backoff returns the wait before the next attempt of an entry that failed attempts
// times: MinBackoff doubled per failure up to MaxBackoff, the upper half of it at
// random so that entries that failed together spread out.
func (f *Forwarder) backoff(attempts int) time.Duration {
	d := f.opts.MinBackoff
	for i := 1; i < attempts && d < f.opts.MaxBackoff; i++ {
		if d > f.opts.MaxBackoff/2 {
			d = f.opts.MaxBackoff // doubling would pass it, or overflow with a huge one
			break
		}
		d *= 2
	}
	d = min(d, f.opts.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}
