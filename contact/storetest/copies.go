package storetest

import (
	"context"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scribble changes a contact read from the store in every way the Processor might:
// External ID, anonymous IDs, traits. Only a copy the caller owns may be changed: a
// contact handed to Insert or Put never is.
func scribble(t tb, c *contact.Contact) {
	(*contactcore.Contact)(c).SetUserID("u-scribbled")
	(*contactcore.Contact)(c).AddAnonymousID("a-scribbled")
	withTraits(t, c, 500, `{"firstName":"Scribbled","email":"scribbled@example.com"}`)
}

// scribbleRecord changes every JSON object of a record in place: the bytes of a value
// and a member of the list.
func scribbleRecord(r *event.Record) {
	for _, o := range []event.Object{r.Properties, r.Traits, r.Context.Library.Extra, r.Context.Page.Extra, r.Context.Traits, r.Context.Extra} {
		if len(o) == 0 {
			continue
		}
		if v := o[0].Value; len(v) > 0 {
			v[0] = '9'
		}
		o[len(o)-1] = event.Member{Key: "scribbled", Value: []byte(`true`)}
	}
}

// Clause: a contact handed to Insert or Put is what later reads return, in the
// transaction and after it, and is found by its keys; the store may keep it, but never
// changes it (the caller may still read it).
func copiesPutIsWhatReadsReturn(t tb, s contact.Store) {
	ctx := context.Background()
	check := func(c *contact.Contact, want string, key identity.Key, when string) {
		t.Helper()
		assert.Equal(t, want, exportOf(t, c), "the store changed the contact %s", when)
		update(t, s, func(tx contact.Tx) error {
			got, err := tx.Contact(c.ID())
			require.NoError(t, err)
			assert.Equal(t, want, exportOf(t, got), "Contact in a transaction, %s", when)
			found, err := tx.Find(key)
			require.NoError(t, err)
			require.Len(t, found, 1, "Find in a transaction, %s", when)
			assert.Equal(t, want, exportOf(t, found[0]), "Find in a transaction, %s", when)
			return nil
		})
		got, err := s.Contact(ctx, c.ID())
		require.NoError(t, err)
		assert.Equal(t, want, exportOf(t, got), "Contact, %s", when)
		found := find(t, s, key)
		require.Len(t, found, 1, "Find, %s", when)
		assert.Equal(t, want, exportOf(t, found[0]), "Find, %s", when)
		all := allContacts(t, s)
		require.Len(t, all, 1, "Contacts, %s", when)
		assert.Equal(t, want, exportOf(t, all[0]), "Contacts, %s", when)
	}

	inserted := handOver(withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"firstName":"Rebecca"}`))
	want := exportOf(t, inserted)
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Insert(inserted); err != nil {
			return err
		}
		got, err := tx.Contact("c-1")
		require.NoError(t, err)
		assert.Equal(t, want, exportOf(t, got), "Contact in the transaction that inserted it")
		return nil
	})
	check(inserted, want, identity.AnonymousKey("a-1"), "after Insert")

	put := handOver(withTraits(t, person("c-1", "u-1", "a-2"), 1, `{"firstName":"Becky","email":"becky@example.com"}`))
	want = exportOf(t, put)
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Put(put); err != nil {
			return err
		}
		got, err := tx.Contact("c-1")
		require.NoError(t, err)
		assert.Equal(t, want, exportOf(t, got), "Contact in the transaction that put it")
		return nil
	})
	check(put, want, identity.EmailKey("becky@example.com"), "after Put")
	assert.Empty(t, find(t, s, identity.AnonymousKey("a-1")), "found by a key of the contact Put replaced")
}

// Clause: reads return copies even of a contact the store keeps as it was handed over:
// changing a copy read in the transaction that put the contact, or after it, changes
// neither stored state, nor the contact handed over, nor another read's copy.
func copiesReadsOfAPutContactDoNotAlias(t tb, s contact.Store) {
	ctx := context.Background()
	insert(t, s, handOver(person("c-1", "u-1")))
	put := handOver(withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"firstName":"Rebecca"}`))
	want := exportOf(t, put)
	update(t, s, func(tx contact.Tx) error {
		require.NoError(t, tx.Put(put))
		first, err := tx.Contact("c-1")
		require.NoError(t, err)
		second, err := tx.Contact("c-1")
		require.NoError(t, err)
		scribble(t, first)
		assert.Equal(t, want, exportOf(t, second), "a second Contact in the transaction shares the first's memory")
		found, err := tx.Find(identity.UserKey("u-1"))
		require.NoError(t, err)
		for _, c := range found {
			scribble(t, c)
		}
		again, err := tx.Contact("c-1")
		require.NoError(t, err)
		assert.Equal(t, want, exportOf(t, again), "changed through a copy read in the transaction that put it")
		assert.Equal(t, want, exportOf(t, put), "the contact handed to Put changed through a copy read in the transaction")
		return nil
	})
	unchanged := func(after string) {
		t.Helper()
		assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "contact changed through the result of %s", after)
		assert.Equal(t, want, exportOf(t, put), "the contact handed to Put changed through the result of %s", after)
		assert.Equal(t, []string{"c-1"}, idsOf(find(t, s, identity.UserKey("u-1"))), "index changed through the result of %s", after)
	}
	unchanged("the transaction")

	first, err := s.Contact(ctx, "c-1")
	require.NoError(t, err)
	second := get(t, s, "c-1")
	scribble(t, first)
	assert.Equal(t, want, exportOf(t, second), "a second Contact shares the first's memory")
	unchanged("Contact")
	scribbleFindAndContacts(t, s, unchanged)
}

// scribbleFindAndContacts changes every contact Find (of user u-1) and Contacts
// return, calling unchanged after each method to check that no stored state changed.
func scribbleFindAndContacts(t tb, s contact.Store, unchanged func(after string)) {
	t.Helper()
	for _, c := range find(t, s, identity.UserKey("u-1")) {
		scribble(t, c)
	}
	unchanged("Find")
	for _, c := range allContacts(t, s) {
		scribble(t, c)
	}
	unchanged("Contacts")
}

// Clause: AddEvent copies what it is given.
func copiesAddEventDoesNotAlias(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	r := record(event.Track, "Signed Up", 0, "m-1")
	want := describe(r)
	update(t, s, func(tx contact.Tx) error {
		_, err := tx.AddEvent("c-1", r)
		scribbleRecord(&r)
		return err
	})
	assert.Equal(t, []string{want}, describeAll(events(t, s, "c-1", contact.EventQuery{})), "changed in fn after AddEvent")
	scribbleRecord(&r)
	assert.Equal(t, []string{want}, describeAll(events(t, s, "c-1", contact.EventQuery{})), "changed after Update returned")
}

// Clause: every read returns a copy the caller owns; changing it never changes stored
// state.
func copiesReadsDoNotAlias(t tb, s contact.Store) {
	ctx := context.Background()
	insert(t, s, withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"firstName":"Rebecca"}`))
	addEvents(t, s, "c-1", record(event.Track, "Signed Up", 0, "m-1"))
	want := exportOf(t, get(t, s, "c-1"))
	wantEvents := describeAll(events(t, s, "c-1", contact.EventQuery{}))
	unchanged := func(after string) {
		t.Helper()
		assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "contact changed through the result of %s", after)
		assert.Equal(t, wantEvents, describeAll(events(t, s, "c-1", contact.EventQuery{})), "events changed through the result of %s", after)
		assert.Equal(t, []string{"c-1"}, idsOf(find(t, s, identity.UserKey("u-1"))), "index changed through the result of %s", after)
	}

	c, err := s.Contact(ctx, "c-1")
	require.NoError(t, err)
	scribble(t, c)
	unchanged("Contact")

	scribbleFindAndContacts(t, s, unchanged)

	for r, err := range s.Events(ctx, "c-1", contact.EventQuery{}) {
		require.NoError(t, err)
		scribbleRecord(&r)
	}
	unchanged("Events")

	for ce, err := range s.Recent(ctx, contact.EventQuery{}) {
		require.NoError(t, err)
		scribbleRecord(&ce.Record)
	}
	unchanged("Recent")

	n := 0
	for ce, err := range s.Named(ctx, contact.EventQuery{Name: "Signed Up"}) {
		require.NoError(t, err)
		scribbleRecord(&ce.Record)
		n++
	}
	require.Equal(t, 1, n, "Named finds the event")
	unchanged("Named")
}

// Clause: reads in a transaction return copies too: changing one without a Put
// changes nothing.
func copiesTxReadsDoNotAlias(t tb, s contact.Store) {
	insert(t, s, withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"firstName":"Rebecca"}`))
	addEvents(t, s, "c-1", record(event.Track, "Signed Up", 0, "m-1"))
	want := exportOf(t, get(t, s, "c-1"))
	wantEvents := describeAll(events(t, s, "c-1", contact.EventQuery{}))

	update(t, s, func(tx contact.Tx) error {
		c, err := tx.Contact("c-1")
		require.NoError(t, err)
		scribble(t, c)
		again, err := tx.Contact("c-1")
		require.NoError(t, err)
		assert.Equal(t, want, exportOf(t, again), "Contact in a transaction")

		found, err := tx.Find(identity.UserKey("u-1"))
		require.NoError(t, err)
		for _, c := range found {
			scribble(t, c)
		}
		for r, err := range tx.Events("c-1", contact.EventQuery{}) {
			require.NoError(t, err)
			scribbleRecord(&r)
		}
		assert.Equal(t, wantEvents, describeAll(collect(t, tx.Events("c-1", contact.EventQuery{}))), "Events in a transaction")
		return tx.MarkProcessed("m-2") // something to commit
	})
	assert.Equal(t, want, exportOf(t, get(t, s, "c-1")))
	assert.Equal(t, wantEvents, describeAll(events(t, s, "c-1", contact.EventQuery{})))
}
