package trigger

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/regalkit/regalkit/event"
)

// FuzzDecode: no input makes Decode panic; every refusal wraps ErrInvalid (or is a
// read error, which bytes.Reader never gives); every trigger it returns is valid, and
// deciding over a few events does not panic either.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(loanJSON))
	f.Add([]byte(`{"name":"t","entry":{"event":"A","kind":"page","count":{"atLeast":2,"within":"24h"}},"exit":[{"event":"B"}]}`))
	f.Add([]byte(`{"name":"t","entry":{"event":"A","where":[{"property":"p","op":"exists"}]},"require":{"trait":{"property":"age","op":"<","value":30}}}`))
	f.Add([]byte(`{"name":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Decode(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("decoded an invalid trigger: %v", err)
		}
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		evs := []event.Record{approved("a", 0, 20000), signed("s", 1), {Kind: event.Page, Name: tr.Entry.Event, Time: at, MessageID: "p"}}
		tr.Enters(evs, time.Time{})
		tr.State(nil, evs, at)
	})
}
