package storetest

import (
	"context"

	"github.com/stretchr/testify/assert"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
)

// Clause: Named yields the records of all contacts with q.Name that match the rest of
// q, oldest first (event time, then messageId, then contact id), q.Limit of them at
// most; an empty name yields nothing; deleted records and the records of deleted
// contacts are gone from it, and a late record takes its place by time (Rule J2).
func namedOldestFirstByName(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"), person("c-3", "u-3"), person("c-4", "u-4"))
	// Oldest first.
	want := []ce{
		{"c-3", record(event.Track, "Approved", 0, "m-1")},
		{"c-1", record(event.Track, "Approved", 60, "m-2")},
		{"c-2", record(event.Track, "Approved", 60, "m-2")}, // same time and messageId: contact id
		{"c-2", record(event.Track, "Approved", 60, "m-3")}, // same time: messageId
		{"c-1", record(event.Page, "Approved", 120, "m-4")},
		{"c-3", record(event.Track, "Approved", 300, "m-5")},
	}
	// Newest first, one transaction each, with records of other names between.
	for i := len(want) - 1; i >= 0; i-- {
		addEvents(t, s, want[i].id, want[i].r, record(event.Track, "Signed", 30*i, "x-"+want[i].r.MessageID))
	}
	// A record of a contact deleted afterwards, and one deleted by messageId.
	addEvents(t, s, "c-4", record(event.Track, "Approved", 90, "m-gone"))
	addEvents(t, s, "c-1", record(event.Track, "Approved", 200, "m-removed"))
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Delete("c-4"); err != nil {
			return err
		}
		_, err := tx.DeleteEvents("c-1", "m-removed")
		return err
	})
	// A late record: it happened before all the others.
	late := ce{"c-2", record(event.Track, "Approved", -60, "m-0")}
	addEvents(t, s, late.id, late.r)
	want = append([]ce{late}, want...)

	tests := []struct {
		name string
		q    contact.EventQuery
		want []ce
	}{
		{"name", contact.EventQuery{Name: "Approved"}, want},
		{"limit takes the oldest", contact.EventQuery{Name: "Approved", Limit: 2}, want[:2]},
		{"kind", contact.EventQuery{Name: "Approved", Kind: event.Page}, want[5:6]},
		{"since and until", contact.EventQuery{Name: "Approved", Since: want[2].r.Time, Until: want[6].r.Time}, want[2:6]},
		{"empty name", contact.EventQuery{}, nil},
		{"unknown name", contact.EventQuery{Name: "Nobody did this"}, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range collect(t, s.Named(context.Background(), tt.q)) {
			got = append(got, e.ContactID+" "+describe(e.Record))
		}
		var wantText []string
		if tt.want != nil {
			wantText = renderEvents(tt.want)
		}
		assert.Equal(t, wantText, got, "Named: %s", tt.name)
	}
}
