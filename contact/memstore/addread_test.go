package memstore

import (
	"context"
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/require"
)

// TestReadChangedBeforeItIsRecorded: a transaction reads an item under its stripe's
// lock, then records the read (tx.addRead), which loads the count of commits. A commit
// that changed the item in between is counted by that load; if the check it triggers
// left the new read out and moved the transaction's count on, nothing would check that
// read again, and the transaction would commit over the change: a lost update (Rule
// S2). The window is a few instructions wide, so the test opens it by hand.
func TestReadChangedBeforeItIsRecorded(t *testing.T) {
	ctx := context.Background()
	s := New()
	c := contact.New("c1")
	(*contactcore.Contact)(c).SetUserID("u1")
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Insert(c) }))
	addAnon := func(tx contact.Tx, anon string) error {
		c, err := tx.Contact("c1")
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID(anon)
		return tx.Put(c)
	}

	tx := newTx(s, ctx)
	defer tx.release()
	// The first half of readContact: the item read under its stripe's lock.
	r := read{kind: itemContact, stripe: s.hash.contact("c1"), id: "c1"}
	st := &s.stripes[r.stripe]
	st.mu.RLock()
	e := st.contacts["c1"]
	r.version, r.c, r.keys = e.version, e.c, e.keys
	st.mu.RUnlock()
	// Another transaction changes the item and commits.
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return addAnon(tx, "a1") }))
	// The second half: the read is recorded. Either that fails, or the commit must.
	_, err := tx.addRead(r)
	if err == nil {
		require.NoError(t, addAnon(tx, "a2"))
		err = s.commit(tx)
	}
	require.ErrorIs(t, err, errStale, "the transaction committed over a change made after its read")

	got, err := s.Contact(ctx, "c1")
	require.NoError(t, err)
	require.Contains(t, got.AnonymousIDs(), "a1", "the other transaction's update was lost")
}
