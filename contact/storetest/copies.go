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

// scribble changes a contact in every way a caller might: External ID, anonymous IDs,
// traits.
func scribble(t tb, c *contact.Contact) {
	(*contactcore.Contact)(c).SetUserID("u-scribbled")
	(*contactcore.Contact)(c).AddAnonymousID("a-scribbled")
	withTraits(t, c, 500, `{"firstName":"Scribbled","email":"scribbled@example.com"}`)
}

// scribbleRecord changes every JSON object of a record in place: the bytes of a value
// and a member of the list.
func scribbleRecord(r *event.Record) {
	for _, o := range []event.Object{r.Properties, r.Traits, r.Context.Library.Extra, r.Context.Page.Extra, r.Context.Traits} {
		if len(o) == 0 {
			continue
		}
		if v := o[0].Value; len(v) > 0 {
			v[0] = '9'
		}
		o[len(o)-1] = event.Member{Key: "scribbled", Value: []byte(`true`)}
	}
}

// Clause: Put (and Insert) copy what they are given; changing a contact after handing
// it to the store never changes stored state.
func copiesInsertAndPutDoNotAlias(t tb, s contact.Store) {
	inserted := withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"firstName":"Rebecca"}`)
	want := exportOf(t, inserted)
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Insert(inserted); err != nil {
			return err
		}
		scribble(t, inserted) // in the same transaction, after Insert
		return nil
	})
	assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "changed in fn after Insert")
	scribble(t, inserted) // after the commit
	assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "changed after Update returned")

	put := withTraits(t, person("c-1", "u-1", "a-2"), 1, `{"firstName":"Becky"}`)
	want = exportOf(t, put)
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Put(put); err != nil {
			return err
		}
		scribble(t, put)
		return nil
	})
	assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "changed in fn after Put")
	scribble(t, put)
	assert.Equal(t, want, exportOf(t, get(t, s, "c-1")), "changed after Update returned")
	assert.Empty(t, find(t, s, identity.UserKey("u-scribbled")), "the index follows a caller's copy")
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

	for _, c := range find(t, s, identity.UserKey("u-1")) {
		scribble(t, c)
	}
	unchanged("Find")

	for _, c := range allContacts(t, s) {
		scribble(t, c)
	}
	unchanged("Contacts")

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
