package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOwner_RuleI4(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	alice := Link{AnonymousID: "a", UserID: "alice", Time: at(10), MessageID: "m10"}
	bob := Link{AnonymousID: "a", UserID: "bob", Time: at(20), MessageID: "m20"}
	bobTie := Link{AnonymousID: "a", UserID: "bob", Time: at(10), MessageID: "m11"}

	tests := []struct {
		name  string
		links []Link
		at    time.Time
		want  string
		ok    bool
	}{
		{"no links: the anonymous contact keeps it", nil, at(5), "", false},
		{"one link: all history, before and after", []Link{alice}, at(5), "alice", true},
		{"one link, after", []Link{alice}, at(50), "alice", true},
		{"before every link: the earliest-linked user", []Link{bob, alice}, at(1), "alice", true},
		{"between links: the latest at or before", []Link{bob, alice}, at(15), "alice", true},
		{"at a link's own time: that link", []Link{alice, bob}, at(20), "bob", true},
		{"after both", []Link{alice, bob}, at(30), "bob", true},
		{"equal times: the larger messageId is the later link", []Link{bobTie, alice}, at(10), "bob", true},
		{"equal times, before both: the smaller messageId is the earliest", []Link{bobTie, alice}, at(0), "alice", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Owner(tt.links, tt.at)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			// Order of the links never matters.
			rev := make([]Link, len(tt.links))
			for i, l := range tt.links {
				rev[len(rev)-1-i] = l
			}
			got2, _ := Owner(rev, tt.at)
			assert.Equal(t, got, got2)
		})
	}
}
