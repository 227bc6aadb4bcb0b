package identity

import (
	"slices"
	"time"
)

// Facts is what the store knows about the identifiers of one message: the question the
// processor asks before applying it. It is filled inside the message's transaction.
type Facts struct {
	// The message's identifiers and stamp.
	UserID, AnonymousID string
	Time                time.Time
	MessageID           string

	// UserContact is the id of the contact whose External ID, current or former, is
	// UserID; empty when there is none.
	UserContact string
	// Links are every link of AnonymousID, with the contact of each linked userId in
	// LinkedContacts.
	Links          []Link
	LinkedContacts map[string]string // userId → contact id
	// AnonymousContact is the id of the anonymous ID's own contact, the one it has
	// while no userId is linked to it (Rule I2); empty when there is none.
	AnonymousContact string
	// Ghosts are the links of AnonymousID that deleted users' messages made before
	// their deletes, of the users whose delete the message happened before (Rule I7):
	// they claim the message as Links do, but its user has no contact to take it.
	Ghosts []Link
}

// Action is what the processor does with a message.
type Action uint8

// The actions of a [Decision].
const (
	// Attach applies the message to the existing contact Decision.Contact.
	Attach Action = iota + 1
	// Create makes a new contact for the message: a known contact for Decision.UserID,
	// or, when that is empty or Decision.Ghost is set, the anonymous contact of
	// Decision.AnonymousID.
	Create
)

var actionNames = [...]string{"invalid", "attach", "create"}

// String returns the action's name.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return actionNames[0]
}

// Decision is what to do with a message (Rules I1–I4). Aliases are decided as a set by
// [Group].
type Decision struct {
	Action Action
	// Contact is the contact to attach to; empty for Create.
	Contact string
	// UserID is the userId the message belongs to; empty when it belongs to an
	// anonymous contact.
	UserID string
	// AnonymousID is the anonymous ID the message is about: the one to link, or whose
	// contact to create.
	AnonymousID string
	// Held says the message is anonymous-only: it is kept whole on its contact, and may
	// move when the anonymous ID's links change (Rule I4).
	Held bool
	// Link is the link the message makes (Rule I3), when [Decision.Links] says it
	// makes one; the zero Link otherwise. After adding it, the anonymous ID's held
	// messages are attributed again: an anonymous contact merges into the known one
	// (I3), and a shared anonymous ID hands messages over by time (I4). It is held by
	// value so that a decision allocates nothing.
	Link Link
	// Shared says the link joins an anonymous ID that another userId already has
	// (Rule I4: a diagnostic, identity.conflict, though the link is kept).
	Shared bool
	// Ghost says the anonymous-only message belongs to UserID through one of
	// Facts.Ghosts: to a deleted user's time before the delete (Rule I7). It goes, out
	// of sight, to the anonymous ID's own contact (Contact, or created when empty).
	Ghost bool
}

// Decide says what to do with a message, given what its identifiers resolve to. It is
// pure: the same facts give the same decision.
//
//   - A message with a userId goes to that user's contact, created if needed; with an
//     anonymousId as well, it links the two (I1, I3).
//   - A message with only an anonymousId goes to the user linked to it most recently at
//     or before the message's time, or to the earliest-linked user for a message older
//     than every link (I4), or, with no link, to the anonymous ID's own contact,
//     created if needed (I2). Ghost links count as links; a message one of them claims
//     goes to the anonymous ID's own contact, out of sight (I7).
//
// An alias message is not decided here: see [Group].
func Decide(f Facts) Decision {
	if f.UserID == "" {
		links := f.Links
		if len(f.Ghosts) > 0 {
			links = append(slices.Clip(links), f.Ghosts...)
		}
		if owner, ok := Owner(links, f.Time); ok {
			if c, live := f.LinkedContacts[owner]; live {
				return Decision{Action: Attach, Contact: c, UserID: owner, AnonymousID: f.AnonymousID, Held: true}
			}
			d := Decision{Action: Create, UserID: owner, AnonymousID: f.AnonymousID, Held: true, Ghost: true}
			if f.AnonymousContact != "" {
				d.Action, d.Contact = Attach, f.AnonymousContact
			}
			return d
		}
		if f.AnonymousContact != "" {
			return Decision{Action: Attach, Contact: f.AnonymousContact, AnonymousID: f.AnonymousID, Held: true}
		}
		return Decision{Action: Create, AnonymousID: f.AnonymousID, Held: true}
	}
	d := Decision{Action: Create, UserID: f.UserID, AnonymousID: f.AnonymousID}
	if f.UserContact != "" {
		d.Action, d.Contact = Attach, f.UserContact
	}
	if f.AnonymousID != "" {
		d.Link = Link{AnonymousID: f.AnonymousID, UserID: f.UserID, Time: f.Time, MessageID: f.MessageID}
		d.Shared = sharedWith(f)
	}
	return d
}

// Links reports whether the message makes a link (Rule I3): d.Link is then set. A link
// always has an anonymous ID, and only a decision with a link has one in d.Link.
func (d Decision) Links() bool { return d.Link.AnonymousID != "" }

// sharedWith reports whether the anonymous ID is linked to a userId of another person
// than f.UserID: a userId that is not f.UserID and is not one of the userIds of f.UserID's
// contact, which an alias joined (Rule I5: after alias(P→U) a link to P and one to U are
// the same person's, as in the rename flow of the mobile libraries and analytics.js,
// which send the anonymousId with the alias).
func sharedWith(f Facts) bool {
	for _, l := range f.Links {
		if l.UserID == f.UserID {
			continue
		}
		if c, ok := f.LinkedContacts[l.UserID]; ok && c != "" && c == f.UserContact {
			continue
		}
		return true
	}
	return false
}
