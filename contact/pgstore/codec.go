package pgstore

import (
	"fmt"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
)

// encodeContact and decodeContact are the store's only uses of the contact package's
// storage codec ([contact.EncodeStorage], [contact.DecodeStorage]): a versioned
// document that reads back into a contact that merges exactly as the original would
// (every field with the stamp that set it, removed fields, links, held messages, the
// consent ledger). The store keeps those bytes as they are; should the codec's API
// change, these two functions are all that changes with it.
func encodeContact(c *contact.Contact) ([]byte, error) {
	b, err := contact.EncodeStorage(c)
	if err != nil {
		return nil, fmt.Errorf("pgstore: encoding contact %q: %w", c.ID(), err)
	}
	return b, nil
}

func decodeContact(doc []byte) (*contact.Contact, error) {
	c, err := contact.DecodeStorage(doc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: decoding a stored contact: %w", err)
	}
	return c, nil
}

// An event record is kept in columns: the ones the store filters and sorts by, and its
// three JSON objects as the event package writes and reads them (NULL for an absent
// one), so that values come back digit for digit and members in their order.

// splitTime and joinTime keep an instant exactly, whatever its year: Unix seconds and
// nanoseconds, which sort as the instants do.
func splitTime(t time.Time) (sec int64, nsec int32) { return t.Unix(), int32(t.Nanosecond()) }

func joinTime(sec int64, nsec int32) time.Time { return time.Unix(sec, int64(nsec)).UTC() }

// recordRow is an event record as its columns hold it.
type recordRow struct {
	sec        int64
	nsec       int32
	kind       int16
	name       []byte
	category   []byte
	groupID    []byte
	messageID  []byte
	properties []byte
	traits     []byte
	context    []byte
	// receivedSec and receivedNsec hold ReceivedAt; nil when unknown.
	receivedSec  *int64
	receivedNsec *int32
}

func objectBytes(o event.Object) ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	return o.AppendJSON(nil)
}

func toRow(r *event.Record) (recordRow, error) {
	row := recordRow{
		kind:      int16(r.Kind),
		name:      []byte(r.Name),
		category:  []byte(r.Category),
		groupID:   []byte(r.GroupID),
		messageID: []byte(r.MessageID),
	}
	row.sec, row.nsec = splitTime(r.Time)
	var err error
	if row.properties, err = objectBytes(r.Properties); err != nil {
		return row, fmt.Errorf("pgstore: event %q: properties: %w", r.MessageID, err)
	}
	if row.traits, err = objectBytes(r.Traits); err != nil {
		return row, fmt.Errorf("pgstore: event %q: traits: %w", r.MessageID, err)
	}
	if !r.Context.IsZero() {
		if row.context, err = r.Context.MarshalJSON(); err != nil {
			return row, fmt.Errorf("pgstore: event %q: context: %w", r.MessageID, err)
		}
	}
	if !r.ReceivedAt.IsZero() {
		sec, nsec := splitTime(r.ReceivedAt)
		row.receivedSec, row.receivedNsec = &sec, &nsec
	}
	return row, nil
}

func (row *recordRow) record() (event.Record, error) {
	r := event.Record{
		Kind:      event.Kind(row.kind),
		Name:      string(row.name),
		Category:  string(row.category),
		GroupID:   string(row.groupID),
		MessageID: string(row.messageID),
		Time:      joinTime(row.sec, row.nsec),
	}
	if row.properties != nil {
		if err := r.Properties.UnmarshalJSON(row.properties); err != nil {
			return r, fmt.Errorf("pgstore: stored event %q: properties: %w", r.MessageID, err)
		}
	}
	if row.traits != nil {
		if err := r.Traits.UnmarshalJSON(row.traits); err != nil {
			return r, fmt.Errorf("pgstore: stored event %q: traits: %w", r.MessageID, err)
		}
	}
	if row.context != nil {
		if err := r.Context.UnmarshalJSON(row.context); err != nil {
			return r, fmt.Errorf("pgstore: stored event %q: context: %w", r.MessageID, err)
		}
	}
	if row.receivedSec != nil && row.receivedNsec != nil {
		r.ReceivedAt = joinTime(*row.receivedSec, *row.receivedNsec)
	}
	return r, nil
}
