package regalkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
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
