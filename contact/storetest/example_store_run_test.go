package storetest_test

import (
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/storetest"
)

// TestMapStore runs the kit against the MapStore of the package example, so that the
// store shown to implementers is known to keep every clause (Rule S1).
func TestMapStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) contact.Store { return NewMapStore() })
}
