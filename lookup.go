package regalkit

import (
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/identity"
)

// findIDs returns the ids of the contacts key finds in tx, sorted by id.
func findIDs(tx contact.Tx, key identity.Key) ([]string, error) {
	if f, ok := tx.(contact.IDFinder); ok { // one contact copy less a lookup
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
