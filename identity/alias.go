package identity

import (
	"cmp"
	"slices"
	"time"

	"github.com/regalkit/regalkit/internal/msgorder"
)

// Alias is the fact an alias message states (Rule I5): previousId PreviousID is UserID
// since the message's event time. PreviousID may be a userId that has messages of its
// own, or an anonymous ID; regalkit cannot tell which when the alias arrives first,
// and the outcome does not depend on it.
type Alias struct {
	PreviousID string
	UserID     string
	Time       time.Time
	MessageID  string
}

// compareAliases orders aliases by when they happened: time, then messageId, then the
// identifiers, so that a set of aliases has one order.
func compareAliases(a, b Alias) int {
	if c := msgorder.Compare(a.Time, a.MessageID, b.Time, b.MessageID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.PreviousID, b.PreviousID); c != 0 {
		return c
	}
	return cmp.Compare(a.UserID, b.UserID)
}

// FirstMessage says when the earliest message that carried a userId (an identify, a
// track, a page, … — not an alias or a delete) happened, and false when none did.
type FirstMessage func(userID string) (t time.Time, messageID string, ok bool)

// Grouping is what a set of aliases makes of the userIds they name (Rule I5).
type Grouping struct {
	// Root maps every userId the aliases name (aliases of a userId to itself aside) to
	// the External ID of the contact it belongs to: itself when no alias took it
	// elsewhere.
	Root map[string]string
	// Conflicts are the aliases that changed nothing (identity.conflict), in the order
	// they happened.
	Conflicts []Alias
}

// Group decides every alias of a set at once (Rule I5), so that the answer depends on
// the set and never on the order the aliases arrived in. The aliases are taken in the
// order they happened (time, then messageId), each against the groups the earlier ones
// made:
//
//   - an alias with PreviousID == UserID changes nothing, and is no conflict;
//   - an alias between two userIds already in one group changes nothing;
//   - an alias whose PreviousID an earlier alias already took into another userId's
//     group is a conflict: a userId is renamed once;
//   - an alias is a conflict when both groups have a message under one of their own
//     userIds that happened before the alias (first reports those): two userIds that
//     each had a life before the alias never merge;
//   - otherwise the previous group joins UserID's group, whose External ID stays.
//
// first must answer for every userId the aliases name; a userId without messages
// (first reports false) has no life before any alias.
func Group(aliases []Alias, first FirstMessage) Grouping {
	as := slices.DeleteFunc(slices.Clone(aliases), func(a Alias) bool { return a.PreviousID == a.UserID })
	slices.SortFunc(as, compareAliases)
	as = slices.Compact(as)
	// A union-find of the userIds, each group keeping the earliest first message of its
	// members, so that deciding an alias costs the same however large its groups are:
	// a sender controls how many aliases name one userId (SECURITY.md).
	type life struct {
		t   time.Time
		mid string
		ok  bool
	}
	parent := map[string]string{}
	earliest := map[string]life{} // by group root
	root := func(id string) string {
		for {
			p, ok := parent[id]
			if !ok || p == id {
				return id
			}
			if gp := parent[p]; gp != p {
				parent[id] = gp // path halving: the roots stay as they are
			}
			id = p
		}
	}
	for _, a := range as {
		for _, id := range [...]string{a.PreviousID, a.UserID} {
			if _, ok := parent[id]; !ok {
				parent[id] = id
				t, mid, ok := first(id)
				earliest[id] = life{t, mid, ok}
			}
		}
	}
	// before reports whether a member of the group had a message before a.
	before := func(group string, a Alias) bool {
		l := earliest[group]
		return l.ok && msgorder.Compare(l.t, l.mid, a.Time, a.MessageID) < 0
	}
	var g Grouping
	for _, a := range as {
		rp, ru := root(a.PreviousID), root(a.UserID)
		switch {
		case rp == ru:
		case rp != a.PreviousID, before(rp, a) && before(ru, a):
			g.Conflicts = append(g.Conflicts, a)
		default:
			parent[rp] = ru
			lp, lu := earliest[rp], earliest[ru]
			if lp.ok && (!lu.ok || msgorder.Compare(lp.t, lp.mid, lu.t, lu.mid) < 0) {
				earliest[ru] = lp
			}
			delete(earliest, rp)
		}
	}
	g.Root = make(map[string]string, len(parent))
	for id := range parent {
		g.Root[id] = root(id)
	}
	return g
}
