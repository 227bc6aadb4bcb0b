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
	"github.com/regalkit/regalkit/trigger"
)

func TestOptionsValidateTriggers(t *testing.T) {
	tr := propertyTriggers(t)
	assert.NoError(t, (&regalkit.Options{Triggers: tr}).Validate())
	err := (&regalkit.Options{Triggers: []*trigger.Trigger{tr[0], tr[0]}}).Validate()
	assert.ErrorContains(t, err, "used twice")
	err = (&regalkit.Options{Triggers: []*trigger.Trigger{{Name: "x"}}}).Validate()
	assert.ErrorIs(t, err, trigger.ErrInvalid)
	assert.ErrorContains(t, err, "triggers[0]")
}

// Rule J4: the loan example, message by message: the approval enters, a late signing
// inside the window leaves, a re-delivery reports nothing.
func TestProcessorReportsTriggerChanges(t *testing.T) {
	ctx := context.Background()
	p := regalkit.New(memstore.New(), &regalkit.Options{Triggers: propertyTriggers(t)[:1]})
	msgs := []loanMsg{
		{id: "p", user: "u1", kind: "phone"},
		{id: "a", user: "u1", kind: "approved", amount: 20000, hour: 1},
		{id: "a", user: "u1", kind: "approved", amount: 20000, hour: 1},
		{id: "s", user: "u1", kind: "signed", hour: 30},
	}
	var got [][]regalkit.TriggerChange
	for _, m := range msgs {
		res, err := p.Process(ctx, mustDecode(t, m.json()))
		require.NoError(t, err)
		got = append(got, res.Triggers)
	}
	assert.Empty(t, got[0], "a phone alone enters nothing")
	require.Len(t, got[1], 1)
	assert.True(t, got[1][0].Entered)
	assert.Equal(t, "approved-not-signed", got[1][0].Trigger)
	assert.Equal(t, "a", got[1][0].Entry.MessageID)
	assert.Equal(t, t0.Add(3*time.Hour), got[1][0].DueAt)
	assert.Empty(t, got[2], "a re-delivery changes nothing")
	require.Len(t, got[3], 1)
	assert.False(t, got[3][0].Entered, "signed within 48h: left")
	assert.Equal(t, got[1][0].ContactID, got[3][0].ContactID)
}

// pausingStore holds the first attempt of one transaction after its function ran and
// before its commit, until released: another message commits in between.
type pausingStore struct {
	contact.Store
	paused, release chan struct{}
}

type pauseKey struct{}

func (s *pausingStore) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	if ctx.Value(pauseKey{}) == nil {
		return s.Store.Update(ctx, fn)
	}
	first := true
	return s.Store.Update(ctx, func(tx contact.Tx) error {
		err := fn(tx)
		if first {
			first = false
			close(s.paused)
			<-s.release
		}
		return err
	})
}

// TestTriggerChanges_foldBySeq_RuleJ4: an anonymous track (a1, stitched to u1) and a
// track of u1 share no identifier, so they may run at once; when the later message
// commits first, the results in input order say u1 is held by the later entry, and
// only Seq tells the fold that the earlier entry's change was decided last (J4, J5).
func TestTriggerChanges_foldBySeq_RuleJ4(t *testing.T) {
	ctx := context.Background()
	tr := &trigger.Trigger{Name: "a", Entry: trigger.Entry{Event: "A"}}
	store := &pausingStore{Store: memstore.New(), paused: make(chan struct{}), release: make(chan struct{})}
	p := regalkit.New(store, &regalkit.Options{Triggers: []*trigger.Trigger{tr}})
	_, err := p.Process(ctx, mustDecode(t, `{"type":"identify","messageId":"m0","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T12:00:00Z"}`))
	require.NoError(t, err)

	var first regalkit.Result
	done := make(chan error)
	go func() {
		var err error
		first, err = p.Process(context.WithValue(ctx, pauseKey{}, true),
			mustDecode(t, `{"type":"track","messageId":"m1","anonymousId":"a1","event":"A","timestamp":"2024-03-01T17:00:00Z"}`))
		done <- err
	}()
	<-store.paused
	second, err := p.Process(ctx, mustDecode(t, `{"type":"track","messageId":"m2","userId":"u1","event":"A","timestamp":"2024-03-01T22:00:00Z"}`))
	require.NoError(t, err)
	close(store.release)
	require.NoError(t, <-done)

	require.Len(t, first.Triggers, 1)
	require.Len(t, second.Triggers, 1)
	assert.Equal(t, "m1", first.Triggers[0].Entry.MessageID, "m1 re-ran after m2's commit: the earlier entry holds")
	assert.Equal(t, "m2", second.Triggers[0].Entry.MessageID)
	assert.Greater(t, first.Triggers[0].Seq, second.Triggers[0].Seq, "m1's change was decided last")

	var due []string
	for d, err := range regalkit.Evaluate(ctx, store, tr, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)) {
		require.NoError(t, err)
		due = append(due, d.Entry.MessageID)
	}
	assert.Equal(t, []string{"m1"}, due, "Evaluate agrees with the change of the larger Seq")
}
