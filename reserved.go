package regalkit

import (
	"strings"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/regalio"
)

// reservedIdentifier returns the diagnostic of a message that names one of the
// contacts regalkit keeps for a phone (Rule D6): a phone's register of keyword replies
// (KeywordRegisterPrefix, Rule G7), which only the Processor creates, and a phone's
// contact of Regal events that found no single contact (regalio.AnonymousIDPrefix,
// Rule R5), which only a Regal event without a userId names, as its anonymousId. A
// message that named one otherwise could link or alias it to a user (Rules I3, I5),
// and the phone's opt-outs would stop counting for the phone (Rule G1).
func reservedIdentifier(m *event.Message) (diag.Diagnostic, bool) {
	for _, id := range [...]struct{ field, value string }{
		{"userId", m.UserID}, {"anonymousId", m.AnonymousID}, {"previousId", m.PreviousID},
	} {
		prefix := ""
		switch {
		case strings.HasPrefix(id.value, KeywordRegisterPrefix):
			prefix = KeywordRegisterPrefix
		case strings.HasPrefix(id.value, regalio.AnonymousIDPrefix):
			if id.field == "anonymousId" && m.Kind == event.Track && m.UserID == "" && regalio.IsRegal(m) {
				continue // a Regal event without a userId names its phone's Regal contact
			}
			prefix = regalio.AnonymousIDPrefix
		default:
			continue
		}
		return diag.Diagnostic{
			MessageID: m.MessageID,
			Code:      diag.MessageReservedID,
			Field:     id.field,
			Message: "regalkit: the message's " + id.field + " starts with " + prefix +
				", which names a contact regalkit keeps for a phone; the message is refused (Rule D6)",
		}, true
	}
	return diag.Diagnostic{}, false
}
