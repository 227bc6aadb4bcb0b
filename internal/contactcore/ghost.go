package contactcore

import (
	"slices"
	"strings"
	"time"

	"github.com/regalkit/regalkit/identity"
)

// A ghost is a link a deleted user's messages made before the delete (Rule I7): the
// delete removes the link, but the anonymous-only messages it claimed still belong to
// that user's time before the delete, and must stay out of sight in every arrival
// order, also when the delete came first and the linking message after it (and was
// discarded), and also when the anonymous messages come last. So the fact is kept,
// beside the anonymous ID's other messages, on the contact that holds them: it takes
// part in deciding who owns each of the ID's anonymous-only messages (Rule I4), and in
// nothing else; it shows nowhere.
type ghost struct {
	anon, user string
	st         stamp // the earliest message of the user that linked anon before the delete
}

func compareGhosts(a, b ghost) int {
	if c := strings.Compare(a.anon, b.anon); c != 0 {
		return c
	}
	return strings.Compare(a.user, b.user)
}

// AddGhost keeps l, a link a deleted user's messages made before the delete (see
// [Contact.Hidden] and RULES.md, I7), and reports whether the contact changed: of two
// ghosts of the same anonymous ID and user the earlier stamp stays, whatever order they
// come in. The slice is never written in place, so clones share it freely.
func (c *Contact) AddGhost(l identity.Link) bool {
	g := ghost{anon: l.AnonymousID, user: l.UserID, st: stampOf(l.Time, l.MessageID)}
	gs := c.ghostList()
	i, found := slices.BinarySearchFunc(gs, g, compareGhosts)
	if found {
		if gs[i].st.compare(g.st) <= 0 {
			return false
		}
		gs = slices.Clone(gs)
		gs[i] = g
	} else {
		gs = slices.Insert(slices.Clip(gs), i, g)
	}
	c.setRare(func(r *rareParts) { r.ghosts = gs })
	return true
}

// ghostList returns the contact's ghosts; nil for none.
func (c *Contact) ghostList() []ghost {
	if c.rare == nil {
		return nil
	}
	return c.rare.ghosts
}

// AppendGhostsOf appends the ghost links of an anonymous ID the contact keeps (see
// [Contact.AddGhost]) to dst.
func (c *Contact) AppendGhostsOf(dst []identity.Link, anonymousID string) []identity.Link {
	gs := c.ghostList()
	i, _ := slices.BinarySearchFunc(gs, ghost{anon: anonymousID}, compareGhosts)
	for ; i < len(gs) && gs[i].anon == anonymousID; i++ {
		g := gs[i]
		dst = append(dst, identity.Link{AnonymousID: g.anon, UserID: g.user, Time: g.st.time(), MessageID: g.st.id()})
	}
	return dst
}

// UserLinksBefore returns the links that userID's messages made on the contact (its
// External ID's, or a former one's, Rule I5) whose earliest linking message happened
// before (t, messageID): what a delete of that user at that stamp turns into ghosts.
// Each link is stamped with its earliest message, which every arrival order knows: a
// linking message that arrives after the delete is discarded, its link kept as a ghost.
func (c *Contact) UserLinksBefore(userID string, t time.Time, messageID string) []identity.Link {
	limit := stampOf(t, messageID)
	var out []identity.Link
	for _, p := range append([]*Contact{c}, c.parts...) {
		if p.userID != userID {
			continue
		}
		for _, l := range p.links {
			if !l.st.isZero() && l.st.compare(limit) < 0 {
				out = append(out, identity.Link{AnonymousID: l.anon, UserID: userID, Time: l.st.time(), MessageID: l.st.id()})
			}
		}
	}
	return out
}

// Hidden reports whether the contact shows nothing and is kept only for what a delete
// left (Rule I7): an anonymous contact holding ghost links or messages of a deleted
// user's time, and nothing else. A Store keeps it and finds it in a transaction, but
// its reads outside one (Contact, Find, Contacts) skip it.
func (c *Contact) Hidden() bool {
	if c.userID != "" || (len(c.ghostList()) == 0 && len(c.held) == 0) || !c.latest.isZero() ||
		c.hasLinks() || len(c.parts) > 0 || len(c.aliases) > 0 || !c.ownState().isEmpty() {
		return false
	}
	for i := range c.held {
		if !c.held[i].Deleted {
			return false
		}
	}
	return true
}

// GhostAnonymousIDs returns the anonymous IDs of the ghost links of userID the contact
// keeps, sorted.
func (c *Contact) GhostAnonymousIDs(userID string) []string {
	var out []string
	for _, g := range c.ghostList() {
		if g.user == userID {
			out = append(out, g.anon)
		}
	}
	return out
}
