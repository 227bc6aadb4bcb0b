package memstore

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"
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
// keys and processed messageIds, under one lock. Every item has a version that changes
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

	contacts  map[string]*entry
	keys      map[identity.Key]keyEntry
	processed map[string]struct{}

	// timeline holds every event of this stripe's contacts in byTimelineOrder, for
	// Recent.
	timeline eventList
}

// entry is a stored contact with its events.
type entry struct {
	version uint64
	c       *contact.Contact // never changed once stored: Put stores a new one
	events  eventList        // byContactOrder
	// byID finds events by messageId once there are more than linearLookup of them.
	byID map[string]*storedEvent
}

// linearLookup is the number of events up to which a contact's events are searched by
// messageId with a scan rather than a map.
const linearLookup = 16

// keyEntry is the index entry of one lookup key: the ids of the contacts it finds.
type keyEntry struct {
	version uint64
	ids     []string // sorted; never changed once stored: a change stores a new slice
}

func (s *stripe) next() uint64 {
	s.clock++
	return s.clock
}

func (s *stripe) contactVersion(id string) uint64 {
	if e := s.contacts[id]; e != nil {
		return e.version
	}
	return s.contactsGone | absent
}

func (s *stripe) keyVersion(k identity.Key) uint64 {
	if ke, ok := s.keys[k]; ok {
		return ke.version
	}
	return s.keysGone | absent
}

// processedVersion is 1 for a processed messageId and 0 for another: processed
// messageIds are never removed, so there is no A-B-A to guard against.
func (s *stripe) processedVersion(messageID string) uint64 {
	if _, ok := s.processed[messageID]; ok {
		return 1
	}
	return 0
}

// event returns the contact's event with the messageId, or nil.
func (e *entry) event(messageID string) *storedEvent {
	if e.byID != nil {
		return e.byID[messageID]
	}
	for _, c := range e.events.chunks {
		for _, ev := range c {
			if ev.rec.MessageID == messageID {
				return ev
			}
		}
	}
	return nil
}

// addEvent adds ev to the entry and to the stripe's timeline. The caller has checked
// that the entry has no event with the same messageId.
func (s *stripe) addEvent(e *entry, ev *storedEvent) {
	e.events.insert(ev, byContactOrder)
	s.timeline.insert(ev, byTimelineOrder)
	if e.byID != nil {
		e.byID[ev.rec.MessageID] = ev
	} else if n := e.events.len(); n > linearLookup {
		e.byID = make(map[string]*storedEvent, n)
		for _, c := range e.events.chunks {
			for _, ev := range c {
				e.byID[ev.rec.MessageID] = ev
			}
		}
	}
}

// removeEvent removes ev from the entry and from the stripe's timeline.
func (s *stripe) removeEvent(e *entry, ev *storedEvent) {
	e.events.remove(ev, byContactOrder)
	s.timeline.remove(ev, byTimelineOrder)
	if e.byID != nil {
		delete(e.byID, ev.rec.MessageID)
	}
}

// removeAllEvents removes the entry's events from the stripe's timeline and empties
// the entry's list.
func (s *stripe) removeAllEvents(e *entry) {
	for _, c := range e.events.chunks {
		for _, ev := range c {
			s.timeline.remove(ev, byTimelineOrder)
		}
	}
	e.events = eventList{}
	e.byID = nil
}

// indexAdd adds id to the contacts key finds.
func (s *stripe) indexAdd(k identity.Key, id string) {
	ke := s.keys[k]
	i, found := slices.BinarySearch(ke.ids, id)
	if found {
		return
	}
	ids := make([]string, len(ke.ids)+1)
	copy(ids, ke.ids[:i])
	ids[i] = id
	copy(ids[i+1:], ke.ids[i:])
	s.keys[k] = keyEntry{version: s.next(), ids: ids}
}

// indexRemove removes id from the contacts key finds, and the key when none is left.
func (s *stripe) indexRemove(k identity.Key, id string) {
	ke, ok := s.keys[k]
	if !ok {
		return
	}
	i, found := slices.BinarySearch(ke.ids, id)
	if !found {
		return
	}
	if len(ke.ids) == 1 {
		delete(s.keys, k)
		s.keysGone++
		return
	}
	ids := make([]string, 0, len(ke.ids)-1)
	ids = append(ids, ke.ids[:i]...)
	ids = append(ids, ke.ids[i+1:]...)
	s.keys[k] = keyEntry{version: s.next(), ids: ids}
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
type hasher struct{ seed maphash.Seed }

func (h hasher) contact(id string) uint8 { return uint8(maphash.String(h.seed, id) >> 56) }

func (h hasher) key(k identity.Key) uint8 {
	x := maphash.String(h.seed, k.Value) ^ uint64(k.Kind)*0x9E3779B97F4A7C15
	x ^= x >> 29
	x *= 0xBF58476D1CE4E5B9
	return uint8(x >> 56)
}

func (h hasher) processed(messageID string) uint8 {
	x := maphash.String(h.seed, messageID)
	x *= 0x94D049BB133111EB
	return uint8(x >> 56)
}
