package regalio

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeEvent: no body panics, a decoded event always has a name, and its message
// is a valid track that IsRegal recognises and Encode can carry back.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/webhook/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"name":"x","eventId":1,"traits":{"phone":5}}`))
	f.Add([]byte(`[{"name":"a"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := DecodeEvent(body)
		if err != nil {
			return
		}
		if e.Name == "" {
			t.Fatal("decoded an event without a name")
		}
		m := e.Message()
		if err := m.Validate(); err != nil {
			t.Fatalf("message not valid: %v", err)
		}
		if err := m.CheckJSON(); err != nil { // RegalSink does not re-check its objects
			t.Fatalf("message not writable as JSON: %v", err)
		}
		if !IsRegal(&m) {
			t.Fatal("a Regal event's message is not marked as Regal's")
		}
		out, _ := Encode(Contact{UserID: e.UserID, Custom: e.Traits}, &Event{Name: e.Name, Properties: e.Properties, Time: e.Time, Source: e.Source})
		if !json.Valid(out) {
			t.Fatalf("Encode wrote invalid JSON: %s", out)
		}
	})
}
