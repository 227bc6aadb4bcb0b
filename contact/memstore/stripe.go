package memstore

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
)

// numStripes is the number of stripes the store's state is split into. A power of two;
// 256 keeps two transactions on different contacts apart with high probability while
// the whole set can still be read-locked at once for a snapshot.
const numStripes = 256

// absent is the bit that marks the version of an item that is not there. Present items
// have versions below it (a stripe would need 2^63 commits to reach it).
const absent = 1 << 63

// stripe holds the items whose hash falls to it: contacts (with their events), index
// entries and processed messageIds, under one lock. Every item has a version that changes
// whenever the item does (see the package doc); versions are what transactions check at
// commit.
type stripe struct {
	stripeState
	// Pad to a multiple of a cache line so that two cores locking neighbouring stripes do
	// not fight over one line.
	_ [(64 - unsafe.Sizeof(stripeState{})%64) % 64]byte
}

type stripeState struct {
	mu sync.RWMutex

	// clock is the last version given to an item of this stripe.
	clock uint64
	// contactsGone and keysGone count removals of contacts and of index keys: the
	// version of an absent item is its counter with the absent bit, so that an item
	// removed and added back between a transaction's read and its commit (A-B-A) is
	// still seen to have changed.
	contactsGone, keysGone uint64

	contacts map[string]*entry
	// keys is the index (Rule I6), by the 64-bit hash of a lookup key: the ids of the
	// contacts that have a key with that hash, sorted, an id once for each of its keys
	// with that hash. Two keys sharing a hash are told apart by checking the contacts'
	// keys, so the map needs no copy of the key (8 bytes a slot instead of 24).
	keys       map[uint64]keyEntry
	processed  idSet                     // by hasher.processedHash
	tombstones map[string]tombstoneEntry // by userId

	// timeline holds every event of this stripe's contacts in byTimelineOrder, for
	// Recent.
	timeline eventList
	// named holds the same events by name, each list in byTimelineOrder, for Named.
	named map[string]*eventList
	// dict holds the context strings the stripe's events share (dict.go).
	dict dict
}

// entry is a stored contact with its events.
type entry struct {
	version uint64
	c       *contact.Contact // never changed once stored: Put stores a new one
	// keys are the hashes of c's keys (hasher.key): what the index holds for c, so
	// that a commit that re-puts c compares the new keys with these instead of
	// listing and hashing c's keys again. Held in the entry (no object of their own
	// for most contacts); transactions copy them under the stripe's lock.
	keys   keyHashes
	events contactEvents // held in the entry: one object less a contact (issue 14)
}

// contactEvents are the events of one contact.
type contactEvents struct {
	list eventList // byContactOrder
	// byID finds events by messageId once there are more than linearLookup of them.
	byID map[string]*storedEvent
}

// keyHashes are the hashes of a contact's keys, sorted, one for each key. Up to four
// are held inline.
type keyHashes struct {
	n     uint8
	small [4]uint64
	big   []uint64 // all of them, when more than len(small); never changed once stored
}

// makeKeyHashes returns sorted hashes h as keyHashes (h itself is not kept).
func makeKeyHashes(h []uint64) keyHashes {
	var k keyHashes
	if len(h) > len(k.small) {
		k.big = slices.Clone(h)
		return k
	}
	k.n = uint8(copy(k.small[:], h))
	return k
}

// get returns the hashes. The slice may share k's memory: call it on a copy that
// nothing else changes (a transaction's), never on a stored entry's.
func (k *keyHashes) get() []uint64 {
	if k.big != nil {
		return k.big
	}
	return k.small[:k.n]
}

// keyEntry is an entry of the index: the ids that keys with one hash find. Nearly
// every key finds one contact, and its entry holds the id inline: no allocation, and
// no object for the garbage collector to mark, per key (issue 14). A list, once
// stored, is never changed: a change stores a new one, so that a transaction that read
// it may keep it.
type keyEntry struct {
	one     string    // the id, when there is one; "" when more holds the list
	more    *[]string // two or more ids, sorted
	version uint64    // from the stripe's clock: changes whenever the entry does
}

// tombstoneEntry is the latest delete of a userId (Rule I7).
type tombstoneEntry struct {
	ts      contact.Tombstone
	version uint64
}

// linearLookup is the number of events up to which a contact's events are searched by
// messageId with a scan rather than a map.
const linearLookup = 16

// ascend calls yield for the entry's events from since to until; see eventList.ascend.
func (e *entry) ascend(since, until time.Time, yield func(*storedEvent) bool) {
	e.events.list.ascend(since, until, yield)
}

func (s *stripe) next() uint64 {
	s.clock++
	return s.clock
}

func (s *stripe) contactVersion(id string) uint64 {
	_, v := s.contactEntry(id)
	return v
}

// contactEntry returns the entry of the contact with the id (nil when absent) and its
// version, with one lookup.
func (s *stripe) contactEntry(id string) (*entry, uint64) {
	if e := s.contacts[id]; e != nil {
		return e, e.version
	}
	return nil, s.contactsGone | absent
}

func (s *stripe) keyVersion(h uint64) uint64 {
	if e, ok := s.keys[h]; ok {
		return e.version
	}
	return s.keysGone | absent
}

// processedVersion is 1 for a processed messageId and 0 for another: processed
// messageIds are never removed, so there is no A-B-A to guard against.
func (s *stripe) processedVersion(h uint64, messageID string) uint64 {
	if s.processed.has(h, messageID) {
		return 1
	}
	return 0
}

// tombstoneVersion is the version of a userId's tombstone; 0 when there is none.
// Tombstones are never removed, so there is no A-B-A to guard against.
func (s *stripe) tombstoneVersion(userID string) uint64 { return s.tombstones[userID].version }

// putTombstone keeps ts if it is a later delete than the one stored.
func (s *stripe) putTombstone(ts contact.Tombstone) {
	if old, ok := s.tombstones[ts.UserID]; ok && !ts.After(old.ts) {
		return
	}
	if s.tombstones == nil {
		s.tombstones = make(map[string]tombstoneEntry)
	}
	s.tombstones[ts.UserID] = tombstoneEntry{ts: ts, version: s.next()}
}

// event returns the contact's event with the messageId, or nil.
func (e *entry) event(messageID string) *storedEvent {
	switch {
	case e.events.byID != nil:
		return e.events.byID[messageID]
	}
	tag := messageIDTag(messageID)
	for _, c := range e.events.list.chunks {
		for _, ev := range c {
			if ev.idTag == tag && ev.messageID() == messageID {
				return ev
			}
		}
	}
	return nil
}

// addEvent adds ev to the entry and to the stripe's timeline, its shared strings to the
// stripe's dictionary (pending: the strings its references stand for, see dict.share).
// The caller has checked that the entry has no event with the same messageId, and holds
// the stripe's write lock; ev is no one else's yet.
func (s *stripe) addEvent(e *entry, ev *storedEvent, pending []string) {
	s.dict.share(ev, pending)
	es := &e.events
	es.list.insert(ev, byContactOrder)
	s.timeline.insert(ev, byTimelineOrder)
	s.nameAdd(ev)
	if es.byID != nil {
		es.byID[ev.messageID()] = ev
	} else if n := es.list.len(); n > linearLookup {
		es.byID = make(map[string]*storedEvent, n)
		for _, c := range es.list.chunks {
			for _, ev := range c {
				es.byID[ev.messageID()] = ev
			}
		}
	}
}

// removeEvent removes ev from the entry and from the stripe's timeline, and releases
// its dictionary entries (Rule I7).
func (s *stripe) removeEvent(e *entry, ev *storedEvent) {
	es := &e.events
	es.list.remove(ev, byContactOrder)
	s.timeline.remove(ev, byTimelineOrder)
	s.nameRemove(ev)
	s.dict.unshare(ev)
	switch {
	case es.list.chunks == nil:
		e.events = contactEvents{}
	case es.byID != nil:
		delete(es.byID, ev.messageID())
	}
}

// removeAllEvents removes the entry's events from the stripe's timeline and from the
// entry, and releases their dictionary entries (Rule I7).
func (s *stripe) removeAllEvents(e *entry) {
	for _, c := range e.events.list.chunks {
		for _, ev := range c {
			s.timeline.remove(ev, byTimelineOrder)
			s.nameRemove(ev)
			s.dict.unshare(ev)
		}
	}
	e.events = contactEvents{}
}

// indexAdd adds id to the contacts a key with hash h finds.
func (s *stripe) indexAdd(h uint64, id string) {
	if s.keys == nil {
		s.keys = make(map[uint64]keyEntry)
	}
	e, ok := s.keys[h]
	if !ok {
		s.keys[h] = keyEntry{one: id, version: s.next()}
		return
	}
	var one [1]string
	old := one[:0]
	if e.more != nil {
		old = *e.more
	} else {
		old = append(old, e.one)
	}
	i, _ := slices.BinarySearch(old, id)
	ids := make([]string, len(old)+1)
	copy(ids, old[:i])
	ids[i] = id
	copy(ids[i+1:], old[i:])
	s.keys[h] = keyEntry{more: &ids, version: s.next()}
}

// indexRemove removes id once from the contacts a key with hash h finds, and the entry
// when none is left.
func (s *stripe) indexRemove(h uint64, id string) {
	e, ok := s.keys[h]
	switch {
	case !ok:
		return
	case e.more == nil:
		if e.one == id {
			delete(s.keys, h)
			s.keysGone++
		}
		return
	}
	old := *e.more
	i, found := slices.BinarySearch(old, id)
	switch {
	case !found:
		return
	case len(old) == 2:
		s.keys[h] = keyEntry{one: old[1-i], version: s.next()}
		return
	}
	ids := make([]string, 0, len(old)-1)
	ids = append(ids, old[:i]...)
	ids = append(ids, old[i+1:]...)
	s.keys[h] = keyEntry{more: &ids, version: s.next()}
}

// stripeSet is a set of stripe numbers, iterated in ascending order: the order in which
// a commit locks them, so that two commits can never wait for each other.
type stripeSet [numStripes / 64]uint64

func (ss *stripeSet) add(i uint8)      { ss[i/64] |= 1 << (i % 64) }
func (ss *stripeSet) has(i uint8) bool { return ss[i/64]&(1<<(i%64)) != 0 }

// each calls fn for each stripe number in the set, in ascending order.
func (ss *stripeSet) each(fn func(i uint8)) {
	for w, word := range ss {
		for word != 0 {
			n := bits.TrailingZeros64(word)
			fn(uint8(w*64 + n))
			word &= word - 1
		}
	}
}

// hasher spreads items over stripes.
type hasher struct {
	seed maphash.Seed
	// keyMask is ANDed into key hashes: all ones, but for tests that make keys collide.
	keyMask uint64
}

func (h hasher) contact(id string) uint8 { return uint8(maphash.String(h.seed, id) >> 56) }

// key returns the hash of a lookup key; its top byte is its stripe (see stripeOf).
func (h hasher) key(k identity.Key) uint64 {
	x := maphash.String(h.seed, k.Value) ^ uint64(k.Kind)*0x9E3779B97F4A7C15
	x ^= x >> 29
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 32
	return x & h.keyMask
}

// stripeOf returns the stripe of a key hash.
func stripeOf(keyHash uint64) uint8 { return uint8(keyHash >> 56) }

// processedHash is the hash a stripe's idSet of processed messageIds keeps a messageId
// by; processedStripe picks the stripe from it.
func (h hasher) processedHash(messageID string) uint64 { return maphash.String(h.seed, messageID) }

func processedStripe(x uint64) uint8 { return uint8((x * 0x94D049BB133111EB) >> 56) }

func (h hasher) tombstone(userID string) uint8 {
	x := maphash.String(h.seed, userID)
	x *= 0xD6E8FEB86659FD93
	return uint8(x >> 56)
}
