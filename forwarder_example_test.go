package regalkit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/regalio"
)

// A message applied with the outbox on reaches Regal through a Forwarder: here a test
// server stands in for Regal's Events API (Rules O1, O2).
func ExampleForwarder() {
	bodies := make(chan string, 1)
	regal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	defer regal.Close()

	ctx := context.Background()
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	_, err := p.ProcessBytes(ctx, []byte(`{"type":"track","userId":"u-42","messageId":"m-1",
		"event":"Loan Approved","timestamp":"2024-03-01T12:00:00Z","properties":{"amount":30000}}`))
	if err != nil {
		panic(err)
	}

	fw, err := regalkit.NewForwarder(store, regalio.NewClient("API-KEY", &regalio.ClientOptions{BaseURL: regal.URL}), nil)
	if err != nil {
		panic(err)
	}
	fw.Start()
	fmt.Println(<-bodies)
	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := fw.Stop(stop); err != nil {
		panic(err)
	}
	st, _ := fw.Stats(ctx)
	fmt.Println("pending", st.Pending, "sent", st.Sent, "dead", st.Dead)
	// Output:
	// {"userId":"u-42","traits":{},"name":"Loan Approved","properties":{"amount":30000},"originalTimestamp":"2024-03-01T12:00:00Z","eventSource":"Segment"}
	// pending 0 sent 1 dead 0
}
