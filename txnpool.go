package regalkit

import (
	"sync"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
)

// txnScratch is the bookkeeping of a txn (which contacts it loaded, created and must
// write back), kept between messages: three maps and a slice a message would otherwise
// allocate anew (BENCHMARKS.md).
type txnScratch struct {
	loaded  map[string]*contactcore.Contact // by id: every contact read, as changed so far
	created map[string]bool                 // ids of contacts to insert rather than put
	dirty   map[string]bool                 // ids of contacts to write back
	order   []string                        // ids in the order first touched, for writing back
	// What syncKeywords needs (Rule G7): the phones of each contact as loaded (see
	// txn.remember); phoneBuf backs phonesAtLoad's slices.
	phonesAtLoad map[string][]string
	phoneBuf     []string
	// factLinks and factUsers back the links of an anonymous ID that txn.facts and
	// txn.rehome read: see txn.pooledAnonymous.
	factLinks []identity.Link
	factUsers map[string]string
}

var txnScratches = sync.Pool{New: func() any {
	return &txnScratch{loaded: map[string]*contactcore.Contact{}, created: map[string]bool{}, dirty: map[string]bool{},
		phonesAtLoad: map[string][]string{}, factUsers: map[string]string{}}
}}

// withScratch gives t pooled, empty bookkeeping.
func (t *txn) withScratch() {
	t.txnScratch = txnScratches.Get().(*txnScratch)
}

// releaseScratch empties t's bookkeeping and returns it to the pool, unless a large
// transaction (a merge of many contacts) grew it.
func (t *txn) releaseScratch() {
	s := t.txnScratch
	t.txnScratch = nil
	// factLinks is kept only up to 16 (pooledAnonymous).
	if len(s.loaded) > 16 || cap(s.order) > 64 || len(s.phonesAtLoad) > 16 || cap(s.phoneBuf) > 64 ||
		len(s.factUsers) > 16 {
		return
	}
	clear(s.loaded)
	clear(s.created)
	clear(s.dirty)
	clear(s.order[:cap(s.order)]) // drop the ids
	s.order = s.order[:0]
	clear(s.phonesAtLoad)
	clear(s.phoneBuf[:cap(s.phoneBuf)])
	s.phoneBuf = s.phoneBuf[:0]
	clear(s.factLinks[:cap(s.factLinks)]) // drop the ids
	s.factLinks = s.factLinks[:0]
	clear(s.factUsers)
	txnScratches.Put(s)
}
