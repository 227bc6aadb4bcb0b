package optin

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"time"

	"github.com/regalkit/regalkit/diag"
)

// DefaultParseCacheSize is the number of inputs a [ParseCache] remembers when its size
// is zero. An entry holds an input of at most 4 KB and what it gave.
const DefaultParseCacheSize = 1024

// memoMaxRaw is the longest input a ParseCache remembers; longer ones are parsed each
// time.
const memoMaxRaw = 4 << 10

// ParseCache remembers what [ParseTrait] made of recent optIn values. Segment's browser
// library re-sends a user's cached traits, optIn included, with every identify: the same
// bytes, again and again, and a cache hit costs a hash and a copy instead of a parse.
//
// The cache is a fixed table of slots, each holding one input and its result, replaced
// whole when another input hashes to the slot. A hit is checked byte for byte, so a
// result is always what a fresh parse gives, and always a copy the caller owns. Whoever
// configures the processing owns the cache: regalkit.Processor makes one sized by
// Options.OptInCacheSize and uses it for every message it applies.
//
// A nil *ParseCache caches nothing: its ParseTrait is [ParseTrait]. A ParseCache is
// safe for concurrent use by multiple goroutines and takes no lock.
type ParseCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[memoEntry]
}

// NewParseCache returns a cache of size slots. Zero means DefaultParseCacheSize; a
// negative size means no cache, and NewParseCache returns nil.
func NewParseCache(size int) *ParseCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultParseCacheSize
	}
	return &ParseCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[memoEntry], size)}
}

// Size returns the number of slots, 0 for a nil cache.
func (c *ParseCache) Size() int {
	if c == nil {
		return 0
	}
	return len(c.slots)
}

// ParseTrait reads an optIn trait value as the package's [ParseTrait] does, and gives
// the result from the cache when the same input was read before for the same field,
// context IP, phone and email.
func (c *ParseCache) ParseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if c == nil || len(raw) > memoMaxRaw {
		return parseTrait(field, raw, m)
	}
	slot := c.slot(field, raw, &m)
	if e := slot.Load(); e != nil && e.matches(field, raw, &m) {
		return e.stamped(&m)
	}
	recs, diags := parseTrait(field, raw, m)
	remember(slot, field, raw, &m, recs, diags)
	return recs, diags
}

type memoEntry struct {
	field, raw, ip, phone, email, region string
	records                              []Record          // as parsed, message fields zero
	diags                                []diag.Diagnostic // as parsed, MessageID empty
	// one backs records when there is one, the usual case: the entry and its record
	// are then one allocation.
	one [1]Record
}

func (c *ParseCache) slot(field string, raw []byte, m *Message) *atomic.Pointer[memoEntry] {
	h := maphash.Bytes(c.seed, raw)
	for _, s := range [...]string{field, m.IP, m.Phone, m.Email, m.Region} {
		h = h*31 + maphash.String(c.seed, s)
	}
	return &c.slots[h%uint64(len(c.slots))]
}

func (e *memoEntry) matches(field string, raw []byte, m *Message) bool {
	return e.raw == string(raw) && e.field == field && e.ip == m.IP && e.phone == m.Phone && e.email == m.Email && e.region == m.Region
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
	// The message's strings may be views of its whole text (the decoder makes its
	// context strings over it): the memo keeps copies, so that an entry keeps no
	// message alive.
	ip := strings.Clone(m.IP)
	e := &memoEntry{field: field, raw: string(raw), ip: ip, phone: strings.Clone(m.Phone), email: strings.Clone(m.Email), region: m.Region}
	if len(recs) > 0 {
		if len(recs) == len(e.one) {
			e.records = e.one[:]
		} else {
			e.records = make([]Record, len(recs))
		}
		for i, r := range recs {
			r.MessageID, r.MessageTime, r.ProcessedAt = "", time.Time{}, time.Time{}
			r.LastMessageID, r.LastMessageTime = "", time.Time{}
			if r.IP == m.IP {
				r.IP = ip
			}
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
