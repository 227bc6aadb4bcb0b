package memstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// TestTx_FindIDs: FindIDs names the contacts Find returns, in its order, before and
// after the transaction's own writes.
func TestTx_FindIDs(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		for _, c := range []*contact.Contact{person("c2", "u2", "a1"), person("c1", "u1", "a1"), person("c3", "u3")} {
			if err := tx.Insert(c); err != nil {
				return err
			}
		}
		return nil
	}))
	type idFinder interface {
		FindIDs(identity.Key) ([]string, error)
	}
	check := func(tx contact.Tx, k identity.Key) []string {
		found, err := tx.Find(k)
		require.NoError(t, err)
		ids, err := tx.(idFinder).FindIDs(k)
		require.NoError(t, err)
		var want []string
		for _, c := range found {
			want = append(want, c.ID())
		}
		assert.Equal(t, want, ids, "key %v", k)
		return ids
	}
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		assert.Equal(t, []string{"c1", "c2"}, check(tx, identity.AnonymousKey("a1")))
		assert.Empty(t, check(tx, identity.AnonymousKey("nobody")))
		c3, err := tx.Contact("c3")
		require.NoError(t, err)
		(*contactcore.Contact)(c3).AddAnonymousID("a1")
		require.NoError(t, tx.Put(c3))
		assert.Equal(t, []string{"c1", "c2", "c3"}, check(tx, identity.AnonymousKey("a1")), "the transaction's own writes count")
		require.NoError(t, tx.Delete("c1"))
		assert.Equal(t, []string{"c2", "c3"}, check(tx, identity.AnonymousKey("a1")))
		return nil
	}))
}

// TestTx_FindIDsKeepsEarlierResults: FindIDs hands out the transaction's own memory,
// and a later call does not change what an earlier one returned.
func TestTx_FindIDsKeepsEarlierResults(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		for _, c := range []*contact.Contact{person("c1", "u1", "a1"), person("c2", "u2", "a1"), person("c3", "u3", "a2")} {
			if err := tx.Insert(c); err != nil {
				return err
			}
		}
		return nil
	}))
	type idFinder interface {
		FindIDs(identity.Key) ([]string, error)
	}
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
		first, err := tx.(idFinder).FindIDs(identity.AnonymousKey("a1"))
		require.NoError(t, err)
		second, err := tx.(idFinder).FindIDs(identity.AnonymousKey("a2"))
		require.NoError(t, err)
		grown := append(first, "appended") // must not write into second
		assert.Len(t, grown, 3)
		assert.Equal(t, []string{"c1", "c2"}, first)
		assert.Equal(t, []string{"c3"}, second)
		return nil
	}))
}
