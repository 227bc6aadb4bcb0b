package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/segmentio"
)

// benchTrack is a typical analytics.js track call; MID and UID are replaced per message.
const benchTrack = `{"type":"track","event":"Loan Application Approved","messageId":"MID","userId":"UID","anonymousId":"anon-UID","context":{"ip":"108.0.78.21","library":{"name":"analytics.js","version":"next-1.53.0"},"locale":"en-US","page":{"path":"/apply/status","title":"Application status","url":"https://www.example.com/apply/status"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},"originalTimestamp":"2024-02-15T22:43:20.789Z","properties":{"amount":30000,"currency":"USD","loanId":"L-2291"},"receivedAt":"2024-02-15T22:43:21.101Z","sentAt":"2024-02-15T22:43:20.830Z","timestamp":"2024-02-15T22:43:21.060Z"}`

// BenchmarkWebhook measures the example end to end over loopback: a signed HTTP request
// in, the handler, the Processor, the memory store, the response out. Every message is
// new (no duplicates) and goes to one of 1,000 users, each with an anonymousId of its
// own, so contacts grow as the benchmark runs. It reports requests and messages a
// second; "parallel" keeps GOMAXPROCS requests in flight.
//
//	go test -run '^$' -bench Webhook -benchtime 3s ./examples/webhook
func BenchmarkWebhook(b *testing.B) {
	for _, bc := range []struct {
		name     string
		messages int
		parallel bool
	}{
		{"single", 1, false},
		{"batch=100", 100, false},
		{"single/parallel", 1, true},
		{"batch=100/parallel", 100, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(newServer(memstore.New(), nil, &segmentio.HandlerOptions{Secret: secret}, slog.New(slog.DiscardHandler)))
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			var seq atomic.Int64
			post := func(b *testing.B) {
				first := seq.Add(int64(bc.messages)) - int64(bc.messages)
				msgs := make([]string, bc.messages)
				for j := range msgs {
					n := first + int64(j)
					msgs[j] = strings.NewReplacer("MID", "bench-"+strconv.FormatInt(n, 10), "UID", "user-"+strconv.FormatInt(n%1000, 10)).Replace(benchTrack)
				}
				body := msgs[0]
				if bc.messages > 1 {
					body = "[" + strings.Join(msgs, ",") + "]"
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
				req.Header.Set("X-Signature", sign(msgs[0]))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Error(resp.Status)
				}
			}
			b.ReportAllocs()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						post(b)
					}
				})
			} else {
				for b.Loop() {
					post(b)
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "req/s")
			b.ReportMetric(float64(b.N*bc.messages)/secs, "msgs/s")
		})
	}
}
