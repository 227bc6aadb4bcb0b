package contactcore

import (
	"slices"
	"testing"

	"github.com/regalkit/regalkit/identity"
	"github.com/stretchr/testify/assert"
)

func TestKeys_RuleI6(t *testing.T) {
	c, _ := apply(t, identify(t, 0, `{"email":"R@Example.com","phones":{"+19175554444":{},"+19545552399":null},"phone":"+12125550123"}`))
	c.SetUserID("old")
	c.SetUserID("u1")
	c.AddAnonymousID("a1")
	assert.ElementsMatch(t, []identity.Key{
		identity.UserKey("u1"), identity.UserKey("old"), identity.AnonymousKey("a1"),
		identity.PhoneKey("+19175554444"), identity.PhoneKey("+12125550123"), identity.EmailKey("R@example.com"),
	}, c.Keys())
	assert.Empty(t, New("x").Keys())
	// AppendKeys lists the same keys after what dst holds, even when dst holds one
	// of them already.
	prefix := []identity.Key{identity.AnonymousKey("a1")}
	assert.Equal(t, append(slices.Clone(prefix), c.Keys()...), c.AppendKeys(prefix))
	for _, k := range c.Keys() {
		assert.True(t, c.HasKey(k), k.String())
	}
	for _, k := range []identity.Key{identity.UserKey("u2"), identity.AnonymousKey("a2"), identity.PhoneKey("+19545552399"),
		identity.EmailKey("r@example.com"), identity.UserKey(""), {}} {
		assert.False(t, c.HasKey(k), k.String())
	}
}
