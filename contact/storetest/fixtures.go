package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/stretchr/testify/require"
)

// t0 is the event time the fixtures count from: the seed's opt-in timestamp.
var t0 = time.Date(2020, 8, 25, 21, 23, 43, 0, time.UTC)

// person returns a contact with the id, External ID (none when empty) and anonymous IDs.
func person(id, userID string, anonymousIDs ...string) *contact.Contact {
	c := contact.New(id)
	if userID != "" {
		(*contactcore.Contact)(c).SetUserID(userID)
	}
	for _, a := range anonymousIDs {
		(*contactcore.Contact)(c).AddAnonymousID(a)
	}
	return c
}

// withTraits applies an identify message carrying traits (a JSON object, members in
// sorted key order) to c at t0 plus minutes, and returns c.
func withTraits(t tb, c *contact.Contact, minutes int, traits string) *contact.Contact {
	t.Helper()
	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(traits), &members))
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var obj event.Object
	for _, k := range keys {
		obj = append(obj, event.Member{Key: k, Value: members[k]})
	}
	ch := (*contactcore.Contact)(c).ApplyTraits(&event.Message{
		Kind:      event.Identify,
		MessageID: fmt.Sprintf("traits-%03d", minutes),
		UserID:    c.UserID(),
		Time:      t0.Add(time.Duration(minutes) * time.Minute),
		Traits:    obj,
	}, nil)
	require.Empty(t, ch.Diagnostics, "fixture traits must apply cleanly")
	return c
}

// record returns an event record at t0 plus minutes, with every part a record can have
// filled in: properties holding a number too long for a float64 (so that a store that
// re-encodes values is caught), traits, and a context with library, page and other
// keys (campaign, device).
func record(kind event.Kind, name string, minutes int, messageID string) event.Record {
	return event.Record{
		Kind:      kind,
		Name:      name,
		Category:  "Docs",
		GroupID:   "g-1",
		Time:      t0.Add(time.Duration(minutes) * time.Minute),
		MessageID: messageID,
		Properties: event.Object{
			{Key: "amount", Value: json.RawMessage(`123456789012345678`)},
			{Key: "messageId", Value: json.RawMessage(`"` + messageID + `"`)},
		},
		Traits: event.Object{{Key: "plan", Value: json.RawMessage(`{"tier":"pro","seats":12}`)}},
		Context: event.RecordContext{
			IP: "203.0.113.7", UserAgent: "Mozilla/5.0", Locale: "en-US",
			Library: event.Library{Name: "analytics.js", Version: "2.11.1", Extra: event.Object{{Key: "build", Value: json.RawMessage(`7`)}}},
			Page: event.WebPage{Path: "/pricing", URL: "https://example.com/pricing", Title: "Pricing",
				Extra: event.Object{{Key: "hash", Value: json.RawMessage(`"#top"`)}}},
			Traits: event.Object{{Key: "email", Value: json.RawMessage(`"rebecca@example.com"`)}},
			Extra: event.Object{{Key: "campaign", Value: json.RawMessage(`{"source":"newsletter","medium":"email"}`)},
				{Key: "device", Value: json.RawMessage(`{"id":"B5372DB0","type":"ios"}`)}, {Key: "active", Value: json.RawMessage(`true`)}},
		},
		ReceivedAt: t0.Add(time.Duration(minutes)*time.Minute + 150*time.Millisecond),
	}
}

// describe renders a record with every field, for comparing records exactly; the
// time is compared as an instant.
func describe(r event.Record) string {
	r.Time = r.Time.UTC()
	r.ReceivedAt = r.ReceivedAt.UTC()
	return fmt.Sprintf("%+v", r)
}

func describeAll(rs []event.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = describe(r)
	}
	return out
}

// exportOf returns the contact in the storage encoding, which covers every field with
// its stamp (the "clocks"), for comparing contacts exactly.
func exportOf(t tb, c *contact.Contact) string {
	t.Helper()
	b, err := contact.EncodeStorage(c)
	require.NoError(t, err)
	return string(b)
}

func update(t tb, s contact.Store, fn func(tx contact.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

// insert stores the contacts in one transaction.
func insert(t tb, s contact.Store, cs ...*contact.Contact) {
	t.Helper()
	update(t, s, func(tx contact.Tx) error {
		for _, c := range cs {
			if err := tx.Insert(handOver(c)); err != nil {
				return err
			}
		}
		return nil
	})
}

// addEvents adds records to a contact in one transaction; each must be new.
func addEvents(t tb, s contact.Store, id string, rs ...event.Record) {
	t.Helper()
	update(t, s, func(tx contact.Tx) error {
		for _, r := range rs {
			added, err := tx.AddEvent(id, r)
			if err != nil {
				return err
			}
			if !added {
				return fmt.Errorf("record %s not added", r.MessageID)
			}
		}
		return nil
	})
}

func get(t tb, s contact.Store, id string) *contact.Contact {
	t.Helper()
	c, err := s.Contact(context.Background(), id)
	require.NoError(t, err)
	return c
}

func find(t tb, s contact.Store, k identity.Key) []*contact.Contact {
	t.Helper()
	cs, err := s.Find(context.Background(), k)
	require.NoError(t, err)
	return cs
}

func idsOf(cs []*contact.Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID()
	}
	return out
}

// collect drains an iterator, failing on an error.
func collect[V any](t tb, seq iter.Seq2[V, error]) []V {
	t.Helper()
	var out []V
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func events(t tb, s contact.Store, id string, q contact.EventQuery) []event.Record {
	t.Helper()
	return collect(t, s.Events(context.Background(), id, q))
}

func allContacts(t tb, s contact.Store) []*contact.Contact {
	t.Helper()
	return collect(t, s.Contacts(context.Background()))
}

// processed reads whether a messageId is processed, in a transaction of its own.
func processed(t tb, s contact.Store, messageID string) bool {
	t.Helper()
	var done bool
	update(t, s, func(tx contact.Tx) error {
		var err error
		done, err = tx.Processed(messageID)
		return err
	})
	return done
}

// state is what a store holds about a set of contacts, keys and messageIds, for
// checking that a transaction changed nothing.
type state struct {
	Contacts  []string            // exports, sorted by id
	Events    map[string][]string // by contact id
	Found     map[string][]string // ids by key
	Processed map[string]bool
	Deleted   map[string]bool // userIds with a tombstone
	Recent    []string
}

func stateOf(t tb, s contact.Store, ids []string, keys []identity.Key, messageIDs []string) state {
	t.Helper()
	st := state{Events: map[string][]string{}, Found: map[string][]string{}, Processed: map[string]bool{}, Deleted: map[string]bool{}}
	for _, c := range allContacts(t, s) {
		st.Contacts = append(st.Contacts, exportOf(t, c))
	}
	for _, id := range ids {
		st.Events[id] = describeAll(events(t, s, id, contact.EventQuery{}))
	}
	for _, k := range keys {
		st.Found[k.Kind.String()+":"+k.Value] = idsOf(find(t, s, k))
	}
	for _, m := range messageIDs {
		st.Processed[m] = processed(t, s, m)
	}
	for _, k := range keys {
		if k.Kind == identity.UserID {
			_, st.Deleted[k.Value] = readTombstone(t, s, k.Value)
		}
	}
	for _, ce := range collect(t, s.Recent(context.Background(), contact.EventQuery{})) {
		st.Recent = append(st.Recent, ce.ContactID+" "+describe(ce.Record))
	}
	return st
}

// handOver returns c ready to be handed to Insert or Put, as every caller hands a
// contact over: owning nothing (contactcore.Contact.Share), so that the store may keep
// it and clone it for concurrent readers, none of which then writes it. A contact.Contact
// from outside the module always owns nothing; the kit changes contacts through
// contactcore, as the Processor does, and so hands them over as the Processor does.
func handOver(c *contact.Contact) *contact.Contact {
	if c != nil {
		(*contactcore.Contact)(c).Share()
	}
	return c
}
