package trigger_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/trigger"
)

// TestRequireTrait_keysAsRuleT1: a trait condition names a standard trait by any key
// Rule T1 matches to it, as the message that set it may have, the address included; a
// custom property by its key exactly (Rule T2).
func TestRequireTrait_keysAsRuleT1(t *testing.T) {
	store := memstore.New()
	p := regalkit.New(store, nil)
	_, err := p.ProcessBytes(context.Background(), []byte(`{"type":"identify","userId":"u1","messageId":"m1","timestamp":"2024-03-01T11:00:00Z",
		"traits":{"first_name":"Ann","phone":"+19545552399","address":{"city":"NY"},"Plan":"gold"}}`))
	require.NoError(t, err)
	found, err := store.Find(context.Background(), identity.UserKey("u1"))
	require.NoError(t, err)
	require.Len(t, found, 1)
	c := found[0]
	admits := func(property, op, value string) bool {
		cond := &trigger.Condition{Property: property, Op: trigger.Op(op)}
		if value != "" {
			cond.Value = json.RawMessage(value)
		}
		return (&trigger.Require{Trait: cond}).Admits(c)
	}
	for _, key := range []string{"firstName", "first_name", "FirstName", "First Name"} {
		assert.True(t, admits(key, "==", `"Ann"`), key)
	}
	assert.True(t, admits("phone", "==", `"+19545552399"`))
	assert.True(t, admits("address", "exists", ""))
	assert.True(t, admits("address", "==", `{"city":"NY"}`))
	_, err = p.ProcessBytes(context.Background(), []byte(`{"type":"identify","userId":"u2","messageId":"m2","timestamp":"2024-03-01T11:00:00Z",
		"traits":{"address":{"city":"NY","building":"B7"}}}`))
	require.NoError(t, err)
	found, err = store.Find(context.Background(), identity.UserKey("u2"))
	require.NoError(t, err)
	require.Len(t, found, 1)
	withExtra := &trigger.Require{Trait: &trigger.Condition{Property: "address", Op: trigger.OpEq, Value: json.RawMessage(`{"building":"B7","city":"NY"}`)}}
	assert.True(t, withExtra.Admits(found[0]), "the address with its unknown sub-keys, as the export shows it")
	assert.True(t, admits("Plan", "==", `"gold"`), "a custom property by its key")
	assert.False(t, admits("plan", "exists", ""), "custom keys are exact")
	assert.False(t, admits("last_name", "exists", ""))
}
