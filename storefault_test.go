package regalkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/regalkit/regalkit"
	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/contact/memstore"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

var errInjected = errors.New("injected store failure")

// faultStore is a memory store whose transactions fail the failAt-th call of theirs
// to a Tx method, counted over every transaction since it was armed.
type faultStore struct {
	*memstore.Store
	armed         bool
	calls, failAt int
	fired         bool
}

func (s *faultStore) Update(ctx context.Context, fn func(contact.Tx) error) error {
	return s.Store.Update(ctx, func(tx contact.Tx) error {
		if !s.armed {
			return fn(tx)
		}
		return fn(&faultTx{Tx: tx, s: s})
	})
}

type faultTx struct {
	contact.Tx
	s *faultStore
}

func (t *faultTx) fault() error {
	t.s.calls++
	if t.s.calls == t.s.failAt {
		t.s.fired = true
		return errInjected
	}
	return nil
}

func (t *faultTx) Contact(id string) (*contact.Contact, error) {
	if err := t.fault(); err != nil {
		return nil, err
	}
	return t.Tx.Contact(id)
}

func (t *faultTx) Find(k identity.Key) ([]*contact.Contact, error) {
	if err := t.fault(); err != nil {
		return nil, err
	}
	return t.Tx.Find(k)
}

func (t *faultTx) Tombstone(userID string) (contact.Tombstone, bool, error) {
	if err := t.fault(); err != nil {
		return contact.Tombstone{}, false, err
	}
	return t.Tx.Tombstone(userID)
}

func (t *faultTx) Processed(messageID string) (bool, error) {
	if err := t.fault(); err != nil {
		return false, err
	}
	return t.Tx.Processed(messageID)
}

func (t *faultTx) Put(c *contact.Contact) error {
	if err := t.fault(); err != nil {
		return err
	}
	return t.Tx.Put(c)
}

func (t *faultTx) Insert(c *contact.Contact) error {
	if err := t.fault(); err != nil {
		return err
	}
	return t.Tx.Insert(c)
}

// failsEveryCall processes payloads[:len-1], then the last payload again and again with
// the store failing its 1st, 2nd, ... Tx call, until a run makes fewer calls: every
// failure must come back as Process's error (a store error swallowed would let the
// transaction commit a message half applied).
func failsEveryCall(t fataler, payloads []string) {
	last := payloads[len(payloads)-1]
	for k := 1; ; k++ {
		store := &faultStore{Store: memstore.New()}
		n := 0
		p := regalkit.New(store, &regalkit.Options{
			Now:          func() time.Time { return t0.Add(48 * time.Hour) },
			NewID:        func() string { n++; return fmt.Sprintf("c%04d", n) },
			OptInEvents:  map[string][]optin.Channel{"SMS Opt In": {optin.SMS}},
			OptOutEvents: map[string][]optin.Channel{"Stop": nil},
		})
		for _, pl := range payloads[:len(payloads)-1] {
			if _, err := p.ProcessBytes(context.Background(), []byte(pl)); err != nil {
				t.Fatalf("processing %s: %v", pl, err)
			}
		}
		store.armed, store.failAt = true, k
		_, err := p.ProcessBytes(context.Background(), []byte(last))
		if !store.fired {
			return
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("the store failed its call %d for %s, and processing returned %v", k, last, err)
		}
	}
}

// TestStoreFailuresAreReturned_RuleS2: whichever Tx call of a message's transaction
// fails, the message's processing returns the failure (and so its transaction does not
// commit, Rule S2), on drawn messages after drawn ones.
func TestStoreFailuresAreReturned_RuleS2(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		failsEveryCall(t, drawPayloads(t, 8))
	})
}

// TestStoreFailuresAreReturned_rebirth: the same, message by message, through a user
// deleted, reborn and joined to a deleted one by an alias (Rule I7's rebirths, which
// erase a reborn contact's earlier parts in two steps).
func TestStoreFailuresAreReturned_rebirth(t *testing.T) {
	optIn := `"context":{"ip":"8.8.8.8"},"traits":{"optIn":{"channel":"sms","subscribed":true,"timestamp":"2024-03-01T12:03:00Z","ip":""}}`
	msgs := []string{
		`{"timestamp":"2024-03-01T12:00:00Z","type":"identify","userId":"u1","context":{},"traits":{}}`,
		`{"timestamp":"2024-03-01T12:00:00Z","type":"delete","userId":"u1"}`,
		`{"timestamp":"2024-03-01T12:00:00Z","type":"identify","userId":"u3",` + optIn + `}`,
		`{"timestamp":"2024-03-01T12:00:00Z","type":"delete","userId":"u3"}`,
		`{"timestamp":"2024-03-01T12:00:00Z","type":"identify","userId":"u1","context":{},"traits":{}}`,
		`{"timestamp":"2024-03-01T12:00:00Z","messageId":"m09","type":"alias","userId":"u1","previousId":"u3"}`,
		`{"timestamp":"2024-03-01T12:00:00Z","messageId":"m11","type":"identify","userId":"u3",` + optIn + `}`,
		`{"timestamp":"2024-03-01T12:00:00Z","messageId":"m12","type":"identify","userId":"u1","anonymousId":"a1","traits":{}}`,
	}
	for i := range msgs {
		failsEveryCall(t, msgs[:i+1])
	}
}
