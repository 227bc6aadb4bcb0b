package segmentio

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/regalkit/regalkit/event"
)

// typicalTrack is an analytics.js track with full context, as the issue describes.
const typicalTrack = `{"anonymousId":"3a12eab0-bca7-11e4-8dfc-aa07a5b093db","context":{"ip":"108.0.78.21","library":{"name":"analytics.js","version":"next-1.53.0"},"locale":"en-US","page":{"path":"/apply/status","referrer":"https://www.example.com/apply","search":"","title":"Application status","url":"https://www.example.com/apply/status"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},"event":"Loan Application Approved","integrations":{},"messageId":"ajs-next-1708037000789-c3d4e5f6","originalTimestamp":"2024-02-15T22:43:20.789Z","properties":{"amount":30000,"currency":"USD","loanId":"L-2291"},"receivedAt":"2024-02-15T22:43:21.101Z","sentAt":"2024-02-15T22:43:20.830Z","timestamp":"2024-02-15T22:43:21.060Z","type":"track","userId":"97980cfea0067"}`

// BenchmarkDecode decodes the seed identify and a typical track with Unmarshal, next to
// encoding/json unmarshalling the same bytes into a map[string]any in the same run. The
// issue's target: at least twice the throughput, with fewer allocations.
func BenchmarkDecode(b *testing.B) {
	for _, p := range []struct{ name, body string }{
		{"seed-identify", seedIdentify},
		{"track", typicalTrack},
	} {
		data := []byte(p.body)
		b.Run(p.name+"/segmentio", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var m event.Message
			for b.Loop() {
				if err := Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/encoding-json-map", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v map[string]any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeAll decodes a batch envelope of 100 tracks.
func BenchmarkDecodeAll(b *testing.B) {
	items := make([]string, 100)
	for i := range items {
		items[i] = typicalTrack
	}
	data := []byte(`{"batch":[` + strings.Join(items, ",") + `],"context":{"library":{"name":"analytics-go","version":"3.3.0"}},"sentAt":"2024-02-15T22:43:20.830Z"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		results, err := DecodeAll(data, nil)
		if err != nil || len(results) != 100 {
			b.Fatal(err, len(results))
		}
	}
}

// BenchmarkMarshal encodes the seed identify.
func BenchmarkMarshal(b *testing.B) {
	var m event.Message
	if err := Unmarshal([]byte(seedIdentify), &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(&m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySignature checks the signature of the seed identify.
func BenchmarkVerifySignature(b *testing.B) {
	body := []byte(seedIdentify)
	header := sign("secret", seedIdentify)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(body, header, []byte("secret")); err != nil {
			b.Fatal(err)
		}
	}
}
