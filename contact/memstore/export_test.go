package memstore

// SetMaxAttempts sets the number of times Update runs a transaction before it gives up,
// for tests of giving up.
func SetMaxAttempts(s *Store, n int) { s.maxAttempts = n }
