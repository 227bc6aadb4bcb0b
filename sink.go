package regalkit

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/segmentio"
)

// Sink returns the processor as a [segmentio.Sink], for a [segmentio.Handler] that
// receives Segment over HTTP (Rule D9):
//
//	http.Handle("POST /segment", segmentio.NewHandler(p.Sink(), opts))
//
// It processes the messages of a delivery in order. A bad message is a result with its
// diagnostics (the delivery still answers 200); a store or context failure fails the
// delivery, so that Segment sends it again, and the messages already processed are then
// duplicates that change nothing (Rule E2). A store that gave up on a conflict asks
// Segment to retry in a second (503).
func (p *Processor) Sink() segmentio.Sink {
	return func(ctx context.Context, msgs []event.Message) ([]segmentio.SinkResult, error) {
		out := make([]segmentio.SinkResult, len(msgs))
		for i, m := range msgs {
			r, err := p.Process(ctx, m)
			if errors.Is(err, contact.ErrConflict) {
				return nil, &segmentio.SinkError{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Err: err}
			}
			if err != nil {
				return nil, err
			}
			out[i] = segmentio.SinkResult{MessageID: r.MessageID, Duplicate: r.Duplicate, Diagnostics: r.Diagnostics}
		}
		return out, nil
	}
}
