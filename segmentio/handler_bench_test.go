package segmentio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/regalkit/regalkit/event"
)

// BenchmarkHandler measures the Handler alone, over real HTTP on loopback: request,
// size check, signature, decode, a sink that only answers, the JSON response. It
// reports requests and messages a second (sequential: one request in flight).
func BenchmarkHandler(b *testing.B) {
	const secret = "whsec_bench"
	sink := func(_ context.Context, msgs []event.Message) ([]SinkResult, error) {
		return make([]SinkResult, len(msgs)), nil
	}
	srv := httptest.NewServer(NewHandler(sink, &HandlerOptions{Secret: secret}))
	defer srv.Close()
	client := srv.Client()

	for _, n := range []int{1, 100} {
		b.Run("messages="+strconv.Itoa(n), func(b *testing.B) {
			bodies := make([]string, 64)
			sigs := make([]string, len(bodies))
			for i := range bodies {
				msgs := make([]string, n)
				for j := range msgs {
					msgs[j] = strings.Replace(typicalTrack, "ajs-next-1708037000789-c3d4e5f6", "m-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), 1)
				}
				bodies[i] = msgs[0]
				sigs[i] = sign(secret, msgs[0])
				if n > 1 {
					bodies[i] = "[" + strings.Join(msgs, ",") + "]"
				}
			}
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("X-Signature", sigs[i%len(bodies)])
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
				i++
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "req/s")
			b.ReportMetric(float64(b.N*n)/secs, "msgs/s")
		})
	}
}
