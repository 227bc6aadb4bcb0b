package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	alice := Link{AnonymousID: "a", UserID: "alice", Time: t0, MessageID: "m1"}
	bob := Link{AnonymousID: "a", UserID: "bob", Time: t0.Add(time.Hour), MessageID: "m2"}
	contacts := map[string]string{"alice": "c-alice", "bob": "c-bob"}
	tests := []struct {
		name string
		f    Facts
		want Decision
	}{
		{"I1: a new userId creates its contact",
			Facts{UserID: "u"}, Decision{Action: Create, UserID: "u"}},
		{"I1: a known userId attaches",
			Facts{UserID: "u", UserContact: "c-u"}, Decision{Action: Attach, Contact: "c-u", UserID: "u"}},
		{"I2: an unknown anonymousId creates its anonymous contact",
			Facts{AnonymousID: "a"}, Decision{Action: Create, AnonymousID: "a", Held: true}},
		{"I2: a known anonymousId attaches to its anonymous contact",
			Facts{AnonymousID: "a", AnonymousContact: "c-a"}, Decision{Action: Attach, Contact: "c-a", AnonymousID: "a", Held: true}},
		{"I3: userId and anonymousId link",
			Facts{UserID: "u", AnonymousID: "a", Time: t0, MessageID: "m", UserContact: "c-u", AnonymousContact: "c-a"},
			Decision{Action: Attach, Contact: "c-u", UserID: "u", AnonymousID: "a", Link: Link{"a", "u", t0, "m"}}},
		{"I4: anonymous-only after a link goes to the linked user",
			Facts{AnonymousID: "a", Time: t0.Add(time.Minute), Links: []Link{alice}, LinkedContacts: contacts, AnonymousContact: "c-a"},
			Decision{Action: Attach, Contact: "c-alice", UserID: "alice", AnonymousID: "a", Held: true}},
		{"I4: anonymous-only between two links goes to the earlier",
			Facts{AnonymousID: "a", Time: t0.Add(30 * time.Minute), Links: []Link{bob, alice}, LinkedContacts: contacts},
			Decision{Action: Attach, Contact: "c-alice", UserID: "alice", AnonymousID: "a", Held: true}},
		{"I4: anonymous-only after both goes to the later",
			Facts{AnonymousID: "a", Time: t0.Add(2 * time.Hour), Links: []Link{bob, alice}, LinkedContacts: contacts},
			Decision{Action: Attach, Contact: "c-bob", UserID: "bob", AnonymousID: "a", Held: true}},
		{"I4: a second userId on the anonymousId is shared",
			Facts{UserID: "bob", AnonymousID: "a", Time: bob.Time, MessageID: "m2", Links: []Link{alice}, LinkedContacts: contacts},
			Decision{Action: Create, UserID: "bob", AnonymousID: "a", Link: bob, Shared: true}},
		{"I4: the same userId again is not shared",
			Facts{UserID: "alice", AnonymousID: "a", Time: t0, MessageID: "m1", UserContact: "c-alice", Links: []Link{alice}, LinkedContacts: contacts},
			Decision{Action: Attach, Contact: "c-alice", UserID: "alice", AnonymousID: "a", Link: alice}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.f)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Link != (Link{}), got.Links(), "Links says whether Link is set")
		})
	}
	assert.Equal(t, "create", Create.String())
	assert.Equal(t, "invalid", Action(9).String())
}
