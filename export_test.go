package regalkit

import (
	"context"
	"time"

	"github.com/regalkit/regalkit/event"
)

// ProcessFromRegal processes m as RegalSink does, returning its whole Result, for the
// tests of package regalkit_test.
func (p *Processor) ProcessFromRegal(ctx context.Context, m event.Message) (Result, error) {
	return p.process(ctx, &m, fromRegal)
}

// Backoff is the Forwarder's wait after attempts failed sends, for the tests of package
// regalkit_test.
func (f *Forwarder) Backoff(attempts int) time.Duration { return f.backoff(attempts) }

// PoisonRecycledMembers makes ProcessStream overwrite the traits and properties of a
// message it has processed with poison, rather than clear them, before it decodes
// another message into that memory; the returned function turns it off. A test then
// finds whatever kept them.
func PoisonRecycledMembers() (off func()) {
	poisonArenas.Store(true)
	return func() { poisonArenas.Store(false) }
}

// AlwaysRehome makes every regroup attribute the anonymous IDs again, as before a
// message under an aliased userId could skip it; the returned function turns it off.
// Not safe for concurrent use: tests that call it do not run in parallel.
func AlwaysRehome() (off func()) {
	alwaysRehome = true
	return func() { alwaysRehome = false }
}
