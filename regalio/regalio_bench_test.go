package regalio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/regalkit/regalkit/event"
)

func BenchmarkEncode(b *testing.B) {
	c, e := exampleContact(), exampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		body, _ := Encode(c, e)
		b.SetBytes(int64(len(body)))
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	body, err := os.ReadFile("testdata/webhook/call.completed.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := DecodeEvent(body)
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Message()
	}
}

func BenchmarkHandler(b *testing.B) {
	body, err := os.ReadFile("testdata/webhook/call.completed.json")
	if err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(func(ctx context.Context, msgs []event.Message) ([]Result, error) {
		return make([]Result, len(msgs)), nil
	}, &HandlerOptions{Token: "T"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/regal", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer T")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkClientSend measures one send to a local server that answers 200 at once,
// without a rate limit: the client's own overhead plus a loopback round trip.
func BenchmarkClientSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := NewClient("k", &ClientOptions{BaseURL: srv.URL, HTTPClient: srv.Client(), Rate: rate.Inf})
	body, _ := Encode(exampleContact(), exampleEvent())
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Send(context.Background(), "", body); err != nil {
			b.Fatal(err)
		}
	}
}
