// Package storetest checks that a [contact.Store] keeps its contract: every clause of
// the documentation of contact.Store and contact.Tx, one named subtest per clause, in
// the manner of testing/slogtest. It also measures a store's main operations.
//
// # Conformance
//
// A store's tests call [Run] with a function that returns a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) contact.Store {
//			return mystore.Open(t.TempDir())
//		})
//	}
//
// Each subtest is named "Section/Clause" after the sentence it checks, such as
// "Update/ErrorLeavesNothing" or "Find/SharedKey", and its doc comment quotes the
// clause and the rule of RULES.md behind it (S2 atomicity, E2 dedupe, E4 reading, I6
// lookups, I7 delete). Several subtests run goroutines against one store
// ("Update/NoLostUpdates", "Reads/NeverSeeHalfATransaction"): run the kit with the race
// detector.
//
// The package example (MapStore, in example_store_test.go) is the simplest store that
// passes the kit, one mutex and a few maps, written to be read: start a new store from
// it, and from contact/memstore when you need transactions that run in parallel.
//
// The kit holds a store to the contract, not to one way of keeping it: a store may
// serialize conflicting transactions by locking or by detecting the conflict and running
// the function again, and the checks accept either. Checks of conflicts between two
// transactions start the second while the first is inside its function, and wait up to
// 200ms for it; a store that makes the second wait for the first passes too.
//
// # Benchmarks
//
// [Benchmark] measures lookups, applying a message (an Update that finds a contact,
// changes it and puts it back), appending and listing events, recent activity, and
// updates of distinct contacts in parallel. Run it with -cpu 1,2 to see how a store
// scales:
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Benchmark(b, func(b *testing.B) contact.Store { return mystore.New() })
//	}
package storetest
