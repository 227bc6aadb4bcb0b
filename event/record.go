package event

import "github.com/regalkit/regalkit/internal/timestamp"

// Record returns the event record a contact keeps for m (Rule E1), and false for kinds
// that are not recorded (identify, alias, delete). A track's name is its event; a page's
// or screen's is its name, with its category; a group's record holds the groupId and
// the group's traits. Every record keeps the message's context (context.traits
// included) and its receivedAt. The record shares m's values: clone it to keep it
// apart.
func (m *Message) Record() (Record, bool) {
	r := Record{
		Kind:      m.Kind,
		Time:      m.Time,
		MessageID: m.MessageID,
		Context:   m.Context.record(),
	}
	if m.Timestamps.ReceivedAt != nil {
		if t, err := timestamp.ParseJSON(m.Timestamps.ReceivedAt); err == nil {
			r.ReceivedAt = t.UTC()
		}
	}
	switch m.Kind {
	case Track:
		r.Name = m.Event
		r.Properties = m.Properties
	case Page, Screen:
		r.Name = m.Name
		r.Category = m.Category
		r.Properties = m.Properties
	case Group:
		r.GroupID = m.GroupID
		r.Traits = m.Traits
	default:
		return Record{}, false
	}
	return r, true
}

// Clone returns a deep copy of r that shares no memory with it.
func (r Record) Clone() Record {
	c := r
	c.Name = cloneString(r.Name)
	c.Category = cloneString(r.Category)
	c.GroupID = cloneString(r.GroupID)
	c.MessageID = cloneString(r.MessageID)
	c.Properties = r.Properties.Clone()
	c.Traits = r.Traits.Clone()
	c.Context = r.Context.context().Clone().record()
	return c
}
