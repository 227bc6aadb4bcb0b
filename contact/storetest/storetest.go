package storetest

import (
	"testing"

	"github.com/regalkit/regalkit/contact"
)

// Run checks the Store that newStore returns against every clause of the
// contact.Store and contact.Tx documentation, one subtest per clause, each on a fresh
// store from newStore. newStore may use t for cleanup (t.Cleanup) and to fail.
//
// The subtests are named after the clause they check, "Section/Clause" (such as
// "Update/ErrorLeavesNothing"), so that one can be run alone with go test -run.
// Some run many goroutines against one store; run them with the race detector.
//
// When the store implements the optional contact.Outbox, Run checks its clauses too,
// as subtests named "Outbox/Clause".
func Run(t *testing.T, newStore func(t *testing.T) contact.Store) {
	t.Helper()
	for _, c := range clauses {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, newStore(t))
		})
	}
	runOutbox(t, newStore) // see outbox.go
}

// tb is the part of testing.TB the checks use, so that the kit's own tests can run a
// check against a broken store and see it fail without failing themselves. FailNow
// must end the calling goroutine, as testing.T's does. Errorf must be safe for
// concurrent use.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

// A clause is one sentence of the contract and the check that a store keeps it.
type clause struct {
	name  string
	check func(t tb, s contact.Store)
}

// clauses lists the contract, in the order of the documentation of contact.Store and
// contact.Tx.
var clauses = []clause{
	// Store: Transactions (Rule S2).
	{"Update/CommitsAllWrites", updateCommitsAllWrites},
	{"Update/ReadsOwnWrites", updateReadsOwnWrites},
	{"Update/ErrorLeavesNothing", updateErrorLeavesNothing},
	{"Update/CancelledContextLeavesNothing", updateCancelledContextLeavesNothing},
	{"Update/NoLostUpdates", updateNoLostUpdates},
	{"Update/SerializesContactConflicts", updateSerializesContactConflicts},
	{"Update/SerializesMessageIDConflicts", updateSerializesMessageIDConflicts},
	{"Update/SerializesLookupKeyConflicts", updateSerializesLookupKeyConflicts},
	{"Update/SerializesTombstoneConflicts", updateSerializesTombstoneConflicts},

	// Store: Copies.
	{"Copies/PutIsWhatReadsReturn", copiesPutIsWhatReadsReturn},
	{"Copies/ReadsOfAPutContactDoNotAlias", copiesReadsOfAPutContactDoNotAlias},
	{"Copies/AddEventDoesNotAlias", copiesAddEventDoesNotAlias},
	{"Copies/ReadsDoNotAlias", copiesReadsDoNotAlias},
	{"Copies/TxReadsDoNotAlias", copiesTxReadsDoNotAlias},

	// Store: Lookups (Rules I4, I6).
	{"Find/EveryKey", findEveryKey},
	{"Find/SharedKey", findSharedKey},
	{"Find/ReindexOnPut", findReindexOnPut},
	{"Find/NoneIsEmpty", findNoneIsEmpty},
	{"Find/IDsAreFindsIDs", findIDsAreFindsIDs}, // contact.IDFinder, when the Tx offers it

	// Store: Hidden contacts (Rule I7).
	{"Hidden/OnlyTransactionsSeeThem", hiddenOnlyTransactionsSeeThem},

	// The methods' own clauses.
	{"Contact/NotFound", contactNotFound},
	{"Insert/Exists", insertExists},
	{"Insert/EmptyID", insertEmptyID},
	{"Put/NotFound", putNotFound},
	{"Delete/NotFound", deleteNotFound},
	{"Delete/RemovesEventsAndKeys", deleteRemovesEventsAndKeys},
	{"Delete/KeepsProcessedAndTombstones", deleteKeepsProcessedAndTombstones},

	// Store: Events, processed messages and tombstones (Rules E1, E2, E4, I7).
	{"AddEvent/NotFound", addEventNotFound},
	{"AddEvent/DedupesMessageID", addEventDedupesMessageID},
	{"DeleteEvents/NotFound", deleteEventsNotFound},
	{"DeleteEvents/CountsAndIgnoresUnknown", deleteEventsCountsAndIgnoresUnknown},
	{"Events/OrderAndFilters", eventsOrderAndFilters},
	{"Events/UnknownContactYieldsNothing", eventsUnknownContactYieldsNothing},
	{"Recent/NewestFirstWithLimit", recentNewestFirstWithLimit},
	{"Processed/MarkAndRead", processedMarkAndRead},
	{"Tombstone/NoneIsFalse", tombstoneNoneIsFalse},
	{"Tombstone/LaterDeleteStands", tombstoneLaterDeleteStands},
	{"Contacts/SortedByID", contactsSortedByID},
	{"Named/OldestFirstByName", namedOldestFirstByName},

	// Store: Reads outside transactions.
	{"Reads/NeverSeeHalfATransaction", readsNeverSeeHalfATransaction},
	{"Context/CancelledIterators", contextCancelledIterators},
}
