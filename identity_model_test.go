package regalkit_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/msgorder"
)

// modelMessage is a message of the identity model: a userId-only identify or track, an
// alias or a delete.
type modelMessage struct {
	Type       string `json:"type"`
	MessageID  string `json:"messageId"`
	UserID     string `json:"userId"`
	PreviousID string `json:"previousId,omitempty"`
	Event      string `json:"event,omitempty"`
	Timestamp  string `json:"timestamp"`
	t          time.Time
}

// modelContacts is the reference for Rules I5 and I7 over userId-only messages,
// computed from the set of messages sorted by time, then messageId, with no notion of
// arrival: which contacts exist, their External ID, former External IDs and the
// messageIds of their events, one line a contact.
func modelContacts(msgs []modelMessage) []string {
	deleted := map[string]modelMessage{} // userId -> its latest delete
	for _, m := range msgs {
		if m.Type != "delete" {
			continue
		}
		if d, ok := deleted[m.UserID]; !ok || msgorder.Compare(m.t, m.MessageID, d.t, d.MessageID) > 0 {
			deleted[m.UserID] = m
		}
	}
	survives := func(m modelMessage) bool {
		d, ok := deleted[m.UserID]
		return !ok || msgorder.Compare(m.t, m.MessageID, d.t, d.MessageID) > 0
	}
	var aliases []identity.Alias
	first := map[string]modelMessage{}
	latest := map[string]modelMessage{}
	for _, m := range msgs {
		switch {
		case m.Type == "alias":
			// An alias is a message under its userId: a delete of that user after it
			// erases it (Rule I7).
			if survives(m) {
				aliases = append(aliases, identity.Alias{PreviousID: m.PreviousID, UserID: m.UserID, Time: m.t, MessageID: m.MessageID})
			}
		case m.Type != "delete" && survives(m):
			if f, ok := first[m.UserID]; !ok || msgorder.Compare(m.t, m.MessageID, f.t, f.MessageID) < 0 {
				first[m.UserID] = m
			}
			if l, ok := latest[m.UserID]; !ok || msgorder.Compare(m.t, m.MessageID, l.t, l.MessageID) > 0 {
				latest[m.UserID] = m
			}
		}
	}
	g := identity.Group(aliases, func(id string) (time.Time, string, bool) {
		f, ok := first[id]
		if _, del := deleted[id]; del {
			f = latest[id] // counted from the latest after a delete (Rule I7)
		}
		return f.t, f.MessageID, ok
	})
	root := func(id string) string {
		if r, ok := g.Root[id]; ok {
			return r
		}
		return id
	}
	type modelContact struct {
		former, events []string
	}
	contacts := map[string]*modelContact{}
	get := func(r string) *modelContact {
		if contacts[r] == nil {
			contacts[r] = &modelContact{}
		}
		return contacts[r]
	}
	for id := range g.Root {
		c := get(root(id))
		if id != root(id) {
			c.former = append(c.former, id)
		}
	}
	for _, m := range msgs {
		if m.Type == "alias" || m.Type == "delete" || !survives(m) {
			continue
		}
		c := get(root(m.UserID))
		if m.Type == "track" {
			c.events = append(c.events, m.MessageID)
		}
	}
	var out []string
	for r, c := range contacts {
		slices.Sort(c.former)
		slices.Sort(c.events)
		out = append(out, fmt.Sprintf("%s former=%v events=%v", r, c.former, c.events))
	}
	slices.Sort(out)
	return out
}

// summary reduces replayAll's contacts to the model's lines.
func summary(t fataler, contacts []string) []string {
	var out []string
	for _, s := range visible(contacts) {
		var c struct {
			UserID string   `json:"userId"`
			Former []string `json:"formerUserIds"`
			Events []struct {
				MessageID string `json:"messageId"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, e := range c.Events {
			events = append(events, e.MessageID)
		}
		slices.Sort(c.Former)
		slices.Sort(events)
		out = append(out, fmt.Sprintf("%s former=%v events=%v", c.UserID, c.Former, events))
	}
	slices.Sort(out)
	return out
}

// TestOrderIndependence_IdentityModel checks the Processor against a reference of Rules
// I5 and I7 that sees only the set of messages: for userId-only identifies, tracks,
// aliases (previousId a userId, its own included) and deletes, in a random order with
// re-deliveries, the contacts, their former External IDs and where every event went are
// what the reference computes.
func TestOrderIndependence_IdentityModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		users := []string{"u1", "u2", "u3", "u4"}
		n := rapid.IntRange(1, 12).Draw(t, "messages")
		msgs := make([]modelMessage, n)
		for i := range msgs {
			m := modelMessage{
				Type:      rapid.SampledFrom([]string{"identify", "track", "track", "alias", "alias", "delete"}).Draw(t, "type"),
				MessageID: fmt.Sprintf("m%02d", i),
				UserID:    rapid.SampledFrom(users).Draw(t, "user"),
				t:         t0.Add(time.Duration(rapid.IntRange(0, 8).Draw(t, "minute")) * time.Minute),
			}
			m.Timestamp = m.t.Format(time.RFC3339)
			switch m.Type {
			case "alias":
				m.PreviousID = rapid.SampledFrom(users).Draw(t, "previous")
			case "track":
				m.Event = "Viewed"
			}
			msgs[i] = m
		}
		want := modelContacts(msgs)
		order := rapid.Permutation(msgs).Draw(t, "order")
		for range rapid.IntRange(0, 3).Draw(t, "duplicates") {
			order = append(order, rapid.SampledFrom(msgs).Draw(t, "duplicate"))
		}
		payloads := make([]string, len(order))
		for i, m := range order {
			b, _ := json.Marshal(m)
			payloads[i] = string(b)
		}
		got := summary(t, replayAll(t, payloads))
		if !slices.Equal(want, got) {
			t.Fatalf("the Processor differs from the reference\nmessages in arrival order:\n  %s\nreference:\n  %s\nProcessor:\n  %s",
				strings.Join(payloads, "\n  "), strings.Join(want, "\n  "), strings.Join(got, "\n  "))
		}
	})
}
