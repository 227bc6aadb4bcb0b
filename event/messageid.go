package event

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

// DerivedIDPrefix starts every messageId made by [DeriveMessageID].
const DerivedIDPrefix = "derived-"

// DeriveMessageID returns a messageId for a message that has none, computed from its
// canonical content (Rule E2), so that every delivery of the same call gets the same ID
// and re-deliveries still deduplicate.
//
// The content is: kind, userId, anonymousId, previousId, groupId, event, name,
// category, timestamp, originalTimestamp, traits, properties and context, each in a
// canonical JSON form (object keys sorted, strings minimally escaped, numbers as
// written), and the top-level eventSource when there is one (it marks Regal's events,
// Rule R5). receivedAt, and sentAt, count only when they take part in the message's
// time (Rule D5: no timestamp, and receivedAt alone or Segment's clock-skew correction
// decides it): two messages that differ there happened at different times, and taking
// them for one would make the one that arrived first win (Rule S3). Otherwise they are
// left out, as are messageId, integrations (routing, not content), channel, version and
// the other unknown top-level keys. Two calls with the same content and no timestamps at
// all therefore get the same ID. The result is DerivedIDPrefix and 32 hex digits (128
// bits of SHA-256).
//
// The timestamps are the raw ones of Timestamps, as sent; Time, which the decoder
// works out from them (Rule D5), is not read. A message built in Go with only Time set,
// and no messageId, is therefore the same message at every Time: give it a MessageID of
// its own, or its time in Timestamps.Timestamp. A receiver that stamps receivedAt on
// arrival (segmentio.Handler does, for tracking-API calls without one) derives the ID
// before it stamps, so that a client's retry is still the same message.
func DeriveMessageID(m *Message) string {
	buf := make([]byte, 0, 512)
	field := func(name string, raw []byte) {
		if raw == nil {
			return
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = jsonvalue.AppendString(buf, name)
		buf = append(buf, ':')
		c, err := jsonvalue.AppendCanonical(buf, raw)
		if err != nil { // a hand-built value that is not JSON: hash it as it is
			c = jsonvalue.AppendString(buf, string(raw))
		}
		buf = c
	}
	str := func(name, s string) {
		if s != "" {
			field(name, jsonvalue.AppendString(nil, s))
		}
	}
	object := func(name string, o Object) {
		if o != nil {
			field(name, o.appendText(nil))
		}
	}
	// Keys in sorted order, so the whole is canonical too.
	buf = append(buf, '{')
	str("anonymousId", m.AnonymousID)
	str("category", m.Category)
	if !m.Context.IsZero() {
		object("context", m.Context.Object())
	}
	str("event", m.Event)
	if v, ok := m.Extra.Get("eventSource"); ok {
		field("eventSource", v) // it makes a track Regal's (Rule R5): the same call without it is another
	}
	str("groupId", m.GroupID)
	str("name", m.Name)
	field("originalTimestamp", m.Timestamps.OriginalTimestamp)
	str("previousId", m.PreviousID)
	object("properties", m.Properties)
	if recv, sent := m.Timestamps.arrivalDecides(); recv {
		field("receivedAt", m.Timestamps.ReceivedAt)
		if sent {
			field("sentAt", m.Timestamps.SentAt)
		}
	}
	field("timestamp", m.Timestamps.Timestamp)
	object("traits", m.Traits)
	str("type", m.Kind.String())
	str("userId", m.UserID)
	buf = append(buf, '}')
	sum := sha256.Sum256(buf)
	return DerivedIDPrefix + hex.EncodeToString(sum[:16])
}
