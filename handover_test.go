package regalkit_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/corpus"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/trigger"
)

// handOverStore is a memstore that holds its callers to the rule of contact.Store,
// "Copies": a contact handed to Insert or Put is never changed afterwards. Each
// transaction keeps the storage encoding of every contact handed over, as it was then,
// and compares it with the contact at the end of the transaction's function and again
// once Update has returned. It also checks that each contact owned nothing when handed
// over (contactcore.Contact.Share), as a store that keeps it for concurrent readers
// needs.
type handOverStore struct {
	*memstore.Store
	mu       sync.Mutex
	failures []string
	handed   int // contacts handed over, for the test to show it checked something
}

type handOverTx struct {
	contact.Tx
	handed []handed
	bad    []string
}

type handed struct {
	c    *contact.Contact
	enc  []byte
	what string
}

func newHandOverStore() *handOverStore { return &handOverStore{Store: memstore.New()} }

func (s *handOverStore) Update(ctx context.Context, fn func(tx contact.Tx) error) error {
	var w *handOverTx
	err := s.Store.Update(ctx, func(tx contact.Tx) error {
		w = &handOverTx{Tx: tx}
		if err := fn(w); err != nil {
			return err
		}
		w.check("by the end of the transaction")
		return nil
	})
	if w == nil {
		return err
	}
	if err == nil {
		w.check("after Update returned")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, w.bad...)
	s.handed += len(w.handed)
	return err
}

// report fails t with what the Processor did wrong, and, when minHanded > 0, unless it
// handed over at least that many contacts (so that the check checked something).
func (s *handOverStore) report(t interface {
	Helper()
	Fatalf(string, ...any)
}, minHanded int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		t.Fatalf("%d violations of the hand-over rule, the first: %s", len(s.failures), s.failures[0])
	}
	if s.handed < minHanded {
		t.Fatalf("%d contacts handed to Insert or Put, want at least %d", s.handed, minHanded)
	}
}

func (w *handOverTx) hand(c *contact.Contact, what string) {
	if c == nil {
		return
	}
	enc, err := contact.EncodeStorage(c)
	if err != nil {
		w.bad = append(w.bad, fmt.Sprintf("%s of %s: %v", what, c.ID(), err))
		return
	}
	if !(*contactcore.Contact)(c).Shared() {
		w.bad = append(w.bad, fmt.Sprintf("%s of %s: handed over owning memory (not Shared)", what, c.ID()))
	}
	w.handed = append(w.handed, handed{c: c, enc: enc, what: what})
}

func (w *handOverTx) check(when string) {
	for _, h := range w.handed {
		now, err := contact.EncodeStorage(h.c)
		if err != nil || !bytes.Equal(now, h.enc) {
			w.bad = append(w.bad, fmt.Sprintf("contact %s changed after %s, %s:\nhanded over: %s\nnow:         %s",
				h.c.ID(), h.what, when, h.enc, now))
		}
	}
}

func (w *handOverTx) Insert(c *contact.Contact) error {
	w.hand(c, "Insert")
	return w.Tx.Insert(c)
}

func (w *handOverTx) Put(c *contact.Contact) error {
	w.hand(c, "Put")
	return w.Tx.Put(c)
}

// FindIDs and Enqueue pass on what memstore's Tx offers beyond contact.Tx, so that the
// Processor takes the paths it takes on memstore.
func (w *handOverTx) FindIDs(key identity.Key) ([]string, error) {
	return w.Tx.(interface {
		FindIDs(identity.Key) ([]string, error)
	}).FindIDs(key)
}

func (w *handOverTx) Enqueue(e contact.OutboxEntry) error { return w.Tx.(contact.OutboxTx).Enqueue(e) }

// handOverOptions turns on everything that reads contacts after they are put: the
// outbox (enqueue compares Regal bodies after flush) and a trigger (its states are
// read after the message).
func handOverOptions(t interface{ Fatal(...any) }, workers int) *regalkit.Options {
	tr, err := trigger.Decode(bytes.NewReader([]byte(`{"name":"viewed",
		"entry":{"event":"Viewed"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var mu sync.Mutex
	return &regalkit.Options{
		Now: func() time.Time { return t0.Add(48 * time.Hour) },
		NewID: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("c%05d", n)
		},
		OptInEvents:  map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
		OptOutEvents: map[string][]optin.Channel{"Stop": nil},
		Outbox:       true,
		Triggers:     []*trigger.Trigger{tr},
		Workers:      workers,
	}
}

// TestProcessor_neverChangesPutContacts: the Processor never changes a contact once it
// has handed it to a Store's Insert or Put, which may keep it (contact.Store,
// "Copies"), over every kind of message the order-independence property draws
// (creations with events in the same message, aliases, deletes, keyword replies,
// held anonymous messages).
func TestProcessor_neverChangesPutContacts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		payloads := drawPayloads(t, 14)
		store := newHandOverStore()
		p := regalkit.New(store, handOverOptions(t, 1))
		for _, pl := range payloads {
			if _, err := p.ProcessBytes(context.Background(), []byte(pl)); err != nil {
				t.Fatalf("processing %s: %v", pl, err)
			}
		}
		store.report(t, 0)
		if got, want := state(t, store), replayAll(t, payloads); !slices.Equal(got, want) {
			t.Fatalf("the checking wrapper changed the result:\ngot:  %v\nwant: %v", got, want)
		}
	})
}

// TestProcessor_neverChangesPutContacts_corpus: the same over the benchmark's corpus,
// with two workers, so that under -race the contacts a store keeps are read (and
// cloned) by concurrent transactions while others are handed over.
func TestProcessor_neverChangesPutContacts_corpus(t *testing.T) {
	var buf bytes.Buffer
	if err := corpus.Write(&buf, corpus.Config{Messages: 2000, Users: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	store := newHandOverStore()
	p := regalkit.New(store, handOverOptions(t, 2))
	results := 0
	err := p.ProcessStream(context.Background(), &buf, func(regalkit.Result) bool { results++; return true })
	if err != nil {
		t.Fatal(err)
	}
	if results != 2000 {
		t.Fatalf("%d results for 2000 messages", results)
	}
	store.report(t, 1000)
}
