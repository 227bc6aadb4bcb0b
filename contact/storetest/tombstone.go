package storetest

import (
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tombstone returns a delete of userID at t0 plus minutes.
func tombstone(userID string, minutes int, messageID string) contact.Tombstone {
	return contact.Tombstone{UserID: userID, Time: t0.Add(time.Duration(minutes) * time.Minute), MessageID: messageID}
}

// readTombstone reads a userId's tombstone in a transaction of its own.
func readTombstone(t tb, s contact.Store, userID string) (contact.Tombstone, bool) {
	t.Helper()
	var ts contact.Tombstone
	var ok bool
	update(t, s, func(tx contact.Tx) error {
		var err error
		ts, ok, err = tx.Tombstone(userID)
		return err
	})
	return ts, ok
}

func putTombstones(t tb, s contact.Store, tss ...contact.Tombstone) {
	t.Helper()
	update(t, s, func(tx contact.Tx) error {
		for _, ts := range tss {
			if err := tx.PutTombstone(ts); err != nil {
				return err
			}
		}
		return nil
	})
}

// sameTombstone compares tombstones by value (time by instant).
func sameTombstone(t tb, want, got contact.Tombstone, msg string) {
	t.Helper()
	assert.Equal(t, want.UserID, got.UserID, msg)
	assert.True(t, want.Time.Equal(got.Time), "%s: time %v, want %v", msg, got.Time, want.Time)
	assert.Equal(t, want.MessageID, got.MessageID, msg)
}

// Clause: Tombstone returns false when no delete was recorded for the userId.
func tombstoneNoneIsFalse(t tb, s contact.Store) {
	putTombstones(t, s, tombstone("u-1", 0, "m-1"))
	_, ok := readTombstone(t, s, "u-2")
	assert.False(t, ok)
}

// Clause: of two deletes of the same userId the later one (by Time, then MessageID)
// stands, whatever order they are put in (Rule I7, Rule S3).
func tombstoneLaterDeleteStands(t tb, s contact.Store) {
	early, late := tombstone("u-1", 0, "m-9"), tombstone("u-1", 60, "m-1")
	putTombstones(t, s, late)
	putTombstones(t, s, early)
	ts, ok := readTombstone(t, s, "u-1")
	require.True(t, ok)
	sameTombstone(t, late, ts, "later time, put first, then an earlier one")

	// Equal times: the larger messageId; in one transaction as in two.
	a, b := tombstone("u-2", 5, "m-a"), tombstone("u-2", 5, "m-b")
	putTombstones(t, s, b, a)
	ts, ok = readTombstone(t, s, "u-2")
	require.True(t, ok)
	sameTombstone(t, b, ts, "equal times, in one transaction")
	putTombstones(t, s, a)
	ts, _ = readTombstone(t, s, "u-2")
	sameTombstone(t, b, ts, "equal times, the smaller messageId put again")

	update(t, s, func(tx contact.Tx) error {
		require.NoError(t, tx.PutTombstone(tombstone("u-1", 120, "m-2")))
		ts, ok, err := tx.Tombstone("u-1")
		require.NoError(t, err)
		require.True(t, ok)
		sameTombstone(t, tombstone("u-1", 120, "m-2"), ts, "a later delete put in the transaction")
		require.NoError(t, tx.PutTombstone(early))
		ts, _, err = tx.Tombstone("u-1")
		require.NoError(t, err)
		sameTombstone(t, tombstone("u-1", 120, "m-2"), ts, "an earlier delete put after it in the transaction")
		return nil
	})
}

// Clause: the store remembers processed messageIds and tombstones independently of
// contacts: deleting a contact forgets neither (Rules E2, I7).
func deleteKeepsProcessedAndTombstones(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"))
	update(t, s, func(tx contact.Tx) error {
		if err := tx.MarkProcessed("m-identify"); err != nil {
			return err
		}
		return tx.PutTombstone(tombstone("u-1", 10, "m-delete"))
	})
	update(t, s, func(tx contact.Tx) error {
		if err := tx.Delete("c-1"); err != nil {
			return err
		}
		return tx.MarkProcessed("m-delete")
	})
	assert.True(t, processed(t, s, "m-identify"), "a messageId marked before the delete")
	assert.True(t, processed(t, s, "m-delete"))
	ts, ok := readTombstone(t, s, "u-1")
	assert.True(t, ok, "the tombstone outlives the contact")
	sameTombstone(t, tombstone("u-1", 10, "m-delete"), ts, "after Delete")
}

// Clause: two transactions that touch the same userId tombstone never both commit as if
// the other had not run: a message for a user does not slip past a delete committed
// beside it (Rule I7).
func updateSerializesTombstoneConflicts(t tb, s contact.Store) {
	insert(t, s, person("c-1", "u-1"), person("c-2", "u-2"))
	// The message: applied to c-1 unless a delete of u-1 is recorded.
	message := func(tx contact.Tx, mid func()) error {
		_, deleted, err := tx.Tombstone("u-1")
		if err != nil {
			return err
		}
		mid()
		if deleted {
			return nil
		}
		c, err := tx.Contact("c-2") // another contact, so that only the tombstone links the two
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID("applied")
		return tx.Put(handOver(c))
	}
	deleteFirst := interleave(t, s, message, func(tx contact.Tx) error {
		return tx.PutTombstone(tombstone("u-1", 10, "m-delete"))
	})
	_, deleted := readTombstone(t, s, "u-1")
	require.True(t, deleted)
	if deleteFirst {
		assert.NotContains(t, get(t, s, "c-2").AnonymousIDs(), "applied",
			"the message saw no tombstone, yet committed after the delete")
	} else {
		assert.Contains(t, get(t, s, "c-2").AnonymousIDs(), "applied",
			"the message committed first, so it is kept")
	}
}
