package memstore

import (
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/storetest"
)

// newColliding returns a store whose index keys collide all the time: two hashes in
// all, so that every lookup meets keys of other contacts under its hash.
func newColliding() *Store {
	s := New()
	s.hash.keyMask = 1
	return s
}

// The whole contract holds when index keys share hashes.
func TestConformanceWithKeyHashCollisions(t *testing.T) {
	storetest.Run(t, func(t *testing.T) contact.Store { return newColliding() })
}
