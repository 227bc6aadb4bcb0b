package event

import (
	"bytes"
	"slices"
	"strings"
)

// Clone returns a deep copy of m that shares no memory with it (a decoded message may
// share one buffer between all its strings and values).
func (m *Message) Clone() Message {
	c := *m
	for _, s := range []*string{&c.MessageID, &c.UserID, &c.AnonymousID, &c.PreviousID, &c.GroupID, &c.Event, &c.Name, &c.Category, &c.Channel, &c.Version} {
		*s = cloneString(*s)
	}
	c.Timestamps = Timestamps{
		Timestamp:         bytes.Clone(m.Timestamps.Timestamp),
		OriginalTimestamp: bytes.Clone(m.Timestamps.OriginalTimestamp),
		SentAt:            bytes.Clone(m.Timestamps.SentAt),
		ReceivedAt:        bytes.Clone(m.Timestamps.ReceivedAt),
	}
	c.Traits = m.Traits.Clone()
	c.Properties = m.Properties.Clone()
	c.Context = m.Context.Clone()
	c.Integrations = m.Integrations.Clone()
	c.Extra = m.Extra.Clone()
	c.Diagnostics = slices.Clone(m.Diagnostics)
	return c
}

// Clone returns a deep copy of c.
func (c Context) Clone() Context {
	d := c
	d.IP = cloneString(c.IP)
	d.UserAgent = cloneString(c.UserAgent)
	d.Locale = cloneString(c.Locale)
	d.Channel = cloneString(c.Channel)
	d.Traits = c.Traits.Clone()
	d.Library = Library{Name: cloneString(c.Library.Name), Version: cloneString(c.Library.Version), Extra: c.Library.Extra.Clone()}
	p := c.Page
	d.Page = WebPage{Path: cloneString(p.Path), Referrer: cloneString(p.Referrer), Search: cloneString(p.Search),
		Title: cloneString(p.Title), URL: cloneString(p.URL), Extra: p.Extra.Clone()}
	d.Extra = c.Extra.Clone()
	return d
}

// cloneString copies s so it keeps no larger buffer alive; "" stays "".
func cloneString(s string) string { return strings.Clone(s) }

// SourceChannel returns the channel the message came through: the top-level channel,
// else the one in its context (Rule D3).
func (m *Message) SourceChannel() string {
	if m.Channel != "" {
		return m.Channel
	}
	return m.Context.Channel
}
