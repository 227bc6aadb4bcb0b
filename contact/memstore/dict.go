package memstore

import (
	"math/bits"
	"slices"
	"strings"
	"unsafe"

	"github.com/regalkit/regalkit/event"
)

// A stripe keeps the context strings that many of its events repeat (a browser's
// userAgent, a library's name and version, a site's page addresses and titles) once, in
// a dictionary, and its events refer to an entry by number (packedobjects.go) instead of
// holding the text (issue 14: a userAgent alone is about 120 bytes an event, the same
// in thousands of events).
//
// Personal data (Rule I7): every stored event that refers to an entry holds a count of
// it, removing or replacing the event releases the count, and an entry no event counts
// is dropped at once. So deleting a user's events leaves none of their strings in the
// dictionary, and an entry never holds a string that the store would not hold anyway in
// an event of its own. Only the strings of sharedFields are shared: they describe
// software and pages. Context.IP, and every other string that may identify a person on
// its own, is always stored in the event. Page.Search is left out too: it rarely repeats
// on its own, and it is where links carry an email address or a token. Page.URL and
// Referrer may hold the same query string: they are shared because most repeat (a
// site's pages), and the counts above still drop a deleted user's entries.
//
// Concurrency: a stripe's dictionary is its own and is read and written under the
// stripe's lock only, so it adds no lock and is contended only as the stripe is.
// Tx.AddEvent packs a new event with references to the entries the dictionary has then
// (newEvent, under the stripe's read lock), not yet counted; the commit, which holds the
// stripe's write lock, checks and counts them, and gives the event's other strings
// entries (share). A reader resolves the references of the events it gathers while it
// holds the stripe's read lock (resolve), since once the lock is released the event may
// be removed and its entries reused for other strings.

// sharedFields marks the indexes in restStrings of the strings a dictionary may hold:
// Context.UserAgent, .Locale, .Library.Name, .Library.Version, .Page.Path,
// .Page.Referrer, .Page.Title and .Page.URL. It is worked out from the fields
// themselves, so that a change to restStrings' order cannot make another field (the
// IP, say) shared.
var sharedFields = func() (shared [numRestStrings]bool) {
	var r event.Record
	c := &r.Context
	fields := []*string{&c.UserAgent, &c.Locale, &c.Library.Name, &c.Library.Version,
		&c.Page.Path, &c.Page.Referrer, &c.Page.Title, &c.Page.URL}
	for k, p := range restStrings(&r) {
		shared[k] = slices.Contains(fields, p)
	}
	return shared
}()

// minShared is the shortest string a dictionary holds: below it, the entry would cost
// more than the bytes it saves.
const minShared = 16

// maxDictEntries bounds the entries of one stripe's dictionary (256 times that in a
// store). When a dictionary is full, new strings are stored in their events.
const maxDictEntries = 1024

// dict is a stripe's dictionary of shared strings, with a count of references for each
// entry. The zero dict is empty.
type dict struct {
	ids   map[string]uint32 // entry number by string
	slots []dictSlot        // by entry number; a free slot has no references
	free  []uint32          // free slots, to reuse
}

// dictSlot is one entry of a dict.
type dictSlot struct {
	s    string // a copy of its own
	refs uint32
}

// len returns the number of entries.
func (d *dict) len() int { return len(d.ids) }

// acquire counts one more reference to s and returns its entry number, adding the entry
// if need be. It reports false, and counts nothing, when the dictionary is full.
func (d *dict) acquire(s string) (uint32, bool) {
	if i, ok := d.ids[s]; ok {
		d.slots[i].refs++
		return i, true
	}
	if len(d.ids) >= maxDictEntries {
		return 0, false
	}
	s = strings.Clone(s) // the entry keeps no event's bytes alive
	var i uint32
	if n := len(d.free); n > 0 {
		i = d.free[n-1]
		d.free = d.free[:n-1]
		d.slots[i] = dictSlot{s: s, refs: 1}
	} else {
		i = uint32(len(d.slots))
		d.slots = append(d.slots, dictSlot{s: s, refs: 1})
	}
	if d.ids == nil {
		d.ids = make(map[string]uint32)
	}
	d.ids[s] = i
	return i, true
}

// release drops one reference to entry i, and the entry with its string when it was
// the last.
func (d *dict) release(i uint32) {
	sl := &d.slots[i]
	if sl.refs--; sl.refs > 0 {
		return
	}
	delete(d.ids, sl.s)
	sl.s = ""
	if int(i) == len(d.slots)-1 {
		d.slots = d.slots[:i]
	} else {
		d.free = append(d.free, i)
	}
	if len(d.ids) == 0 {
		// Nothing left: drop the slots and the free list too.
		d.slots, d.free = d.slots[:0], d.free[:0]
	}
}

// restString is one string of a packed record's rest.
type restString struct {
	ref  bool
	i    uint32 // ref: the entry number
	text []byte // not ref: the string
}

// nextString reads the next string of a packed rest (packedobjects.go).
func (rd *objectReader) nextString() restString {
	x := rd.uvarint()
	if x&1 != 0 {
		return restString{ref: true, i: uint32(x >> 1)}
	}
	return restString{text: rd.next(x >> 1)}
}

// dictRefs marks the strings of a record (by their index in restStrings) to pack as
// references to dictionary entries, with the entry numbers.
type dictRefs struct {
	set uint16
	i   [numRestStrings]uint32
}

func (r *dictRefs) has(k int) bool { return r.set&(1<<k) != 0 }

func (r *dictRefs) add(k int, i uint32) {
	r.set |= 1 << k
	r.i[k] = i
}

// count returns the number of references (0 for a nil r).
func (r *dictRefs) count() uint8 {
	if r == nil {
		return 0
	}
	return uint8(bits.OnesCount16(r.set))
}

// newEvent packs r as a new event of the contact ch changes (tx.AddEvent), with the
// strings of sharedFields that the stripe's dictionary holds now packed as references
// to their entries, so that storing the event usually costs no second copy. The
// references are tentative and not counted: the dictionary may drop or reuse the
// entries before the commit, which checks them against the strings they stand for
// (share). Those, the entries' own (immutable) strings, not the caller's, are
// appended to ch.pending, from ev.pendingAt, until then.
func (s *Store) newEvent(r event.Record, ch *change, scratch *[]byte) *storedEvent {
	strs := restStrings(&r)
	var (
		refs       dictRefs
		found      [numRestStrings]string
		n          int
		candidates bool
	)
	for k, p := range strs {
		candidates = candidates || (sharedFields[k] && len(*p) >= minShared)
	}
	if candidates {
		st := &s.stripes[ch.stripe]
		st.mu.RLock()
		if st.dict.len() > 0 {
			for k, p := range strs {
				if sharedFields[k] && len(*p) >= minShared {
					if i, ok := st.dict.ids[*p]; ok {
						refs.add(k, i)
						found[n] = st.dict.slots[i].s
						n++
					}
				}
			}
		}
		st.mu.RUnlock()
	}
	ev := new(storedEvent)
	if n == 0 {
		*ev = packEventRefs(r, ch.id, nil, scratch)
		return ev
	}
	*ev = packEventRefs(r, ch.id, &refs, scratch)
	if ch.pending == nil {
		ch.pending = ch.pendingBuf[:0]
	}
	ev.pendingAt = uint32(len(ch.pending))
	ch.pending = append(ch.pending, found[:n]...)
	return ev
}

// share makes ev, which is being stored in the dictionary's stripe, refer to entries
// for its strings of sharedFields of at least minShared bytes, and counts its
// references. The references newEvent packed are checked against the strings they
// stand for (pending, from ev.pendingAt): an entry dropped or reused since is replaced.
// ev is repacked (a new copy of its text) only when a reference must change or a string
// it holds gets an entry: the first time a stripe meets a string. The caller holds the
// stripe's write lock; ev is no one else's yet.
func (d *dict) share(ev *storedEvent, pending []string) {
	rest := ev.rest()
	if len(rest) == 0 {
		return
	}
	if ev.rec.refs > 0 {
		pending = pending[ev.pendingAt : int(ev.pendingAt)+int(ev.rec.refs)]
	}
	var (
		strs   [numRestStrings]restString
		refs   uint8
		repack bool
	)
	rd := objectReader{b: rest}
	for k := range strs {
		strs[k] = rd.nextString()
		st := &strs[k]
		switch {
		case st.ref:
			want := pending[0]
			pending = pending[1:]
			if sl := d.slotOf(st.i); sl != nil && sl.s == want {
				sl.refs++
				refs++
				continue
			}
			// The entry went, or stands for another string now.
			repack = true
			if i, ok := d.acquire(want); ok {
				st.i = i
				refs++
			} else {
				*st = restString{text: unsafe.Slice(unsafe.StringData(want), len(want))}
			}
		case sharedFields[k] && len(st.text) >= minShared:
			if i, ok := d.acquire(unsafe.String(&st.text[0], len(st.text))); ok {
				*st = restString{ref: true, i: i}
				refs++
				repack = true
			}
		}
	}
	ev.rec.refs = refs
	if !repack {
		return
	}
	head := ev.text[:len(ev.text)-len(rest)]
	objects := rest[rd.i:]
	size := len(head) + len(objects)
	for _, st := range strs {
		if st.ref {
			size += uvarintLen(uint64(st.i)<<1 | 1)
		} else {
			size += uvarintLen(uint64(len(st.text))<<1) + len(st.text)
		}
	}
	p := packer{buf: make([]byte, 0, size)}
	p.text(head)
	for _, st := range strs {
		if st.ref {
			p.uvarint(uint64(st.i)<<1 | 1)
			continue
		}
		p.uvarint(uint64(len(st.text)) << 1)
		p.text(st.text)
	}
	p.text(objects)
	ev.text = p.buf
}

// slotOf returns entry i, or nil when there is none.
func (d *dict) slotOf(i uint32) *dictSlot {
	if int(i) >= len(d.slots) || d.slots[i].refs == 0 {
		return nil
	}
	return &d.slots[i]
}

// unshare releases the references of ev, which is being removed from the dictionary's
// stripe. The caller holds the stripe's write lock.
func (d *dict) unshare(ev *storedEvent) {
	if ev.rec.refs == 0 {
		return
	}
	rd := objectReader{b: ev.rest()}
	for range len(sharedFields) {
		if st := rd.nextString(); st.ref {
			d.release(st.i)
		}
	}
}

// resolve appends to dst the strings of the entries ev refers to, in order, for
// copyRecord. The caller holds the lock of ev's stripe, where ev is stored.
func (d *dict) resolve(ev *storedEvent, dst []string) []string {
	if ev.rec.refs == 0 {
		return dst
	}
	rd := objectReader{b: ev.rest()}
	for range len(sharedFields) {
		if st := rd.nextString(); st.ref {
			dst = append(dst, d.slots[st.i].s)
		}
	}
	return dst
}

// hold returns ev with the strings it refers to, resolved from the dictionary into
// buf, which it returns grown. The caller holds the lock of ev's stripe, where ev is
// stored.
func (d *dict) hold(ev *storedEvent, buf []string) (heldEvent, []string) {
	if ev.rec.refs == 0 {
		return heldEvent{ev: ev}, buf
	}
	start := len(buf)
	buf = d.resolve(ev, buf)
	return heldEvent{ev: ev, shared: buf[start:len(buf):len(buf)]}, buf
}

// held returns an event the change added, not yet stored, with the strings its
// references stand for.
func (ch *change) held(ev *storedEvent) heldEvent {
	if ev.rec.refs == 0 {
		return heldEvent{ev: ev}
	}
	at := int(ev.pendingAt)
	return heldEvent{ev: ev, shared: ch.pending[at : at+int(ev.rec.refs) : at+int(ev.rec.refs)]}
}
