package optin

import (
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/regalkit/regalkit/diag"
)

// Segment's browser library re-sends a user's cached traits, optIn included, with every
// identify: the same bytes, again and again. ParseTrait remembers what it made of recent
// inputs, so a re-sent optIn costs a hash and a copy instead of a parse. The memo is a
// fixed table of atomically replaced, never modified entries: it is safe for concurrent
// use, takes no lock, and holds at most memoSlots inputs of at most memoMaxRaw bytes.
// A hit is checked byte for byte, so a result never differs from a fresh parse.

const (
	memoSlots  = 1024
	memoMaxRaw = 4 << 10
)

type memoEntry struct {
	field, raw, ip, phone, email string
	records                      []Record          // as parsed, message fields zero
	diags                        []diag.Diagnostic // as parsed, MessageID empty
}

var (
	memoSeed  = maphash.MakeSeed()
	memoTable [memoSlots]atomic.Pointer[memoEntry]
)

func memoSlot(field string, raw []byte, m *Message) *atomic.Pointer[memoEntry] {
	h := maphash.Bytes(memoSeed, raw)
	for _, s := range [...]string{field, m.IP, m.Phone, m.Email} {
		h = h*31 + maphash.String(memoSeed, s)
	}
	return &memoTable[h%memoSlots]
}

func (e *memoEntry) matches(field string, raw []byte, m *Message) bool {
	return e.raw == string(raw) && e.field == field && e.ip == m.IP && e.phone == m.Phone && e.email == m.Email
}

// stamped returns copies of the entry's results for message m.
func (e *memoEntry) stamped(m *Message) ([]Record, []diag.Diagnostic) {
	var recs []Record
	if len(e.records) > 0 {
		recs = make([]Record, len(e.records))
		for i, r := range e.records {
			r.MessageID, r.MessageTime, r.ProcessedAt = m.ID, utc(m.Time), utc(m.ProcessedAt)
			r.LastMessageID, r.LastMessageTime = "", time.Time{}
			recs[i] = r
		}
	}
	var diags []diag.Diagnostic
	if len(e.diags) > 0 {
		diags = make([]diag.Diagnostic, len(e.diags))
		for i, d := range e.diags {
			d.MessageID = m.ID
			diags[i] = d
		}
	}
	return recs, diags
}

// remember stores what parsing made of an input, without the message's own fields.
func remember(slot *atomic.Pointer[memoEntry], field string, raw []byte, m *Message, recs []Record, diags []diag.Diagnostic) {
	e := &memoEntry{field: field, raw: string(raw), ip: m.IP, phone: m.Phone, email: m.Email}
	if len(recs) > 0 {
		e.records = make([]Record, len(recs))
		for i, r := range recs {
			r.MessageID, r.MessageTime, r.ProcessedAt = "", time.Time{}, time.Time{}
			r.LastMessageID, r.LastMessageTime = "", time.Time{}
			e.records[i] = r
		}
	}
	if len(diags) > 0 {
		e.diags = make([]diag.Diagnostic, len(diags))
		for i, d := range diags {
			d.MessageID = ""
			e.diags[i] = d
		}
	}
	slot.Store(e)
}
