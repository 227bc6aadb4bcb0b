package identity

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestGroup_RuleI5(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	alias := func(prev, user string, min int, id string) Alias {
		return Alias{PreviousID: prev, UserID: user, Time: at(min), MessageID: id}
	}
	firsts := func(m map[string]int) FirstMessage {
		return func(id string) (time.Time, string, bool) {
			min, ok := m[id]
			return at(min), "f-" + id, ok
		}
	}
	tests := []struct {
		name      string
		aliases   []Alias
		first     map[string]int
		root      map[string]string
		conflicts []string // messageIds
	}{
		{"no messages yet: the alias joins", []Alias{alias("p", "u", 5, "a")}, nil,
			map[string]string{"p": "u", "u": "u"}, nil},
		{"to itself: nothing", []Alias{alias("u", "u", 5, "a")}, map[string]int{"u": 1},
			map[string]string{}, nil},
		{"only previousId before: joins", []Alias{alias("p", "u", 5, "a")}, map[string]int{"p": 1, "u": 9},
			map[string]string{"p": "u", "u": "u"}, nil},
		{"both before: conflict", []Alias{alias("p", "u", 5, "a")}, map[string]int{"p": 1, "u": 2},
			map[string]string{"p": "p", "u": "u"}, []string{"a"}},
		{"a message at the alias's own time is not before it", []Alias{alias("p", "u", 5, "a")}, map[string]int{"p": 1, "u": 5},
			map[string]string{"p": "u", "u": "u"}, nil},
		{"renamed once: the later alias of the same previousId is a conflict",
			[]Alias{alias("p", "v", 7, "b"), alias("p", "u", 5, "a")}, nil,
			map[string]string{"p": "u", "u": "u", "v": "v"}, []string{"b"}},
		{"a chain joins all three", []Alias{alias("u", "w", 7, "b"), alias("p", "u", 5, "a")}, map[string]int{"p": 1},
			map[string]string{"p": "w", "u": "w", "w": "w"}, nil},
		{"a chain whose second link would join two lives", []Alias{alias("u", "w", 7, "b"), alias("p", "u", 5, "a")},
			map[string]int{"p": 1, "w": 2}, map[string]string{"p": "u", "u": "u", "w": "w"}, []string{"b"}},
		{"a cycle is one group", []Alias{alias("p", "u", 5, "a"), alias("u", "p", 7, "b")}, nil,
			map[string]string{"p": "u", "u": "u"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Group(tt.aliases, firsts(tt.first))
			assert.Equal(t, tt.root, g.Root)
			var ids []string
			for _, a := range g.Conflicts {
				ids = append(ids, a.MessageID)
			}
			assert.Equal(t, tt.conflicts, ids)
			// The answer is the set's: any order of the aliases, with repeats, gives it.
			for range 20 {
				shuffled := append(slices.Clone(tt.aliases), tt.aliases...)
				rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				again := Group(shuffled, firsts(tt.first))
				assert.Equal(t, g, again)
			}
		})
	}
}
