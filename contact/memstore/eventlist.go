package memstore

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/msgorder"
)

// storedEvent is an event record as the store keeps it: packed (see packEventRefs), never
// changed after it is stored, and shared by the contact's list and its stripe's
// timeline.
//
// Its strings live in text, so that the one pointer the garbage collector follows
// from it is text's (issue 14: in a long replay GC marking walks every stored event;
// a messageId, a name and a contact id of their own were three more pointers, and 48
// more bytes, an event).
type storedEvent struct {
	// rec is what ordering and queries read, but for the strings.
	rec eventHead
	// pendingAt is, until the event is stored, where the strings its references stand
	// for start in its change's pending strings (dict.go); unused once stored.
	pendingAt uint32
	// idTag is messageIDTag of the messageId: entry.event compares ids only when tags
	// match, without reading text. (It fills what was padding.)
	idTag uint32
	// text holds, one after the other, the messageId, the name, the id of the
	// contact the event belongs to (lengths in rec), then the record's other strings
	// and its JSON objects in the compact form of packedobjects.go: a few bytes of
	// framing where an event.Record spends 16 bytes an empty string and an
	// event.Member 40 bytes beyond its text. Never written after packing.
	text []byte
}

// eventHead is the part of a record the store orders and filters by, with the lengths
// of the strings at the start of storedEvent.text.
type eventHead struct {
	Kind event.Kind
	// refs is the number of the record's strings that refer to entries of its
	// stripe's dictionary (dict.go) rather than being in text.
	refs                       uint8
	idLen, nameLen, contactLen uint32
	Time                       time.Time
	ReceivedAt                 time.Time
}

// textAt returns n bytes of the event's text from off as a string (immutable: the
// text is never written after packing).
func (ev *storedEvent) textAt(off, n uint32) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&ev.text[off], n)
}

func (ev *storedEvent) messageID() string { return ev.textAt(0, ev.rec.idLen) }
func (ev *storedEvent) name() string      { return ev.textAt(ev.rec.idLen, ev.rec.nameLen) }

// contactID returns the id of the contact the event belongs to.
func (ev *storedEvent) contactID() string {
	return ev.textAt(ev.rec.idLen+ev.rec.nameLen, ev.rec.contactLen)
}

// rest returns the packed strings and objects that follow the head's strings (empty
// when the record has nothing more).
func (ev *storedEvent) rest() []byte {
	return ev.text[ev.rec.idLen+ev.rec.nameLen+ev.rec.contactLen:]
}

// matches reports whether the record matches q, as contact.EventQuery.Match would
// (it reads kind, name and time), without building an event.Record (about 500 bytes to
// zero for every event a query walks).
func (ev *storedEvent) matches(q *contact.EventQuery) bool {
	return (q.Kind == 0 || ev.rec.Kind == q.Kind) &&
		(q.Name == "" || ev.name() == q.Name) &&
		(q.Since.IsZero() || !ev.rec.Time.Before(q.Since)) &&
		(q.Until.IsZero() || ev.rec.Time.Before(q.Until))
}

// heldEvent is a stored event gathered for a reader under its stripe's lock, with the
// dictionary strings it refers to resolved then (dict.resolve): once the lock is
// released, the event may be removed and its entries dropped or given to other
// strings, but the strings resolved stay what they were.
type heldEvent struct {
	ev     *storedEvent
	shared []string
}

// record returns a copy of the held record for a caller (copyRecord).
func (h heldEvent) record() event.Record { return copyRecord(h.ev, h.shared) }

// byContactOrder orders a contact's events as Events yields them (Rule E4).
// It is contact.CompareEvents (msgorder.Compare) on the stored fields, reading the
// messageIds only for events of the same time: they are in the events' texts, a cache
// miss each, and an insert compares the new event with a list's last one (issue 14).
func byContactOrder(a, b *storedEvent) int {
	if c := a.rec.Time.Compare(b.rec.Time); c != 0 {
		return c
	}
	return msgorder.Compare(a.rec.Time, a.messageID(), b.rec.Time, b.messageID())
}

// byTimelineOrder orders the events of many contacts: by event time, messageId, then
// contact id, so that every stored event has its own place.
func byTimelineOrder(a, b *storedEvent) int {
	if c := byContactOrder(a, b); c != 0 {
		return c
	}
	return strings.Compare(a.contactID(), b.contactID())
}

// maxChunk bounds the events in one chunk of an eventList, and so the pointers an
// insert or a removal moves.
const maxChunk = 128

// eventList is a sorted list of events, split into chunks of at most maxChunk events.
// Inserting anywhere (a late event) or removing costs a binary search and a copy of at
// most one chunk plus one chunk header per chunk, not the whole list; appending in order
// costs the same as appending to a slice, and leaves every chunk but the last full. The zero eventList is empty. Its methods take
// the order, so that the list itself is three words.
type eventList struct {
	chunks [][]*storedEvent // each non-empty and sorted; chunk i's events precede chunk i+1's
}

// chunkFor returns the index of the chunk where e belongs: the first whose last event is
// not before e, else the last chunk. The list must not be empty.
func (l *eventList) chunkFor(e *storedEvent, cmp func(a, b *storedEvent) int) int {
	i, _ := slices.BinarySearchFunc(l.chunks, e, func(c []*storedEvent, e *storedEvent) int {
		return cmp(c[len(c)-1], e)
	})
	return min(i, len(l.chunks)-1)
}

// insert adds e in order. It reports false, and changes nothing, when an event equal to
// e by cmp is there already.
func (l *eventList) insert(e *storedEvent, cmp func(a, b *storedEvent) int) bool {
	if len(l.chunks) == 0 {
		f := new(firstChunk)
		f.events[0] = e
		f.chunks[0] = f.events[:1]
		l.chunks = f.chunks[:]
		return true
	}
	if last := l.chunks[len(l.chunks)-1]; cmp(last[len(last)-1], e) < 0 {
		// After the last event: the common case (timestamps mostly increase), with
		// one comparison instead of two binary searches.
		l.append(e)
		return true
	}
	ci := l.chunkFor(e, cmp)
	c := l.chunks[ci]
	i, found := slices.BinarySearchFunc(c, e, cmp)
	if found {
		return false
	}
	switch {
	case len(c) < maxChunk:
		if len(c) == cap(c) {
			// Grow by doubling up to maxChunk exactly, so that a full chunk holds no
			// spare capacity.
			c = grow(c)
		}
		l.chunks[ci] = slices.Insert(c, i, e)
	case i == len(c):
		// After the last event of the list (chunkFor picks the last chunk only then).
		l.append(e)
	default:
		// Split the full chunk in halves and insert into the half e belongs to.
		half := len(c) / 2
		upper := slices.Clone(c[half:])
		clear(c[half:])
		lower := c[:half]
		if i <= half {
			lower = slices.Insert(lower, i, e)
		} else {
			upper = slices.Insert(upper, i-half, e)
		}
		l.chunks[ci] = lower
		l.chunks = slices.Insert(l.chunks, ci+1, upper)
	}
	return true
}

// append adds e after the last event of a non-empty list.
func (l *eventList) append(e *storedEvent) {
	ci := len(l.chunks) - 1
	c := l.chunks[ci]
	if len(c) == maxChunk {
		// Start a new chunk and leave this one full.
		l.chunks = append(l.chunks, []*storedEvent{e})
		return
	}
	if len(c) == cap(c) {
		c = grow(c)
	}
	l.chunks[ci] = append(c, e)
}

// grow returns a copy of the chunk c with twice its capacity, up to maxChunk exactly,
// so that a full chunk holds no spare capacity. It clears c: c may be the array of a
// firstChunk, which lives on as long as the list's first chunk header does, and must
// not keep events alive that the list no longer holds.
func grow(c []*storedEvent) []*storedEvent {
	grown := make([]*storedEvent, len(c), min(max(2*cap(c), 4), maxChunk))
	copy(grown, c)
	clear(c)
	return grown
}

// firstChunk is a new list's slice of chunks and its first chunk, in one allocation
// instead of two and with room for a few events: most lists (a contact's events)
// stay that size. The two objects a list were 8% of the objects of the live heap at
// 1,000,000 messages, which every GC cycle marks (issue 14).
type firstChunk struct {
	chunks [1][]*storedEvent
	events [4]*storedEvent
}

// remove removes the event equal to e by cmp and reports whether there was one.
func (l *eventList) remove(e *storedEvent, cmp func(a, b *storedEvent) int) bool {
	if len(l.chunks) == 0 {
		return false
	}
	ci := l.chunkFor(e, cmp)
	c := l.chunks[ci]
	i, found := slices.BinarySearchFunc(c, e, cmp)
	if !found {
		return false
	}
	c = slices.Delete(c, i, i+1)
	switch {
	case len(c) == 0:
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
	case ci+1 < len(l.chunks) && len(c)+len(l.chunks[ci+1]) <= maxChunk/2:
		// Merge small neighbours so that removals cannot leave many tiny chunks.
		l.chunks[ci] = append(c, l.chunks[ci+1]...)
		l.chunks = slices.Delete(l.chunks, ci+1, ci+2)
	default:
		l.chunks[ci] = c
	}
	if len(l.chunks) == 0 {
		l.chunks = nil
	}
	return true
}

// len returns the number of events.
func (l *eventList) len() int {
	n := 0
	for _, c := range l.chunks {
		n += len(c)
	}
	return n
}

// position is a place in an eventList: chunk and index within it. The position after
// the last event is (len(chunks), 0).
type position struct{ chunk, i int }

// seek returns the position of the first event at or after t.
func (l *eventList) seek(t time.Time) position {
	if t.IsZero() {
		return position{}
	}
	ci, _ := slices.BinarySearchFunc(l.chunks, t, func(c []*storedEvent, t time.Time) int {
		if c[len(c)-1].rec.Time.Before(t) {
			return -1
		}
		return 1
	})
	if ci == len(l.chunks) {
		return position{ci, 0}
	}
	i, _ := slices.BinarySearchFunc(l.chunks[ci], t, func(e *storedEvent, t time.Time) int {
		if e.rec.Time.Before(t) {
			return -1
		}
		return 1
	})
	return position{ci, i}
}

// ascend calls yield for each event from the first at or after since, in order, until
// yield returns false or an event at or after until (when until is not zero).
func (l *eventList) ascend(since, until time.Time, yield func(*storedEvent) bool) {
	p := l.seek(since)
	for ci := p.chunk; ci < len(l.chunks); ci++ {
		c := l.chunks[ci]
		start := 0
		if ci == p.chunk {
			start = p.i
		}
		for _, e := range c[start:] {
			if !until.IsZero() && !e.rec.Time.Before(until) {
				return
			}
			if !yield(e) {
				return
			}
		}
	}
}

// descender walks an eventList from its last event before a bound towards its first.
type descender struct {
	l      *eventList
	chunk  int
	i      int   // index in chunk of the next event; -1 when done
	stripe uint8 // the stripe of the list, for the walk's user
}

// descend returns a descender at the last event before until (the last event when until
// is zero).
func (l *eventList) descend(until time.Time) descender {
	p := position{len(l.chunks), 0}
	if !until.IsZero() {
		p = l.seek(until)
	}
	d := descender{l: l, chunk: p.chunk, i: p.i}
	d.back()
	return d
}

// back moves to the event before the current position.
func (d *descender) back() {
	d.i--
	for d.i < 0 {
		d.chunk--
		if d.chunk < 0 {
			d.i = -1
			return
		}
		d.i = len(d.l.chunks[d.chunk]) - 1
	}
}

// peek returns the current event, or nil when the walk is done.
func (d *descender) peek() *storedEvent {
	if d.chunk < 0 {
		return nil
	}
	return d.l.chunks[d.chunk][d.i]
}

// packEventRefs returns a deep copy of r, as an event of the contact with the id, for
// the store to keep: all its strings, and its JSON objects encoded (packedobjects.go),
// in one new byte array, so that a stored record is two allocations (with its
// storedEvent) whatever its size, and keeps alive no buffer the caller decoded it
// from; the strings refs marks are packed as references to the entries it names
// (dict.go), and refs may be nil. The bytes are never written after packing, so the
// strings made over them with unsafe.String are immutable as Go requires.
// TestAddEventKeepsNothingOfTheCaller fails when event.Record gains a part this misses.
//
// The event is packed into *scratch, a buffer the caller keeps for the next event (a
// transaction's), then copied into an array of its exact size: one pass over the
// record and a copy cost less than sizing it in a first pass (BenchmarkPipeline:
// packing was 6% of a track's CPU with two passes).
func packEventRefs(r event.Record, contactID string, refs *dictRefs, scratch *[]byte) storedEvent {
	p := packer{buf: (*scratch)[:0]}
	p.str(r.MessageID)
	p.str(r.Name)
	p.str(contactID)
	p.packRest(&r, refs)
	text := bytes.Clone(p.buf)
	*scratch = p.buf
	if cap(p.buf) > maxPackScratch {
		*scratch = nil // an unusually large event's buffer is not kept
	}
	return storedEvent{
		rec: eventHead{Kind: r.Kind, Time: r.Time, ReceivedAt: r.ReceivedAt, refs: refs.count(),
			idLen: uint32(len(r.MessageID)), nameLen: uint32(len(r.Name)), contactLen: uint32(len(contactID))},
		idTag: messageIDTag(r.MessageID),
		text:  text,
	}
}

// messageIDTag is a few bytes of a messageId: its length, its last two bytes and one
// from its middle. Equal ids have equal tags, and the ids of one contact's events
// rarely share one (they differ at the end or in length), so looking an event up by
// messageId among a contact's events reads the text of next to no other event: each
// read of an event's text is a cache miss of its own (issue 14).
func messageIDTag(id string) uint32 {
	n := len(id)
	t := uint32(n) << 24
	if n > 0 {
		t ^= uint32(id[n-1]) | uint32(id[n/2])<<8
	}
	if n > 1 {
		t ^= uint32(id[n-2]) << 16
	}
	return t
}

// maxPackScratch is the largest scratch buffer packEventRefs leaves its caller.
const maxPackScratch = 64 << 10

// copyRecord returns a copy of a stored record for a caller, who may change it freely:
// its JSON objects are decoded from their packed form (members into one new array,
// values into one new byte array, each capped so that appending to one cannot reach
// the next); strings, keys included, are immutable and are shared.
// TestCopyRecordCopiesEveryMutablePart fails when event.Record gains a mutable part
// this misses. shared are the dictionary strings the event refers to, in order
// (dict.resolve, under the lock of the event's stripe).
func copyRecord(ev *storedEvent, shared []string) event.Record {
	out := event.Record{Kind: ev.rec.Kind, Name: ev.name(), Time: ev.rec.Time, MessageID: ev.messageID(), ReceivedAt: ev.rec.ReceivedAt}
	if rest := ev.rest(); len(rest) > 0 {
		unpackRest(rest, &out, shared)
	}
	return out
}

// packer copies the strings of a record, and encodes its JSON objects, into one byte
// array.
type packer struct {
	buf []byte
}

func (p *packer) str(s string) { p.buf = append(p.buf, s...) }
