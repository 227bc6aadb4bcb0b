package storetest

import (
	"context"
	"slices"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// findBoth returns the ids of the contacts k finds through Store.Find and through
// Tx.Find.
func findBoth(t tb, s contact.Store, k identity.Key) (store, tx []string) {
	t.Helper()
	store = idsOf(find(t, s, k))
	update(t, s, func(x contact.Tx) error {
		cs, err := x.Find(k)
		tx = idsOf(cs)
		return err
	})
	return store, tx
}

// Clause: a contact is found by every key in Contact.Keys: its External ID and former
// External IDs, its anonymous IDs, its phones and its email (Rule I6).
func findEveryKey(t tb, s contact.Store) {
	c := person("c-1", "u-old", "a-1", "a-2")
	(*contactcore.Contact)(c).SetUserID("u-1") // u-old becomes a former External ID (Rule I5)
	withTraits(t, c, 0, `{"phone":"+19545552399","email":"rebecca@example.com"}`)
	withTraits(t, c, 1, `{"phone":"+19545552300"}`) // a second phone (Rule T9)
	insert(t, s, c, person("c-2", "u-2"))

	kinds := map[identity.Kind]int{}
	for _, k := range c.Keys() {
		kinds[k.Kind]++
	}
	require.Equal(t, map[identity.Kind]int{identity.UserID: 2, identity.AnonymousID: 2, identity.Phone: 2, identity.Email: 1},
		kinds, "the fixture has every kind of key")
	for _, k := range c.Keys() {
		store, tx := findBoth(t, s, k)
		assert.Equal(t, []string{"c-1"}, store, "Store.Find(%v)", k)
		assert.Equal(t, []string{"c-1"}, tx, "Tx.Find(%v)", k)
	}
}

// Clause: one key may find several contacts (an anonymous ID shared by two users, Rule
// I4; a phone two people share); Find returns them sorted by id.
func findSharedKey(t tb, s contact.Store) {
	phone := `{"phone":"+19545552399"}`
	insert(t, s, withTraits(t, person("c-b", "u-b", "a-shared"), 0, phone))
	insert(t, s, withTraits(t, person("c-c", "u-c"), 0, `{"phone":"+19545552300"}`))
	insert(t, s, withTraits(t, person("c-a", "u-a", "a-shared", "a-own"), 0, phone))
	for _, k := range []identity.Key{identity.AnonymousKey("a-shared"), identity.PhoneKey("+19545552399")} {
		store, tx := findBoth(t, s, k)
		assert.Equal(t, []string{"c-a", "c-b"}, store, "Store.Find(%v)", k)
		assert.Equal(t, []string{"c-a", "c-b"}, tx, "Tx.Find(%v)", k)
	}
}

// Clause: the store keeps the index itself, from the contact as last Put: a key the
// contact lost finds it no more, a key it gained finds it.
func findReindexOnPut(t tb, s contact.Store) {
	c := withTraits(t, person("c-1", "u-1", "a-1"), 0, `{"email":"old@example.com"}`)
	insert(t, s, c)
	before := c.Keys()

	(*contactcore.Contact)(c).RemoveAnonymousID("a-1")
	(*contactcore.Contact)(c).AddAnonymousID("a-2")
	(*contactcore.Contact)(c).SetUserID("u-2")
	withTraits(t, c, 1, `{"email":"new@example.com","phone":"+19545552399"}`)
	update(t, s, func(tx contact.Tx) error { return tx.Put(handOver(c)) })
	after := c.Keys()

	var lost, gained int
	for _, k := range before {
		if !slices.Contains(after, k) {
			lost++
			store, tx := findBoth(t, s, k)
			assert.Empty(t, store, "Store.Find(%v) of a key the contact lost", k)
			assert.Empty(t, tx, "Tx.Find(%v) of a key the contact lost", k)
		}
	}
	for _, k := range after {
		if !slices.Contains(before, k) {
			gained++
		}
		store, tx := findBoth(t, s, k)
		assert.Equal(t, []string{"c-1"}, store, "Store.Find(%v)", k)
		assert.Equal(t, []string{"c-1"}, tx, "Tx.Find(%v)", k)
	}
	require.Positive(t, lost, "the fixture loses keys")
	require.Positive(t, gained, "the fixture gains keys")
}

// Clause: none found is an empty result, not an error.
func findNoneIsEmpty(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	cs, err := s.Find(context.Background(), identity.UserKey("u-nobody"))
	assert.NoError(t, err)
	assert.Empty(t, cs)
	update(t, s, func(tx contact.Tx) error {
		cs, err := tx.Find(identity.EmailKey("nobody@example.com"))
		assert.NoError(t, err)
		assert.Empty(t, cs)
		return nil
	})
}

// Clause (contact.IDFinder, when a store's Tx offers it): FindIDs returns the ids of
// the contacts Find returns, sorted, the transaction's own writes included: a contact
// it inserted, one it put without a key it had, one it deleted.
func findIDsAreFindsIDs(t tb, s contact.Store) {
	phone := `{"phone":"+19545552399"}`
	insert(t, s, withTraits(t, person("c-1", "u-1", "a-shared"), 0, phone),
		withTraits(t, person("c-2", "u-2", "a-shared"), 0, phone), person("c-3", "u-3", "a-shared"))
	keys := []identity.Key{identity.AnonymousKey("a-shared"), identity.PhoneKey("+19545552399"),
		identity.UserKey("u-2"), identity.UserKey("u-4"), identity.AnonymousKey("a-none")}
	check := func(x contact.Tx, f contact.IDFinder, when string) {
		t.Helper()
		for _, k := range keys {
			found, err := x.Find(k)
			require.NoError(t, err)
			ids, err := f.FindIDs(k)
			require.NoError(t, err)
			assert.Equal(t, append([]string{}, idsOf(found)...), append([]string{}, ids...), "FindIDs(%v) %s", k, when)
		}
	}
	update(t, s, func(x contact.Tx) error {
		f, ok := x.(contact.IDFinder)
		if !ok {
			return nil // an optional interface the store does not offer
		}
		check(x, f, "of stored contacts")
		c4 := withTraits(t, person("c-4", "u-4", "a-shared"), 0, phone)
		require.NoError(t, x.Insert(handOver(c4)))
		c1, err := x.Contact("c-1")
		require.NoError(t, err)
		(*contactcore.Contact)(c1).RemoveAnonymousID("a-shared")
		require.NoError(t, x.Put(handOver(c1)))
		require.NoError(t, x.Delete("c-2"))
		check(x, f, "after an insert, a put and a delete in the transaction")
		return nil
	})
}

// Clause: a hidden contact (Contact.Hidden) is kept and indexed like any other, and a
// transaction's reads find it (Tx.Contact, Tx.Find, and an IDFinder's FindIDs, by its
// anonymous ID and by its deleted user's key); the Store's own reads (Contact, Find,
// Contacts) skip it. Whether it is hidden is read from the contact as last Put: once a
// Put shows something, every read finds it.
func hiddenOnlyTransactionsSeeThem(t tb, s contact.Store) {
	doc := `{"storageVersion":2,"id":"c-h","inAudience":false,"subscriptions":{"sms":"none","voice":"none"},` +
		`"clocks":{"stamps":[["2024-03-01T12:02:00Z","m-3"]],"links":{"a-1":null},"ghosts":[{"anonymousId":"a-1","userId":"u-gone","stamp":0}]}}`
	h, err := contact.DecodeStorage([]byte(doc))
	require.NoError(t, err)
	require.True(t, h.Hidden(), "the fixture is a hidden contact")
	insert(t, s, h, person("c-v", "u-v", "a-1"))
	keys := []identity.Key{identity.AnonymousKey("a-1"), identity.DeletedUserKey("u-gone")}
	for _, k := range keys {
		require.Contains(t, h.Keys(), k)
	}
	store, tx := findBoth(t, s, keys[0])
	assert.Equal(t, []string{"c-v"}, store, "Store.Find leaves the hidden contact out")
	assert.Equal(t, []string{"c-h", "c-v"}, tx, "Tx.Find finds it")
	store, tx = findBoth(t, s, keys[1])
	assert.Empty(t, store, "Store.Find leaves the hidden contact out")
	assert.Equal(t, []string{"c-h"}, tx, "Tx.Find finds it by its deleted user's key")
	_, err = s.Contact(context.Background(), "c-h")
	assert.ErrorIs(t, err, contact.ErrNotFound, "Store.Contact of a hidden contact")
	update(t, s, func(x contact.Tx) error {
		c, err := x.Contact("c-h")
		if err == nil {
			assert.True(t, c.Hidden())
		}
		return err
	})
	var listed []string
	for c, err := range s.Contacts(context.Background()) {
		require.NoError(t, err)
		listed = append(listed, c.ID())
	}
	assert.Equal(t, []string{"c-v"}, listed, "Store.Contacts leaves the hidden contact out")

	// A Put that makes it show something makes it found.
	update(t, s, func(x contact.Tx) error {
		c, err := x.Contact("c-h")
		if err != nil {
			return err
		}
		withTraits(t, c, 1, `{"firstName":"Ann"}`)
		return x.Put(c)
	})
	store, _ = findBoth(t, s, keys[0])
	assert.Equal(t, []string{"c-h", "c-v"}, store, "a contact that shows something again is found")
	_, err = s.Contact(context.Background(), "c-h")
	assert.NoError(t, err)
}
