package storetest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a tb that records failures instead of failing the test running it.
type recorder struct {
	mu     sync.Mutex
	failed bool
	log    []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

// FailNow ends the goroutine running the check, as testing.T's does.
func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

// runCheck runs one check against s and returns its recorder.
func runCheck(c clause, s contact.Store) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.check(r, s)
	}()
	<-done
	return r
}

func clauseNamed(t *testing.T, name string) clause {
	for _, c := range clauses {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no clause %q", name)
	return clause{}
}

func TestClausesHaveUniqueNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range clauses {
		assert.False(t, seen[c.name], "duplicate %s", c.name)
		seen[c.name] = true
		assert.Regexp(t, `^[A-Z][A-Za-z]*/[A-Z][A-Za-z]*$`, c.name)
	}
}

// The kit passes the two correct stores: the reference and the naive one.
func TestKitPassesCorrectStores(t *testing.T) {
	Run(t, func(t *testing.T) contact.Store { return memstore.New() })
	Run(t, func(t *testing.T) contact.Store { return newNaive(0) })
}

// Each fault of the naive store breaks a clause, and the check of that clause fails.
// A check that cannot fail checks nothing.
func TestKitCatchesBrokenStores(t *testing.T) {
	tests := []struct {
		fault fault
		name  string
		fails []string
	}{
		{faultWritesThrough, "writes through", []string{"Update/ErrorLeavesNothing", "Update/CancelledContextLeavesNothing"}},
		{faultIgnoresCtx, "ignores ctx", []string{"Update/CancelledContextLeavesNothing", "Context/CancelledIterators"}},
		{faultNoIsolation, "no isolation", []string{"Update/NoLostUpdates", "Update/SerializesContactConflicts",
			"Update/SerializesMessageIDConflicts", "Update/SerializesLookupKeyConflicts", "Update/SerializesTombstoneConflicts"}},
		{faultAliasesIn, "aliases in", []string{"Copies/AddEventDoesNotAlias"}},
		{faultAliasesOut, "aliases out", []string{"Copies/ReadsDoNotAlias", "Copies/TxReadsDoNotAlias", "Copies/ReadsOfAPutContactDoNotAlias"}},
		{faultChangesPut, "changes put", []string{"Copies/PutIsWhatReadsReturn"}},
		{faultOneReadCopy, "one read copy", []string{"Copies/ReadsOfAPutContactDoNotAlias"}},
		{faultNoDedupe, "no dedupe", []string{"AddEvent/DedupesMessageID"}},
		{faultStaleIndex, "stale index", []string{"Find/ReindexOnPut"}},
		{faultKeepsEvents, "keeps events", []string{"Delete/RemovesEventsAndKeys"}},
		{faultInsertionOrder, "insertion order", []string{"Events/OrderAndFilters"}},
		{faultOldestFirst, "oldest first", []string{"Recent/NewestFirstWithLimit"}},
		{faultIgnoresLimit, "ignores limit", []string{"Events/OrderAndFilters", "Recent/NewestFirstWithLimit"}},
		{faultUnsorted, "unsorted", []string{"Contacts/SortedByID", "Find/SharedKey"}},
		{faultHalfVisible, "half visible", []string{"Reads/NeverSeeHalfATransaction"}},
		{faultInsertOverwrites, "insert overwrites", []string{"Insert/Exists"}},
		{faultPutCreates, "put creates", []string{"Put/NotFound"}},
		{faultForgetsProcessed, "forgets processed", []string{"Processed/MarkAndRead", "Update/CommitsAllWrites"}},
		{faultMissingIsNoError, "missing is no error", []string{"Contact/NotFound", "Put/NotFound", "Delete/NotFound",
			"AddEvent/NotFound", "DeleteEvents/NotFound"}},
		{faultAcceptsEmptyID, "accepts empty id", []string{"Insert/EmptyID"}},
		{faultTxReadsCommitted, "tx reads committed", []string{"Update/ReadsOwnWrites"}},
		{faultDropsLastWrite, "drops last write", []string{"Update/CommitsAllWrites"}},
		{faultFindNoneIsError, "find none is error", []string{"Find/NoneIsEmpty"}},
		{faultIndexNoPhones, "index without phones", []string{"Find/EveryKey"}},
		{faultUnknownEventsError, "unknown events error", []string{"Events/UnknownContactYieldsNothing"}},
		{faultCountsRequested, "counts requested", []string{"DeleteEvents/CountsAndIgnoresUnknown"}},
		{faultLastTombstoneWins, "last tombstone wins", []string{"Tombstone/LaterDeleteStands"}},
		{faultDeleteForgets, "delete forgets", []string{"Delete/KeepsProcessedAndTombstones"}},
		{faultPhantomTombstone, "phantom tombstone", []string{"Tombstone/NoneIsFalse"}},
		{faultNamedNewestFirst, "named newest first", []string{"Named/OldestFirstByName"}},
		{faultNamedEmptyAll, "named empty matches all", []string{"Named/OldestFirstByName"}},
		{faultIDsCommitted, "ids of the committed state", []string{"Find/IDsAreFindsIDs"}},
		{faultShowsHidden, "shows hidden contacts", []string{"Hidden/OnlyTransactionsSeeThem"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range tt.fails {
				covered[name] = true
				r := runCheck(clauseNamed(t, name), newNaive(tt.fault))
				assert.True(t, r.failed, "%s passes a store that %s", name, tt.name)
				if r.failed {
					t.Logf("%s: %s", name, firstLine(r.log))
				}
			}
		})
	}
	for _, c := range clauses {
		assert.True(t, covered[c.name], "no broken store shows that %s can fail", c.name)
	}
}

func firstLine(log []string) string {
	if len(log) == 0 {
		return "(FailNow)"
	}
	s := strings.TrimSpace(log[0])
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "Error:") || strings.Contains(line, "Messages:") {
			return strings.TrimSpace(line)
		}
	}
	return strings.SplitN(s, "\n", 2)[0]
}

func TestRecorderFailNowEndsTheCheck(t *testing.T) {
	reached := false
	r := runCheck(clause{"X/Y", func(t tb, s contact.Store) {
		require.Fail(t, "stop here")
		reached = true
	}}, nil)
	assert.True(t, r.failed)
	assert.False(t, reached)
}
