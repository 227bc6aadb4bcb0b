package memstore_test

import (
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/contact/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) contact.Store { return memstore.New(nil) })
}
