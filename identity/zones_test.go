package identity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regalkit/regalkit/identity"
)

// TestPhoneTimeZones_RuleG3 reads libphonenumber's zones of real numbers.
func TestPhoneTimeZones_RuleG3(t *testing.T) {
	assert.Equal(t, []string{"America/New_York"}, identity.PhoneTimeZones("+19175554444"))
	assert.Equal(t, []string{"America/Los_Angeles"}, identity.PhoneTimeZones("+13105550123"))
	assert.Equal(t, []string{"America/Chicago"}, identity.PhoneTimeZones("+15125550100"))
	assert.Equal(t, []string{"America/Phoenix"}, identity.PhoneTimeZones("+19285550100"))
	tollFree := identity.PhoneTimeZones("+18005550199")
	assert.Greater(t, len(tollFree), 3, "a toll-free number may ring anywhere: %v", tollFree)
	assert.Contains(t, tollFree, "America/New_York")
	assert.Contains(t, tollFree, "America/Los_Angeles")
	assert.Nil(t, identity.PhoneTimeZones("not a phone"))
	assert.Nil(t, identity.PhoneTimeZones(""))
}
