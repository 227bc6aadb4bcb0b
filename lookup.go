package regalkit

import (
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
)

// idFinder is what a contact.Tx may offer beyond the interface: the ids of the
// contacts Find would return, without copying them. The Processor reads each contact it
// needs once through Tx.Contact anyway, so Find's copies would be thrown away
// (BENCHMARKS.md: two contact copies a message). contact/memstore offers it. The ids
// may be the Tx's own memory, valid only until the transaction ends: callers read them
// at once and never keep the slice.
type idFinder interface {
	FindIDs(key identity.Key) ([]string, error)
}

// findIDs returns the ids of the contacts key finds in tx, sorted by id.
func findIDs(tx contact.Tx, key identity.Key) ([]string, error) {
	if f, ok := tx.(idFinder); ok {
		return f.FindIDs(key)
	}
	found, err := tx.Find(key)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, c := range found {
		ids[i] = c.ID()
	}
	return ids, nil
}
