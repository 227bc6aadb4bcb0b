package segmentio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/segmentio"
)

// A Handler takes a webhook delivery, hands the messages it can decode to the sink, and
// answers with one result per message. Here the sink prints what it gets; in a program
// it is regalkit's Processor (see [segmentio.Sink]).
func ExampleHandler() {
	sink := func(ctx context.Context, msgs []event.Message) ([]segmentio.SinkResult, error) {
		out := make([]segmentio.SinkResult, len(msgs))
		for i, m := range msgs {
			fmt.Println("sink got:", m.Kind, m.UserID, m.Event)
			out[i] = segmentio.SinkResult{MessageID: m.MessageID}
		}
		return out, nil
	}
	h := segmentio.NewHandler(sink, &segmentio.HandlerOptions{WriteKeys: []string{"wk_example"}})

	body := `[{"type":"track","event":"Loan Application Approved","userId":"92980cfccc067","messageId":"m1"},
		{"type":"track","userId":"92980cfccc067","messageId":"m2"}]`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.SetBasicAuth("wk_example", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	fmt.Print(rec.Body.String())
	// Output:
	// sink got: track 92980cfccc067 Loan Application Approved
	// 200
	// {"results":[{"messageId":"m1"},{"messageId":"m2","diagnostics":[{"messageId":"m2","code":"message.no_event","field":"event","message":"event: invalid track message: needs a non-empty event name (message.no_event)"}]}]}
}

// A sink that cannot work for a while says so with a SinkError: the Handler answers
// 503 with Retry-After, and Segment delivers the messages again later.
func ExampleSinkError() {
	errStoreDown := errors.New("store: unavailable")
	sink := func(ctx context.Context, msgs []event.Message) ([]segmentio.SinkResult, error) {
		return nil, &segmentio.SinkError{Status: http.StatusServiceUnavailable, RetryAfter: 5 * time.Second, Err: errStoreDown}
	}
	h := segmentio.NewHandler(sink, nil)
	req := httptest.NewRequest(http.MethodPost, "/v1/track",
		strings.NewReader(`{"event":"Signed Up","userId":"92980cfccc067"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	fmt.Print(rec.Body.String())
	// Output:
	// 503 5
	// {"error":"segmentio: the messages were not processed; deliver them again","code":"http.service_unavailable","message":"segmentio: the messages were not processed; deliver them again"}
}
