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
