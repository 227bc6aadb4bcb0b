package regalkit_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/trigger"
)

// indexOnly is a store that refuses the reads of everything: Evaluate must get by
// with Named and the reads of single contacts (Rule J2).
type indexOnly struct {
	contact.Store
}

var errFullRead = errors.New("a full read of the store")

func (indexOnly) Contacts(context.Context) iter.Seq2[*contact.Contact, error] {
	return func(yield func(*contact.Contact, error) bool) { yield(nil, errFullRead) }
}

func (indexOnly) Recent(context.Context, contact.EventQuery) iter.Seq2[contact.ContactEvent, error] {
	return func(yield func(contact.ContactEvent, error) bool) { yield(contact.ContactEvent{}, errFullRead) }
}

func TestEvaluateReadsTheIndexOnly(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	p := regalkit.New(store, nil)
	for _, m := range []loanMsg{{id: "p", user: "u1", kind: "phone"}, {id: "a", user: "u1", kind: "approved", amount: 20000}} {
		_, err := p.Process(ctx, mustDecode(t, m.json()))
		require.NoError(t, err)
	}
	var users []string
	for d, err := range regalkit.Evaluate(ctx, indexOnly{store}, propertyTriggers(t)[0], t0.Add(3*3600e9)) {
		require.NoError(t, err)
		users = append(users, d.UserID)
		assert.Equal(t, "Loan Application Approved", d.Entry.Name)
		assert.NotEmpty(t, d.Entry.Properties, "the whole entry record")
	}
	assert.Equal(t, []string{"u1"}, users)
}

func TestEvaluateErrors(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	var errs []error
	for _, err := range regalkit.Evaluate(ctx, store, &trigger.Trigger{Name: "x"}, t0) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1, "an invalid trigger yields its error once")
	assert.ErrorIs(t, errs[0], trigger.ErrInvalid)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	errs = nil
	for _, err := range regalkit.Evaluate(cancelled, store, propertyTriggers(t)[0], t0) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
}
