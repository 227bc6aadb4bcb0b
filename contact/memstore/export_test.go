package memstore

import (
	"encoding/binary"
	"iter"

	"github.com/regalkit/regalkit/event"
)

// Helpers of the package's own tests.

// packEvent is packEventRefs without dictionary references, into a scratch buffer of
// its own.
func packEvent(r event.Record, contactID string) storedEvent {
	var scratch []byte
	return packEventRefs(r, contactID, nil, &scratch)
}

// newStoredEvent packs r as the store would (packEvent).
func newStoredEvent(r event.Record, contactID string) *storedEvent {
	ev := new(storedEvent)
	*ev = packEvent(r, contactID)
	return ev
}

// record returns a copy of the stored record for a caller (copyRecord). The event must
// refer to no dictionary entry (one not yet stored, or a test's).
func (ev *storedEvent) record() event.Record { return copyRecord(ev, nil) }

// all yields every member, as a new string, in no particular order.
func (s *idSet) all() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, b := range s.blocks {
			for len(b) > 0 {
				_, n := binary.Uvarint(b)
				b = b[n:]
				size, n := binary.Uvarint(b)
				b = b[n:]
				if !yield(string(b[:size])) {
					return
				}
				b = b[size:]
			}
		}
	}
}

// len returns the number of members.
func (s *idSet) len() int {
	n := 0
	for range s.all() {
		n++
	}
	return n
}

// ids returns the entry's ids, sorted.
func (e keyEntry) ids() []string {
	if e.more != nil {
		return *e.more
	}
	return []string{e.one}
}

func (h hasher) processed(messageID string) uint8 { return processedStripe(h.processedHash(messageID)) }

// SetMaxAttempts sets the number of times Update runs a transaction before it gives up,
// for tests of giving up.
func SetMaxAttempts(s *Store, n int) { s.maxAttempts = n }
