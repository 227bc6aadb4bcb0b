package jsonvalue

import (
	"encoding/json"
	"testing"
)

// benchTrack is an analytics.js track with full context, as Segment delivers it.
const benchTrack = `{"anonymousId":"3a12eab0-bca7-11e4-8dfc-aa07a5b093db","context":{"ip":"108.0.78.21","library":{"name":"analytics.js","version":"next-1.53.0"},"locale":"en-US","page":{"path":"/apply/status","referrer":"https://www.example.com/apply","search":"","title":"Application status","url":"https://www.example.com/apply/status"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},"event":"Loan Application Approved","integrations":{},"messageId":"ajs-next-1708037000789-c3d4e5f6","originalTimestamp":"2024-02-15T22:43:20.789Z","properties":{"amount":30000,"currency":"USD","loanId":"L-2291"},"receivedAt":"2024-02-15T22:43:21.101Z","sentAt":"2024-02-15T22:43:20.830Z","timestamp":"2024-02-15T22:43:21.060Z","type":"track","userId":"97980cfea0067"}`

// rawTrack is what encoding/json does best for the same job: each top-level member as
// raw JSON, for a second pass to read.
type rawTrack struct {
	Type              json.RawMessage `json:"type"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	MessageID         json.RawMessage `json:"messageId"`
	Event             json.RawMessage `json:"event"`
	Properties        json.RawMessage `json:"properties"`
	Context           json.RawMessage `json:"context"`
	Integrations      json.RawMessage `json:"integrations"`
	Timestamp         json.RawMessage `json:"timestamp"`
	OriginalTimestamp json.RawMessage `json:"originalTimestamp"`
	SentAt            json.RawMessage `json:"sentAt"`
	ReceivedAt        json.RawMessage `json:"receivedAt"`
}

// BenchmarkTopLevel splits a Segment track into its top-level members three ways:
//
//   - scanner: Scanner.Compact and Root, as segmentio does: the whole value checked
//     (grammar, UTF-8, depth, duplicate keys, number lengths) and compacted, each member
//     located;
//   - encoding-json-rawmessage: json.Unmarshal into a struct of json.RawMessage fields,
//     the strongest encoding/json alternative: it checks the grammar but keeps
//     whitespace, reports no duplicate key (the last wins silently) and has no depth or
//     number limit of ours;
//   - encoding-json-map: json.Unmarshal into map[string]any, which also turns every
//     number into a float64 (123456789012345678 becomes 1.2345678901234568e+17).
func BenchmarkTopLevel(b *testing.B) {
	data := []byte(benchTrack)
	b.Run("scanner", func(b *testing.B) {
		var s Scanner
		var buf []byte
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			out, err := s.Compact(buf[:0], data)
			if err != nil || s.Problem() != nil || len(s.Root()) != 12 {
				b.Fatal(err, s.Problem(), len(s.Root()))
			}
			buf = out
		}
	})
	b.Run("encoding-json-rawmessage", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v rawTrack
			if err := json.Unmarshal(data, &v); err != nil || v.Context == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(data, &v); err != nil || len(v) != 12 {
				b.Fatal(err)
			}
		}
	})
}
