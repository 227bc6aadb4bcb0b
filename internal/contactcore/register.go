package contactcore

import (
	"math"
	"time"

	"github.com/regalkit/regalkit/internal/timestamp"
)

// A stamp orders writes (Rule T4): event time first, then messageId. The larger stamp
// wins, so the result does not depend on arrival order.
//
// A stamp is one pointer: every field one message writes shares that message's stamp,
// which keeps a contact's registers small. The zero stamp, of a field never written,
// sorts before every real one.
type stamp struct{ p *stampValue }

type stampValue struct {
	// at is the event time in Unix nanoseconds, saturated to the int64 range, with its
	// sign bit flipped: an order-preserving map onto uint64 in which the zero stamp of a
	// field never written sorts before every real time, 1970 and earlier included.
	at uint64
	id string // messageId
}

func stampOf(t time.Time, messageID string) stamp {
	return stamp{&stampValue{at: packedTime(t), id: messageID}}
}

// packedTime is t as a stamp keeps it (stampValue.at).
func packedTime(t time.Time) uint64 { return uint64(unixNano(t)) ^ 1<<63 }

// is reports whether s is the stamp of time at (packed) and messageID.
func (s stamp) is(at uint64, messageID string) bool {
	return s.p != nil && s.p.at == at && s.p.id == messageID
}

// value returns the stamp's time and messageId; zero for the zero stamp.
func (s stamp) value() stampValue {
	if s.p == nil {
		return stampValue{}
	}
	return *s.p
}

func (s stamp) id() string { return s.value().id }

// unixNano is t.UnixNano saturated to the int64 range ([timestamp.Min, timestamp.Max]),
// so that times beyond it still order sensibly. Every time inside the range is exact,
// up to its last nanosecond: Rule D4 accepts all of them, and a time that came back
// from a store different from the one a contact packed would not find what it stamped.
func unixNano(t time.Time) int64 {
	switch {
	case t.After(timestamp.Max):
		return math.MaxInt64
	case t.Before(timestamp.Min):
		return math.MinInt64
	}
	return t.UnixNano()
}

func (s stamp) time() time.Time { return time.Unix(0, int64(s.value().at^1<<63)).UTC() }

// compare orders stamps as msgorder.Compare orders messages, by event time, then
// messageId, on the packed form a stamp keeps (nanoseconds saturated to the years
// 1678–2262, where Compare has the full time range). Registers, their merge and
// tombstones compare stamps millions of times, so the packed form pays for itself;
// TestStampCompare_matchesMsgorder holds the two orders together.
func (s stamp) compare(o stamp) int {
	if s.p == o.p {
		return 0
	}
	a, b := s.value(), o.value()
	switch {
	case a.at < b.at:
		return -1
	case a.at > b.at:
		return 1
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

func (s stamp) isZero() bool { return s.value() == stampValue{} }

// A register is one last-writer-wins field: its value and the stamp of the write that
// set it. An empty value means absent (never set, or removed by JSON null). Values are
// plain strings for standard fields and compact JSON text for custom properties and
// unknown address keys.
type register struct {
	val string
	st  stamp
}

// set applies a write and reports whether the register's value changed. A write wins
// when its stamp is larger; on equal stamps (the same message applied twice, or two
// messages sharing a messageId and time) the larger value wins, so that any order gives
// the same register.
func (r *register) set(val string, st stamp) (changed bool) {
	switch c := st.compare(r.st); {
	case c < 0:
		return false
	case c == 0 && val <= r.val:
		return false
	}
	changed = r.val != val
	r.val, r.st = val, st
	return changed
}

// join merges o into r.
func (r *register) join(o register) bool { return r.set(o.val, o.st) }

// An instant is a processor time (a contact's creation or update) in Unix nanoseconds,
// zero when unset: a third of a time.Time's size, for a field every contact has.
type instant int64

func instantOf(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	return instant(unixNano(t))
}

func (i instant) time() time.Time {
	if i == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(i)).UTC()
}

// CompareStamps orders two messages as a contact's registers order their writes (Rule
// T4): by event time saturated to the years 1678–2262, then messageId. A delete's
// tombstone compares with it, so that what it covers is what [Contact.Erase] erases.
func CompareStamps(at time.Time, aID string, bt time.Time, bID string) int {
	return stampOf(at, aID).compare(stampOf(bt, bID))
}
