package regalkit

import (
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/regalio"
)

// traitsOf returns the message whose traits apply to a contact: m itself, or, when
// Options.ApplyContextTraits is on and m is a track, page or screen with
// context.traits that is not a Regal event, an identify view of m that carries only those, with m's ids, event
// time and context.ip (the evidence an opt-in among them may need, Rule C4). Rule T4
// then decides as for any identify.
func (p *Processor) traitsOf(m *event.Message) *event.Message {
	if !p.opts.ApplyContextTraits || len(m.Context.Traits) == 0 {
		return m
	}
	switch m.Kind {
	case event.Track, event.Page, event.Screen:
	default:
		return m
	}
	if regalio.IsRegal(m) {
		// A Regal event's traits name its contact for Regal's lookup (Rule R5): they
		// are how an event without a userId finds a contact, not facts the sender
		// tells. Applied, they would give a contact found by phone on arrival a
		// phone that a later link may take from the contact the phone came from.
		return m
	}
	return &event.Message{
		Kind: event.Identify, MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID, Time: m.Time,
		Context: event.Context{IP: m.Context.IP, Traits: m.Context.Traits},
	}
}
