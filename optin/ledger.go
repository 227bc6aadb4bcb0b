package optin

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/regalkit/regalkit/internal/intern"
	"github.com/regalkit/regalkit/internal/msgorder"
)

// Ledger is a contact's consent: the grow-only set of every record it has received,
// valid or refused (Rule C7). Everything else is derived from the set by
// [Ledger.Resolve]: each address's state per channel (Rules C6, C9), which phone a
// record without one applies to (Rule C5), and each record's outcome (Rule C7). So the
// order records arrive in, and how often, cannot change any of it.
//
// The zero Ledger is empty and ready to use. A Ledger is a value: copying it is cheap,
// and a copy never sees the other's later changes, because a Ledger never writes into
// memory it has shared. Reading methods are safe for concurrent use; Add, Merge and
// UnmarshalJSON need exclusive access to the variable they change, as for any value.
type Ledger struct {
	// recs is sorted by compare with no two records the same, normalized and checked.
	// Neither the slice nor the records it points to are ever written in place: every
	// change builds a new slice, and a joined record is a new record. Pointers make that
	// copy cheap: adding to a ledger of n records copies n pointers, not n records.
	recs []*Record
}

// Add puts records into the ledger and returns how many were new. Each record is
// checked first (see [Record.Check]): one that breaks Rules C1–C4 is kept as refused,
// whatever its Refused field said. A record the ledger already holds (the same message's
// record delivered again) is not added twice; the ledger keeps the earlier of the two
// MessageTimes and of the two ProcessedAts (zero counting as unknown).
func (l *Ledger) Add(records ...Record) (added int) {
	if len(records) == 0 {
		return 0
	}
	in := make([]Record, len(records))
	for i, r := range records {
		in[i] = normalize(r)
	}
	slices.SortFunc(in, func(a, b Record) int { return compare(&a, &b) })
	in = dedupe(in)
	// Keep only what changes the ledger, so that a redelivery allocates nothing more.
	// The ledger points into in, which nothing writes after this loop.
	var changes []*Record
	for k := range in {
		i, found := l.find(&in[k])
		if !found {
			added++
			in[k] = interned(in[k])
			changes = append(changes, &in[k])
		} else if joined := join(*l.recs[i], in[k]); !sameTimes(joined, *l.recs[i]) {
			in[k] = joined
			changes = append(changes, &in[k])
		}
	}
	if len(changes) > 0 {
		l.recs = union(l.recs, changes)
	}
	return added
}

// Merge adds every record of o to l, as when two contacts merge (Rule I3). The result is
// the same as adding both ledgers' records in any order: Merge is commutative,
// associative and idempotent. o is not changed.
func (l *Ledger) Merge(o Ledger) {
	if len(o.recs) == 0 {
		return
	}
	if len(l.recs) == 0 {
		l.recs = o.recs // safe to share: neither side ever writes in place
		return
	}
	l.recs = union(l.recs, o.recs)
}

// interned returns r with its evidence strings shared with every other record that
// says the same (see internal/intern): consent texts and sources repeat across a whole
// audience, and the parser's strings would keep the message's JSON alive.
func interned(r Record) Record {
	r.Channel = Channel(intern.String(string(r.Channel)))
	r.IP = intern.String(r.IP)
	r.Source = intern.String(r.Source)
	r.Text = intern.String(r.Text)
	return r
}

// Erase removes the records whose every message came before the delete message at (t,
// messageID), as when a contact is deleted (Rule I7: a delete removes everything the
// contact's messages said before it), and reports how many it removed. Messages are
// ordered by time, then messageId. It is the one way records leave a ledger.
//
// A record that a message after the delete carried again stays, carried by its latest
// message: the earliest one after the delete cannot be known when the delete arrives
// last, so a ledger reborn after a delete counts every record from its latest message,
// in every arrival order. Call Erase again after adding records to a reborn ledger; it
// is idempotent.
func (l *Ledger) Erase(t time.Time, messageID string) int {
	kept := make([]*Record, 0, len(l.recs))
	changed := false
	for _, r := range l.recs {
		lt, lid := r.last()
		if msgorder.Compare(lt, lid, t, messageID) < 0 {
			changed = true
			continue
		}
		if r.LastMessageID != "" || !r.LastMessageTime.IsZero() {
			c := *r
			c.MessageID, c.MessageTime = lid, lt
			c.LastMessageID, c.LastMessageTime = "", time.Time{}
			r, changed = &c, true
		}
		kept = append(kept, r)
	}
	n := len(l.recs) - len(kept)
	if changed {
		l.recs = kept // a new slice: copies of l that share the old one keep it
	}
	return n
}

// Len returns the number of records in the ledger.
func (l Ledger) Len() int { return len(l.recs) }

// Records returns a copy of the ledger's records in canonical order: by consent
// timestamp, then the channel, address, direction and evidence of each record (see
// History).
func (l Ledger) Records() []Record {
	if len(l.recs) == 0 {
		return nil
	}
	out := make([]Record, len(l.recs))
	for i, r := range l.recs {
		out[i] = *r
	}
	return out
}

// Equal reports whether l and o hold the same records, times included.
func (l Ledger) Equal(o Ledger) bool {
	return slices.EqualFunc(l.recs, o.recs, func(a, b *Record) bool {
		return compare(a, b) == 0 && sameTimes(*a, *b)
	})
}

// sameTimes reports whether two copies of a record have the same MessageTime and
// ProcessedAt.
func sameTimes(a, b Record) bool {
	return a.MessageTime.Equal(b.MessageTime) && a.MessageID == b.MessageID && a.ProcessedAt.Equal(b.ProcessedAt) &&
		a.LastMessageTime.Equal(b.LastMessageTime) && a.LastMessageID == b.LastMessageID
}

// String describes the ledger for logs without any address, as in
// "optin.Ledger{3 records}".
func (l Ledger) String() string {
	return "optin.Ledger{" + strconv.Itoa(len(l.recs)) + " records}"
}

// GoString is [Ledger.String], so that %#v does not print whole addresses either.
func (l Ledger) GoString() string { return l.String() }

// MarshalJSON writes the ledger as a JSON array of its records in canonical order, each
// as [Record.MarshalJSON] writes it. An empty ledger is [].
func (l Ledger) MarshalJSON() ([]byte, error) {
	out := make([]recordJSON, len(l.recs))
	for i, r := range l.recs {
		out[i] = r.toJSON(r.Address, "")
	}
	return json.Marshal(out)
}

// UnmarshalJSON replaces the ledger with the records of a JSON array, as written by
// [Ledger.MarshalJSON] or as the history of [View.History] (a contact export's
// consentHistory): outcomes are ignored and addresses a record was only bound to are
// dropped, since both are derived. So a ledger exported through its view and read back
// is equal to the original. Every record is checked as [Ledger.Add] checks it.
func (l *Ledger) UnmarshalJSON(b []byte) error {
	var ws []recordJSON
	if err := json.Unmarshal(b, &ws); err != nil {
		return fmt.Errorf("optin: ledger: %w", err)
	}
	recs := make([]Record, len(ws))
	for i := range ws {
		r, _, err := ws[i].fromJSON()
		if err != nil {
			return fmt.Errorf("optin: ledger record %d: %w", i, err)
		}
		recs[i] = r
	}
	var fresh Ledger
	fresh.Add(recs...)
	*l = fresh
	return nil
}

// find returns where r is or would be in l.recs.
func (l *Ledger) find(r *Record) (int, bool) {
	return slices.BinarySearchFunc(l.recs, r, compare)
}

// join combines two copies of the same record: the earliest message that carried it
// (MessageTime, then MessageID, a zero time counting as unknown), the latest one, and
// the earliest ProcessedAt. It is commutative, associative and idempotent.
func join(a, b Record) Record {
	at, aid := a.last()
	bt, bid := b.last()
	if laterStamp(bt, bid, at, aid) {
		at, aid = bt, bid
	}
	if earlierMessage(b, a) {
		a.MessageTime, a.MessageID = b.MessageTime, b.MessageID
	}
	a.LastMessageTime, a.LastMessageID = time.Time{}, ""
	if aid != a.MessageID || !at.Equal(a.MessageTime) {
		a.LastMessageTime, a.LastMessageID = at, aid
	}
	a.ProcessedAt = earliest(a.ProcessedAt, b.ProcessedAt)
	return a
}

// earlierMessage reports whether a's message comes before b's: by MessageTime, an unknown
// (zero) time last, then by MessageID.
func earlierMessage(a, b Record) bool {
	switch {
	case a.MessageTime.IsZero() != b.MessageTime.IsZero():
		return b.MessageTime.IsZero()
	}
	return msgorder.Compare(a.MessageTime, a.MessageID, b.MessageTime, b.MessageID) < 0
}

// laterStamp reports whether message (at, aid) comes after (bt, bid): by time, an
// unknown (zero) time first, then by messageId.
func laterStamp(at time.Time, aid string, bt time.Time, bid string) bool {
	return msgorder.Compare(at, aid, bt, bid) > 0 // the zero time is before every other
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// dedupe joins neighbouring copies of the same record in a sorted slice, in place.
func dedupe(s []Record) []Record {
	out := s[:0]
	for _, r := range s {
		if n := len(out); n > 0 && compare(&out[n-1], &r) == 0 {
			out[n-1] = join(out[n-1], r)
			continue
		}
		out = append(out, r)
	}
	return out
}

// union merges two sorted, deduplicated slices into a new one, joining copies of the
// same record into a new record. Neither input, nor any record, is written.
func union(a, b []*Record) []*Record {
	out := make([]*Record, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compare(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			if sameTimes(*a[i], *b[j]) {
				out = append(out, a[i])
			} else {
				joined := join(*a[i], *b[j])
				out = append(out, &joined)
			}
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// LogValue logs the ledger as [Ledger.String] does, never its addresses (a JSON log
// handler would otherwise call MarshalJSON).
func (l Ledger) LogValue() slog.Value { return slog.StringValue(l.String()) }
