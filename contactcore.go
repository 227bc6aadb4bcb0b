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
