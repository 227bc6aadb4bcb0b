package regalkit

import (
	"context"

	"github.com/regalkit/regalkit/event"
)

// ProcessFromRegal processes m as RegalSink does, returning its whole Result, for the
// tests of package regalkit_test.
func (p *Processor) ProcessFromRegal(ctx context.Context, m event.Message) (Result, error) {
	return p.processFrom(ctx, &m, true)
}
