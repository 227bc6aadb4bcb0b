package identity

import (
	"time"

	"github.com/regalkit/regalkit/internal/msgorder"
)

// Link says that a message stitched an anonymous ID to a userId (Rules I3–I5): it
// carried both, or it was an alias from the anonymous ID to the userId.
type Link struct {
	AnonymousID string
	UserID      string
	// Time and MessageID are the linking message's event time and messageId: "linked
	// at" in Rule I4, ties broken by the messageId. When several messages link the same
	// pair, the earliest stands.
	Time      time.Time
	MessageID string
}

// before reports whether l was linked before o: by time, then messageId, then userId.
func (l Link) before(o Link) bool {
	if c := msgorder.Compare(l.Time, l.MessageID, o.Time, o.MessageID); c != 0 {
		return c < 0
	}
	return l.UserID < o.UserID
}

// Owner returns the userId that an anonymous-only message of an anonymous ID belongs
// to, given every link of that anonymous ID (Rule I4): the userId linked most recently
// at or before the message's event time; for a message older than every link, the
// earliest-linked userId (the first login claims the history before it). It returns
// false when there are no links: the message then stays on the anonymous ID's own
// contact (Rule I2).
//
// Owner depends only on the set of links, never on their order, so a late link moves
// exactly the messages it claims.
func Owner(links []Link, at time.Time) (userID string, ok bool) {
	var latest, earliest *Link
	for i := range links {
		l := &links[i]
		if earliest == nil || l.before(*earliest) {
			earliest = l
		}
		if !l.Time.After(at) && (latest == nil || latest.before(*l)) {
			latest = l
		}
	}
	switch {
	case latest != nil:
		return latest.UserID, true
	case earliest != nil:
		return earliest.UserID, true
	}
	return "", false
}
