package regalkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
)

// drain claims and acknowledges every entry of the outbox, and returns them in the
// order claimed.
func drain(t *testing.T, s contact.Store) []contact.OutboxEntry {
	t.Helper()
	o := s.(contact.Outbox)
	ctx := context.Background()
	var out []contact.OutboxEntry
	for {
		es, err := o.Claim(ctx, t0.Add(48*time.Hour), time.Minute, 100)
		require.NoError(t, err)
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			require.NoError(t, o.Ack(ctx, e.Seq, e.Lease))
		}
		out = append(out, es...)
	}
}

func TestOutbox_EntryPerMessageThatChangesRegalState(t *testing.T) {
	f := newFixture(t, &regalkit.Options{Outbox: true, OptInEvents: nil})
	identify := msg(`"type":"identify","messageId":"m1","userId":"u1",` + at(0) + `,"traits":{"firstName":"Ada","phone":"+19545552399"}`)
	f.send(identify)
	es := drain(t, f.store)
	require.Len(t, es, 1, "an identify that creates a contact with traits")
	assert.Equal(t, "m1", es[0].MessageID)
	assert.Nil(t, es[0].Event)
	assert.Equal(t, f.user("u1").ID(), es[0].ContactID)

	f.send(identify)
	assert.Empty(t, drain(t, f.store), "a duplicate message adds nothing (Rule E2)")

	f.send(msg(`"type":"identify","messageId":"m0","userId":"u1",` + at(-5) + `,"traits":{"firstName":"Old"}`))
	assert.Empty(t, drain(t, f.store), "an older identify that loses every field changes nothing Regal holds (Rule T4)")

	f.send(msg(`"type":"identify","messageId":"m2","userId":"u1",` + at(5) + `,"traits":{"plan":"gold"}`))
	es = drain(t, f.store)
	require.Len(t, es, 1, "a new custom property")
	assert.Equal(t, "m2", es[0].MessageID)

	f.send(msg(`"type":"track","messageId":"m3","userId":"u1","event":"Loan Approved",` + at(6) + `,"properties":{"amount":30000}`))
	es = drain(t, f.store)
	require.Len(t, es, 1, "a track records an event")
	require.NotNil(t, es[0].Event)
	assert.Equal(t, "Loan Approved", es[0].Event.Name)
	assert.Equal(t, "m3", es[0].Event.MessageID)

	f.send(msg(`"type":"page","messageId":"m4","userId":"u1","name":"Home",` + at(7)))
	assert.Empty(t, drain(t, f.store), "a page changes nothing Regal holds, and Regal takes no page events")
}

func TestOutbox_RollsBackWithTheMessage(t *testing.T) {
	store := memstore.New()
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.ProcessBytes(ctx, []byte(msg(`"type":"identify","messageId":"m1","userId":"u1","traits":{"firstName":"Ada"}`)))
	require.Error(t, err)
	st, err := store.OutboxStats(context.Background())
	require.NoError(t, err)
	assert.Zero(t, st.Pending, "no entry without its change")
}

func TestOutbox_OffByDefault(t *testing.T) {
	f := newFixture(t, nil)
	f.send(msg(`"type":"identify","messageId":"m1","userId":"u1",` + at(0) + `,"traits":{"firstName":"Ada"}`))
	assert.Empty(t, drain(t, f.store))
}

// noOutbox hides the store's outbox.
type noOutbox struct{ contact.Store }

func TestOutbox_NeedsAnOutboxStore(t *testing.T) {
	assert.Panics(t, func() { regalkit.New(noOutbox{memstore.New()}, &regalkit.Options{Outbox: true}) })
}

// hiddenOutboxTx is a store whose Update hands fn a wrapper of the memory store's Tx
// that hides its Enqueue, as a tracing wrapper might.
type hiddenOutboxTx struct{ *memstore.Store }

func (s hiddenOutboxTx) Update(ctx context.Context, fn func(contact.Tx) error) error {
	return s.Store.Update(ctx, func(tx contact.Tx) error { return fn(struct{ contact.Tx }{tx}) })
}

// TestOutbox_HiddenEnqueueFailsTheMessage: a message that cannot enqueue its entries is
// not applied without them (Rule O1): it fails, and nothing of it is committed.
func TestOutbox_HiddenEnqueueFailsTheMessage(t *testing.T) {
	store := hiddenOutboxTx{memstore.New()}
	p := regalkit.New(store, &regalkit.Options{Outbox: true})
	_, err := p.ProcessBytes(context.Background(), []byte(msg(`"type":"identify","messageId":"m1","userId":"u1",`+at(0)+`,"traits":{"phone":"+19545552399"}`)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "contact.OutboxTx")
	found, ferr := store.Find(context.Background(), identity.UserKey("u1"))
	require.NoError(t, ferr)
	assert.Empty(t, found, "nothing of the message was committed")
	st, serr := store.OutboxStats(context.Background())
	require.NoError(t, serr)
	assert.Zero(t, st.Pending)
}

func TestOutbox_RegalsOwnEventsAreNotSentBack(t *testing.T) {
	f := newFixture(t, &regalkit.Options{Outbox: true})
	f.send(msg(`"type":"identify","messageId":"m1","userId":"u1",` + at(0) + `,"traits":{"phone":"+19545552399"}`))
	drain(t, f.store)
	res := f.one(msg(`"type":"track","messageId":"m2","userId":"u1","event":"call.completed",` + at(5) + `,"properties":{"eventSource":"Regal Voice"}`))
	require.Contains(t, res.Changed, "event", "recorded on the contact")
	assert.Empty(t, drain(t, f.store), "an event Regal reported is not sent back to it (Rule R5)")
}

func TestOutbox_MergeSendsTheKnownContact(t *testing.T) {
	f := newFixture(t, &regalkit.Options{Outbox: true})
	f.send(msg(`"type":"identify","messageId":"m1","anonymousId":"a1",` + at(0) + `,"traits":{"firstName":"Ada"}`))
	f.send(msg(`"type":"identify","messageId":"m2","userId":"u1",` + at(1) + `,"traits":{"phone":"+19545552399"}`))
	drain(t, f.store)
	f.send(msg(`"type":"identify","messageId":"m3","userId":"u1","anonymousId":"a1",` + at(2)))
	es := drain(t, f.store)
	require.Len(t, es, 1, "the anonymous contact merged into u1: u1's Regal body changed (Rule I3)")
	assert.Equal(t, f.user("u1").ID(), es[0].ContactID)
	assert.Equal(t, "Ada", f.user("u1").FirstName())
}
