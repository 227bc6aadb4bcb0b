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
	loaded  map[string]*contactcore.Contact
	created map[string]bool
	dirty   map[string]bool
	order   []string
	// phonesAtLoad and phoneBuf: see txn.remember.
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
func (t *txn) withScratch() *txnScratch {
	s := txnScratches.Get().(*txnScratch)
	t.loaded, t.created, t.dirty, t.order = s.loaded, s.created, s.dirty, s.order[:0]
	t.phonesAtLoad, t.phoneBuf = s.phonesAtLoad, s.phoneBuf[:0]
	t.factLinks, t.factUsers = s.factLinks[:0], s.factUsers
	return s
}

// releaseScratch empties t's bookkeeping and returns it to the pool, unless a large
// transaction (a merge of many contacts) grew it.
func (t *txn) releaseScratch(s *txnScratch) {
	if len(t.loaded) > 16 || cap(t.order) > 64 || len(t.phonesAtLoad) > 16 || cap(t.phoneBuf) > 64 ||
		cap(t.factLinks) > 16 || len(t.factUsers) > 16 {
		return
	}
	clear(t.loaded)
	clear(t.created)
	clear(t.dirty)
	clear(t.order[:cap(t.order)]) // drop the ids
	s.order = t.order[:0]
	clear(t.phonesAtLoad)
	clear(t.phoneBuf[:cap(t.phoneBuf)])
	s.phonesAtLoad, s.phoneBuf = t.phonesAtLoad, t.phoneBuf[:0]
	t.loaded, t.created, t.dirty, t.order = nil, nil, nil, nil
	t.phonesAtLoad, t.phoneBuf = nil, nil
	clear(t.factLinks[:cap(t.factLinks)]) // drop the ids
	clear(t.factUsers)
	s.factLinks, s.factUsers = t.factLinks[:0], t.factUsers
	t.factLinks, t.factUsers = nil, nil
	txnScratches.Put(s)
}
