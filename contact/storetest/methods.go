package storetest

import (
	"context"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clause: Contact returns ErrNotFound when no contact has the id (Store and Tx).
func contactNotFound(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	_, err := s.Contact(context.Background(), "c-nobody")
	assert.ErrorIs(t, err, contact.ErrNotFound, "Store.Contact")
	update(t, s, func(tx contact.Tx) error {
		_, err := tx.Contact("c-nobody")
		assert.ErrorIs(t, err, contact.ErrNotFound, "Tx.Contact")
		return nil
	})
}

// Clause: Insert returns ErrExists when the id is taken, and changes nothing.
func insertExists(t tb, s contact.Store) {
	first := person("c-1", "u-1")
	insert(t, s, first)
	update(t, s, func(tx contact.Tx) error {
		assert.ErrorIs(t, tx.Insert(handOver(person("c-1", "u-other"))), contact.ErrExists, "id of a stored contact")
		require.NoError(t, tx.Insert(handOver(person("c-2", "u-2"))))
		assert.ErrorIs(t, tx.Insert(handOver(person("c-2", "u-other"))), contact.ErrExists, "id inserted in the same transaction")
		return nil
	})
	assert.Equal(t, exportOf(t, first), exportOf(t, get(t, s, "c-1")))
	assert.Equal(t, "u-2", get(t, s, "c-2").UserID())
	assert.Empty(t, find(t, s, identity.UserKey("u-other")))
}

// Clause: Insert returns an error when the id is empty, and stores nothing.
func insertEmptyID(t tb, s contact.Store) {
	update(t, s, func(tx contact.Tx) error {
		assert.Error(t, tx.Insert(handOver(person("", "u-1"))), "Insert of a contact without id")
		return nil
	})
	assert.Empty(t, allContacts(t, s))
	assert.Empty(t, find(t, s, identity.UserKey("u-1")))
}

// Clause: Put returns ErrNotFound when there is no such contact; it does not create
// one.
func putNotFound(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	update(t, s, func(tx contact.Tx) error {
		assert.ErrorIs(t, tx.Put(handOver(person("c-nobody", "u-nobody"))), contact.ErrNotFound, "Put of an unknown id")
		require.NoError(t, tx.Delete("c-1"))
		assert.ErrorIs(t, tx.Put(handOver(person("c-1", "u-1"))), contact.ErrNotFound, "Put after Delete")
		return nil
	})
	assert.Empty(t, allContacts(t, s))
	assert.Empty(t, find(t, s, identity.UserKey("u-nobody")))
	assert.Empty(t, find(t, s, identity.UserKey("u-1")))
}

// Clause: Delete returns ErrNotFound when there is no such contact.
func deleteNotFound(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	update(t, s, func(tx contact.Tx) error {
		assert.ErrorIs(t, tx.Delete("c-nobody"), contact.ErrNotFound, "Delete of an unknown id")
		require.NoError(t, tx.Delete("c-1"))
		assert.ErrorIs(t, tx.Delete("c-1"), contact.ErrNotFound, "Delete twice")
		return nil
	})
}

// Clause: Delete removes the contact, its index entries and its events (Rule I7).
func deleteRemovesEventsAndKeys(t tb, s contact.Store) {
	gone := withTraits(t, person("c-1", "u-1", "a-1", "a-shared"), 0, `{"phone":"+19545552399","email":"rebecca@example.com"}`)
	stays := withTraits(t, person("c-2", "u-2", "a-shared"), 0, `{"phone":"+19545552399"}`)
	insert(t, s, gone, stays)
	addEvents(t, s, "c-1", record(event.Track, "Gone", 0, "m-1"), record(event.Page, "Gone", 1, "m-2"))
	addEvents(t, s, "c-2", record(event.Track, "Stays", 2, "m-3"))

	update(t, s, func(tx contact.Tx) error { return tx.Delete("c-1") })

	_, err := s.Contact(context.Background(), "c-1")
	assert.ErrorIs(t, err, contact.ErrNotFound)
	for _, k := range gone.Keys() {
		assert.NotContains(t, idsOf(find(t, s, k)), "c-1", "Find(%v) after Delete", k)
	}
	assert.Equal(t, []string{"c-2"}, idsOf(find(t, s, identity.AnonymousKey("a-shared"))), "a shared key still finds the other contact")
	assert.Equal(t, []string{"c-2"}, idsOf(find(t, s, identity.PhoneKey("+19545552399"))))
	assert.Empty(t, events(t, s, "c-1", contact.EventQuery{}), "Events after Delete")
	recent := collect(t, s.Recent(context.Background(), contact.EventQuery{}))
	require.Len(t, recent, 1, "Recent after Delete")
	assert.Equal(t, "c-2", recent[0].ContactID)
	assert.Equal(t, []string{"c-2"}, idsOf(allContacts(t, s)))

	// A new contact under the same id starts without the old one's events.
	insert(t, s, person("c-1", "u-1"))
	assert.Empty(t, events(t, s, "c-1", contact.EventQuery{}), "Events of a new contact under a deleted id")
	update(t, s, func(tx contact.Tx) error {
		added, err := tx.AddEvent("c-1", record(event.Track, "Again", 3, "m-1"))
		assert.True(t, added, "a deleted event's messageId is free again on the contact")
		return err
	})
}

// Clause: AddEvent returns ErrNotFound when there is no such contact.
func addEventNotFound(t tb, s contact.Store) {
	update(t, s, func(tx contact.Tx) error {
		added, err := tx.AddEvent("c-nobody", record(event.Track, "Lost", 0, "m-1"))
		assert.ErrorIs(t, err, contact.ErrNotFound)
		assert.False(t, added)
		return nil
	})
	assert.Empty(t, events(t, s, "c-nobody", contact.EventQuery{}))
	assert.Empty(t, collect(t, s.Recent(context.Background(), contact.EventQuery{})))
}

// Clause: a record whose messageId the contact already has is not added, and AddEvent
// reports false (Rule E2); the first record stays.
func addEventDedupesMessageID(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	first := record(event.Track, "First", 0, "m-1")
	update(t, s, func(tx contact.Tx) error {
		added, err := tx.AddEvent("c-1", first)
		require.NoError(t, err)
		assert.True(t, added, "a new messageId")
		added, err = tx.AddEvent("c-1", record(event.Track, "Second", 1, "m-1"))
		require.NoError(t, err)
		assert.False(t, added, "the same messageId in the same transaction")
		return nil
	})
	update(t, s, func(tx contact.Tx) error {
		added, err := tx.AddEvent("c-1", record(event.Page, "Third", 2, "m-1"))
		require.NoError(t, err)
		assert.False(t, added, "the same messageId in a later transaction")
		added, err = tx.AddEvent("c-2", record(event.Track, "Other", 3, "m-1"))
		require.NoError(t, err)
		assert.True(t, added, "the same messageId on another contact")
		return nil
	})
	assert.Equal(t, []string{describe(first)}, describeAll(events(t, s, "c-1", contact.EventQuery{})))
	assert.Len(t, events(t, s, "c-2", contact.EventQuery{}), 1)
}

// Clause: DeleteEvents returns ErrNotFound when there is no
// such contact.
func deleteEventsNotFound(t tb, s contact.Store) {
	update(t, s, func(tx contact.Tx) error {
		n, err := tx.DeleteEvents("c-nobody", "m-1")
		assert.ErrorIs(t, err, contact.ErrNotFound)
		assert.Zero(t, n)
		return nil
	})
}

// Clause: DeleteEvents removes the records with the given messageIds and reports how
// many there were; unknown messageIds are not an error.
func deleteEventsCountsAndIgnoresUnknown(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	addEvents(t, s, "c-1", record(event.Track, "A", 0, "m-1"), record(event.Track, "B", 1, "m-2"), record(event.Track, "C", 2, "m-3"))
	update(t, s, func(tx contact.Tx) error {
		n, err := tx.DeleteEvents("c-1", "m-1", "m-unknown", "m-3", "m-1")
		require.NoError(t, err)
		assert.Equal(t, 2, n, "two of the messageIds were there")
		_, err = tx.AddEvent("c-1", record(event.Track, "D", 3, "m-4"))
		require.NoError(t, err)
		n, err = tx.DeleteEvents("c-1", "m-4")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "a record added in the same transaction")
		n, err = tx.DeleteEvents("c-1")
		require.NoError(t, err)
		assert.Zero(t, n, "no messageIds")
		return nil
	})
	got := events(t, s, "c-1", contact.EventQuery{})
	assert.Equal(t, []string{describe(record(event.Track, "B", 1, "m-2"))}, describeAll(got))
	recent := collect(t, s.Recent(context.Background(), contact.EventQuery{}))
	assert.Len(t, recent, 1, "Recent after DeleteEvents")
}

// The records of the ordering fixture, in the order Events must yield them (Rule E4).
func orderFixture() []event.Record {
	return []event.Record{
		record(event.Page, "Home", 0, "m-z"),
		record(event.Track, "Signed Up", 60, "m-a"), // same time as the next: messageId decides
		record(event.Track, "Signed Up", 60, "m-b"),
		record(event.Screen, "Home", 120, "m-c"),
		record(event.Track, "Loan Approved", 180, "m-d"),
	}
}

// Clause: Events yields the contact's records that match q, in event-time order, then
// messageId (Rule E4), in a transaction as outside one. EventQuery: Kind, Name, Since
// (inclusive), Until (exclusive), Limit (the first records in that order).
func eventsOrderAndFilters(t tb, s contact.Store) {
	rs := orderFixture()
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	// Out of order, over two transactions.
	addEvents(t, s, "c-1", rs[4], rs[2])
	addEvents(t, s, "c-1", rs[0], rs[3], rs[1])
	addEvents(t, s, "c-2", record(event.Track, "Signed Up", 60, "m-other"))

	tests := []struct {
		name string
		q    contact.EventQuery
		want []event.Record
	}{
		{"all", contact.EventQuery{}, rs},
		{"kind", contact.EventQuery{Kind: event.Track}, []event.Record{rs[1], rs[2], rs[4]}},
		{"name", contact.EventQuery{Name: "Home"}, []event.Record{rs[0], rs[3]}},
		{"kind and name", contact.EventQuery{Kind: event.Page, Name: "Home"}, []event.Record{rs[0]}},
		{"since is inclusive", contact.EventQuery{Since: rs[1].Time}, rs[1:]},
		{"until is exclusive", contact.EventQuery{Until: rs[3].Time}, rs[:3]},
		{"since and until", contact.EventQuery{Since: rs[1].Time, Until: rs[4].Time}, rs[1:4]},
		{"limit takes the first", contact.EventQuery{Limit: 2}, rs[:2]},
		{"limit after filters", contact.EventQuery{Kind: event.Track, Limit: 2}, rs[1:3]},
		{"limit over the count", contact.EventQuery{Limit: 50}, rs},
		{"nothing matches", contact.EventQuery{Name: "Nothing"}, nil},
	}
	for _, tt := range tests {
		want := describeAll(tt.want)
		assert.Equal(t, want, describeAll(events(t, s, "c-1", tt.q)), "Store.Events: %s", tt.name)
		update(t, s, func(tx contact.Tx) error {
			assert.Equal(t, want, describeAll(collect(t, tx.Events("c-1", tt.q))), "Tx.Events: %s", tt.name)
			return nil
		})
	}
	// The order holds for a transaction's own records among the stored ones.
	err := s.Update(context.Background(), func(tx contact.Tx) error {
		_, err := tx.AddEvent("c-1", record(event.Track, "Signed Up", 60, "m-0"))
		require.NoError(t, err)
		got := collect(t, tx.Events("c-1", contact.EventQuery{Kind: event.Track, Limit: 2}))
		assert.Equal(t, describeAll([]event.Record{record(event.Track, "Signed Up", 60, "m-0"), rs[1]}), describeAll(got),
			"Tx.Events with a record of the transaction")
		return errFromFn // keep the store as it was
	})
	assert.ErrorIs(t, err, errFromFn)
}

// Clause: an unknown contact yields nothing (Events, in a transaction as outside one).
func eventsUnknownContactYieldsNothing(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	addEvents(t, s, "c-1", record(event.Track, "A", 0, "m-1"))
	assert.Empty(t, events(t, s, "c-nobody", contact.EventQuery{}))
	update(t, s, func(tx contact.Tx) error {
		assert.Empty(t, collect(t, tx.Events("c-nobody", contact.EventQuery{})))
		return nil
	})
}

// Clause: Recent yields the records of all contacts that match q, newest first (event
// time, then messageId, descending), each with its contact's id; q.Limit bounds the
// count (Rule E4, Regal's Recent Activity).
func recentNewestFirstWithLimit(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"), person("c-3", "u-3"))
	// Newest first.
	want := []ce{
		{"c-2", record(event.Track, "Loan Approved", 300, "m-6")},
		{"c-1", record(event.Page, "Pricing", 240, "m-5")},
		{"c-3", record(event.Track, "Signed Up", 180, "m-4b")}, // same time: messageId descending
		{"c-1", record(event.Track, "Signed Up", 180, "m-4a")},
		{"c-2", record(event.Page, "Home", 60, "m-2")},
		{"c-3", record(event.Screen, "Home", 0, "m-1")},
	}
	for i := len(want) - 1; i >= 0; i-- { // oldest first, one transaction each
		addEvents(t, s, want[i].id, want[i].r)
	}
	tests := []struct {
		name string
		q    contact.EventQuery
		want []ce
	}{
		{"all", contact.EventQuery{}, want},
		{"limit takes the newest", contact.EventQuery{Limit: 3}, want[:3]},
		{"kind", contact.EventQuery{Kind: event.Page}, []ce{want[1], want[4]}},
		{"name and limit", contact.EventQuery{Name: "Signed Up", Limit: 1}, want[2:3]},
		{"since and until", contact.EventQuery{Since: want[4].r.Time, Until: want[1].r.Time}, want[2:5]},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range collect(t, s.Recent(context.Background(), tt.q)) {
			got = append(got, e.ContactID+" "+describe(e.Record))
		}
		assert.Equal(t, renderEvents(tt.want), got, "Recent: %s", tt.name)
	}
}

// Clause: Processed reports whether a messageId was marked processed; marking it again
// is not an error (Rule E2).
func processedMarkAndRead(t tb, s contact.Store) {
	assert.False(t, processed(t, s, "m-1"), "never marked")
	update(t, s, func(tx contact.Tx) error {
		require.NoError(t, tx.MarkProcessed("m-1"))
		assert.NoError(t, tx.MarkProcessed("m-1"), "marking twice in a transaction")
		return nil
	})
	assert.True(t, processed(t, s, "m-1"))
	update(t, s, func(tx contact.Tx) error { return tx.MarkProcessed("m-1") })
	assert.True(t, processed(t, s, "m-1"), "marked again")
	assert.False(t, processed(t, s, "m-2"), "another messageId")
}

// Clause: Contacts yields every contact, sorted by id.
func contactsSortedByID(t tb, s contact.Store) {
	ids := []string{"c-05", "c-01", "c-10", "c-03", "c-07", "c-02"}
	for _, id := range ids[:3] {
		insert(t, s, person(id, "u"+id))
	}
	insert(t, s, person(ids[3], "u"+ids[3]), person(ids[4], "u"+ids[4]), person(ids[5], "u"+ids[5]))
	update(t, s, func(tx contact.Tx) error { return tx.Delete("c-07") })
	got := allContacts(t, s)
	assert.Equal(t, []string{"c-01", "c-02", "c-03", "c-05", "c-10"}, idsOf(got))
	for _, c := range got {
		assert.Equal(t, "u"+c.ID(), c.UserID())
	}
}

// ce is an event record with the id of its contact, as the clauses expect them.
type ce struct {
	id string
	r  event.Record
}

// renderEvents describes contact events one line each, for comparing lists in failures.
func renderEvents(cs []ce) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.id + " " + describe(c.r)
	}
	return out
}
