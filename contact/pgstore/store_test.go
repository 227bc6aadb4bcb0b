package pgstore

import (
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/storetest"
)

// TestConformance checks the store against every clause of contact.Store.
func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) contact.Store { return newTestStore(t) })
}
