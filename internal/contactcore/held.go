package contactcore

import (
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/msgorder"
	"github.com/regalkit/regalkit/optin"
)

// Held is an anonymous-only message, one that carried an anonymousId and no userId,
// kept whole on the contact it is attributed to, so that it can move when a late link
// attributes it to another contact (Rule I4). The processor decides where each one
// belongs; the contact shows what its held messages say, joined with its own.
//
// A Held is a value: its effect on a contact is computed once, by [NewHeld], and never
// changed after.
type Held struct {
	AnonymousID string
	MessageID   string
	Time        time.Time // the message's event time (Rule D5)
	// Event reports whether the message recorded an event (Rule E1); the store keeps it
	// under MessageID, and it moves with the Held.
	Event bool
	// Deleted reports that the message belongs, for now, to a deleted user's time before
	// the delete (Rule I7): the contact keeps it only so that it can move should a late
	// link attribute it to another user (Rule I4), and shows nothing of it. Its event
	// record, if any, is kept with it, out of the store's event list.
	Deleted bool

	effect *state        // what the message does to an empty contact; nil for none
	record *event.Record // a deleted held message's event record
}

// Bury returns h as a deleted held message (see [Held.Deleted]) that keeps rec, its
// event record taken out of the store (nil for none).
func (h Held) Bury(rec *event.Record) Held {
	h.Deleted, h.record = true, rec
	return h
}

// Unbury returns h as a held message that shows again, and the event record it kept
// while deleted, to be put back in the store (nil for none).
func (h Held) Unbury() (Held, *event.Record) {
	rec := h.record
	h.Deleted, h.record = false, nil
	return h, rec
}

// stamp returns the held message's (time, messageId) stamp.
func (h *Held) stamp() stamp { return stampOf(h.Time, h.MessageID) }

func compareHeld(a, b Held) int {
	if c := msgorder.Compare(a.Time, a.MessageID, b.Time, b.MessageID); c != 0 {
		return c
	}
	switch {
	case a.AnonymousID < b.AnonymousID:
		return -1
	case a.AnonymousID > b.AnonymousID:
		return 1
	}
	return 0
}

// NewHeld makes the held form of an anonymous-only message: its traits (an identify's,
// Rule T3) and the consent records given (an opt-in event's, Rule C8, bound to the
// phone and email of those traits, see Changes.BindConsent), applied to an empty
// contact, and whether it recorded an event. The Changes report the diagnostics of its
// traits and of the binding.
func NewHeld(m *event.Message, consent []optin.Record, recordedEvent bool, opts *ApplyOptions) (Held, Changes) {
	h := Held{AnonymousID: m.AnonymousID, MessageID: m.MessageID, Time: m.Time.UTC(), Event: recordedEvent}
	var s state
	ch := s.applyTraits(m, opts)
	consent, diags := ch.BindConsent(consent, m.MessageID, "event")
	ch.Diagnostics = append(ch.Diagnostics, diags...)
	s.consent.Add(consent...)
	if !s.isEmpty() {
		h.effect = &s
	}
	return h, ch
}

// isEmpty reports whether no message wrote anything to s. Keyword records are derived
// from the phones (Rule G7) and do not count.
func (s *state) isEmpty() bool {
	if s.consent.Len() > s.consent.KeywordLen() || len(s.phoneLog) > 0 || len(s.custom) > 0 || len(s.addressExtra) > 0 ||
		len(s.labels) > 0 || !s.addressCleared.isZero() {
		return false
	}
	for _, r := range s.fields {
		if !r.st.isZero() {
			return false
		}
	}
	for _, r := range s.address {
		if !r.st.isZero() {
			return false
		}
	}
	return true
}

// Held returns copies of the contact's held messages, sorted by time.
func (c *Contact) Held() []Held { return slices.Clone(c.held) }

// Hold attributes an anonymous-only message to the contact (Rule I4) and reports the
// fields it changed. Holding a message the contact already holds changes nothing.
func (c *Contact) Hold(h Held) Changes {
	i, found := slices.BinarySearchFunc(c.held, h, compareHeld)
	if found {
		return Changes{}
	}
	c.separate()
	if i == len(c.held) {
		c.appendHeld(h)
	} else {
		c.writeHeld()
		c.held = slices.Insert(c.held, i, h)
	}
	var ch Changes
	if h.effect != nil && !h.Deleted {
		c.writeState().join(h.effect, &ch)
	}
	return ch
}

// heldClaim is how many slots of a held array are taken: by the contacts that share the
// array (clones), each seeing a prefix of it. A contact that appends to a shared array
// takes the next slot with a compare-and-swap, so that of two clones of one contact
// (two transactions) only one writes it; the other copies.
type heldClaim struct {
	data *Held // the array's first element: the claim is for this array only
	n    atomic.Int64
}

// appendHeld appends h to c.held, the latest of c's held messages. Copy-on-write would
// copy the whole slice for every message, and a visitor who sends thousands of messages
// under one anonymous ID before any link made each message cost a copy of all the
// earlier ones (issue 14's hostile-sender review: 2,500 tracks allocated 277 MB, the
// eighth 2,500 3.8 GB). Held messages arrive mostly in time order, at the end: a clone
// that shares the array writes the free slot after its end when no other clone has
// taken it (heldClaim), which no contact sharing the array can see; else it copies the
// slice, with room to grow.
func (c *Contact) appendHeld(h Held) {
	n := len(c.held)
	if n < minClaimedHeld {
		c.writeHeld()
		c.held = append(c.held, h)
		return
	}
	if cl := c.claim(); c.owns&ownsHeld == 0 && n < cap(c.held) && cl != nil &&
		cl.data == unsafe.SliceData(c.held) && cl.n.CompareAndSwap(int64(n), int64(n+1)) {
		c.held = c.held[:n+1]
		c.held[n] = h
		return
	}
	if c.owns&ownsHeld == 0 {
		held := make([]Held, n, n+n/2+4)
		copy(held, c.held)
		c.held = held
		c.owns |= ownsHeld
	}
	c.held = append(c.held, h)
	cl := c.claim()
	if cl == nil || cl.data != unsafe.SliceData(c.held) {
		cl = &heldClaim{data: unsafe.SliceData(c.held)}
		c.setHeldClaim(cl)
	}
	cl.n.Store(int64(len(c.held)))
}

// minClaimedHeld is the length from which appendHeld claims slots rather than copies:
// a short list costs less to copy than a claim to allocate (BenchmarkPipeline, whose
// visitors hold a few messages each: 3,447 B and 15.89 allocations a message with it,
// 3,468 B and 16.03 claiming from the first).
const minClaimedHeld = 16

// Release takes away the held messages of the anonymous ID for which move reports true,
// and returns them; the contact then shows its own messages joined with those it still
// holds.
func (c *Contact) Release(anonymousID string, move func(h Held) bool) []Held {
	var out []Held
	kept := c.held[:0:0]
	for _, h := range c.held {
		if h.AnonymousID == anonymousID && move(h) {
			out = append(out, h)
		} else {
			kept = append(kept, h)
		}
	}
	if len(out) > 0 {
		c.held = kept
		c.rebuild()
	}
	return out
}

// rebuild recomputes the shown state from own, parts and held.
func (c *Contact) rebuild() {
	if c.own == nil {
		return
	}
	s := c.own.clone()
	for _, p := range c.parts {
		s.join(p.shown(), nil)
	}
	for i := range c.held {
		if e := c.held[i].effect; e != nil && !c.held[i].Deleted {
			s.join(e, nil)
		}
	}
	c.setState(s)
	if len(c.held) == 0 && len(c.parts) == 0 {
		c.own = nil
		c.owns &^= ownsOwn
	}
}

// ownState returns the state of the contact's own messages, to read: c.own, or c.state
// when c keeps no separate own state.
func (c *Contact) ownState() *state {
	if c.own != nil {
		return c.own
	}
	return c.shown()
}
