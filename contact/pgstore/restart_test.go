package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// everything is all a store keeps, exactly: every contact's storage export (clocks,
// consent ledger and history, links, held messages), its events, every messageId's
// processed mark, and every userId's tombstone.
type everything struct {
	contacts   []string
	events     map[string][]string
	processed  map[string]bool
	tombstones map[string]string
}

func snapshotAll(tb testing.TB, s contact.Store, msgs []event.Message, users int) everything {
	tb.Helper()
	ctx := context.Background()
	all := everything{events: map[string][]string{}, processed: map[string]bool{}, tombstones: map[string]string{}}
	for c, err := range s.Contacts(ctx) {
		require.NoError(tb, err)
		b, err := contact.EncodeStorage(c)
		require.NoError(tb, err)
		all.contacts = append(all.contacts, string(b))
		for r, err := range s.Events(ctx, c.ID(), contact.EventQuery{}) {
			require.NoError(tb, err)
			all.events[c.ID()] = append(all.events[c.ID()], fmt.Sprintf("%+v", r))
		}
	}
	require.NoError(tb, s.Update(ctx, func(tx contact.Tx) error {
		for _, m := range msgs {
			done, err := tx.Processed(m.MessageID)
			if err != nil {
				return err
			}
			all.processed[m.MessageID] = done
		}
		for u := range users {
			user := fmt.Sprintf("user-%04d", u)
			ts, ok, err := tx.Tombstone(user)
			if err != nil {
				return err
			}
			if ok {
				all.tombstones[user] = ts.Time.UTC().Format(time.RFC3339Nano) + " " + ts.MessageID
			}
		}
		return nil
	}))
	return all
}

// TestRestartKeepsEverything: close the pool, open a new one, and every contact, event,
// consent record, processed messageId and tombstone is still there, exactly.
func TestRestartKeepsEverything(t *testing.T) {
	const users = 20
	msgs := corpus(t, 7, 1500, users, true)
	schema := testSchema(t)
	pool := testPool(t, schema, nil)
	s := openStore(t, pool, nil)
	processAll(t, regalkit.New(s, processorOptions("r")), msgs, inOrder(len(msgs)), 2)
	before := snapshotAll(t, s, msgs, users)
	pool.Close()

	// What there is to keep: consent history, events, tombstones.
	require.NotEmpty(t, before.contacts)
	require.NotEmpty(t, before.tombstones, "the corpus deletes some users")
	require.NotEmpty(t, before.events)
	history := 0
	for _, c := range before.contacts {
		var x struct {
			ConsentHistory []json.RawMessage `json:"consentHistory"`
		}
		require.NoError(t, json.Unmarshal([]byte(c), &x))
		history += len(x.ConsentHistory)
	}
	require.NotZero(t, history, "the corpus records consent")
	for id, done := range before.processed {
		require.True(t, done, "message %s processed", id)
	}

	again := openStore(t, testPool(t, schema, nil), nil) // Migrate again: nothing to do
	after := snapshotAll(t, again, msgs, users)
	assert.Equal(t, before.contacts, after.contacts, "contacts with their clocks and consent")
	assert.Equal(t, before.events, after.events, "events")
	assert.Equal(t, before.processed, after.processed, "processed messageIds")
	assert.Equal(t, before.tombstones, after.tombstones, "tombstones")

	p := regalkit.New(again, processorOptions("r2"))
	for _, m := range msgs[:50] {
		res, err := p.Process(context.Background(), m)
		require.NoError(t, err)
		assert.True(t, res.Duplicate, "message %s after the restart", m.MessageID)
	}
}

// lockTable holds an exclusive lock on a table of the schema from another connection
// until the returned function is called.
func lockTable(tb testing.TB, schema, table string) (unlock func()) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(tb))
	require.NoError(tb, err)
	tx, err := conn.Begin(ctx)
	require.NoError(tb, err)
	_, err = tx.Exec(ctx, "LOCK TABLE "+schema+"."+table+" IN ACCESS EXCLUSIVE MODE")
	require.NoError(tb, err)
	return func() {
		_ = tx.Rollback(ctx)
		_ = conn.Close(ctx)
	}
}

// TestCancelledMidTransactionLeavesNothing: a context that ends while a statement of
// the transaction is running, in fn or in the commit, makes Update return the context's
// error, and nothing the transaction wrote is kept; the pool is still usable.
func TestCancelledMidTransactionLeavesNothing(t *testing.T) {
	schema := testSchema(t)
	pool := testPool(t, schema, nil)
	s := openStore(t, pool, nil)
	ctx := context.Background()
	c := contact.New("c-1")
	(*contactcore.Contact)(c).SetUserID("u-1")
	require.NoError(t, s.Update(ctx, func(tx contact.Tx) error { return tx.Insert(c) }))

	writeAll := func(tx contact.Tx, read func() error) error {
		if err := tx.MarkProcessed("m-cancel"); err != nil {
			return err
		}
		if err := tx.PutTombstone(contact.Tombstone{UserID: "u-9", Time: t0, MessageID: "m-cancel"}); err != nil {
			return err
		}
		c, err := tx.Contact("c-1")
		if err != nil {
			return err
		}
		(*contactcore.Contact)(c).AddAnonymousID("a-cancel")
		if err := tx.Put(c); err != nil {
			return err
		}
		if _, err := tx.AddEvent("c-1", event.Record{Kind: event.Track, Name: "X", Time: t0, MessageID: "m-cancel"}); err != nil {
			return err
		}
		return read()
	}
	nothing := func(what string) {
		t.Helper()
		var done, deleted bool
		require.NoError(t, s.Update(ctx, func(tx contact.Tx) error {
			var err error
			if done, err = tx.Processed("m-cancel"); err != nil {
				return err
			}
			_, deleted, err = tx.Tombstone("u-9")
			return err
		}))
		assert.False(t, done, "%s: messageId marked", what)
		assert.False(t, deleted, "%s: tombstone put", what)
		got, err := s.Contact(ctx, "c-1")
		require.NoError(t, err)
		assert.Empty(t, got.AnonymousIDs(), "%s: contact changed", what)
		n := 0
		for _, err := range s.Events(ctx, "c-1", contact.EventQuery{}) {
			require.NoError(t, err)
			n++
		}
		assert.Zero(t, n, "%s: event added", what)
	}

	// A read of fn waits on a lock when the context ends.
	unlock := lockTable(t, schema, "regalkit_contacts")
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := s.Update(cctx, func(tx contact.Tx) error {
		return writeAll(tx, func() error {
			_, err := tx.Contact("c-2")
			return err
		})
	})
	cancel()
	unlock()
	require.ErrorIs(t, err, context.DeadlineExceeded, "cancelled during a read")
	nothing("cancelled during a read")

	// The commit waits on a lock when the context ends.
	unlock = lockTable(t, schema, "regalkit_processed")
	cctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	err = s.Update(cctx, func(tx contact.Tx) error { return writeAll(tx, func() error { return nil }) })
	cancel()
	unlock()
	require.ErrorIs(t, err, context.DeadlineExceeded, "cancelled during the commit")
	nothing("cancelled during the commit")

	// No transaction of the store's is left open on the server.
	var open int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open))
	assert.Zero(t, open, "transactions left open")
}
