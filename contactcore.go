package regalkit

import (
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// The Processor changes contacts through package contactcore, whose Contact has the
// mutators that package contact keeps out of its public API (SetUserID, ApplyTraits,
// Merge, Erase, ...). Both types are the same struct, so crossing the Store boundary is
// a pointer conversion, free of cost: a contact read from a [contact.Tx] becomes
// mutable with coreOf, and goes back to the store with stored.

// coreOf returns c, read from a Store, as the Processor changes it.
func coreOf(c *contact.Contact) *contactcore.Contact { return (*contactcore.Contact)(c) }

// stored returns c as a Store keeps it.
func stored(c *contactcore.Contact) *contact.Contact { return (*contact.Contact)(c) }

// handOver returns c as the Processor gives it to a Store's Insert or Put: the store
// may keep it (contact.Store, "Copies"), so c must own nothing, so that readers the
// store hands it to may clone it at once, and the Processor must not change it
// afterwards. txn.flush hands a contact over once the message is done with it;
// txn.flushOne, which must insert a contact the message goes on changing, hands over
// a clone (TestProcessor_neverChangesPutContacts checks both).
func handOver(c *contactcore.Contact) *contact.Contact {
	c.Share()
	return stored(c)
}
