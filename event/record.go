package event

// Record returns the event record a contact keeps for m (Rule E1), and false for kinds
// that are not recorded (identify, alias, delete). A track's name is its event; a page's
// or screen's is its name, with its category; a group's record holds the groupId and
// the group's traits. The record shares m's values: clone it to keep it apart.
func (m *Message) Record() (Record, bool) {
	r := Record{
		Kind:      m.Kind,
		Time:      m.Time,
		MessageID: m.MessageID,
		Context: RecordContext{
			IP:        m.Context.IP,
			UserAgent: m.Context.UserAgent,
			Locale:    m.Context.Locale,
			Library:   m.Context.Library,
			Page:      m.Context.Page,
		},
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
	ctx := Context{IP: r.Context.IP, UserAgent: r.Context.UserAgent, Locale: r.Context.Locale, Library: r.Context.Library, Page: r.Context.Page}.Clone()
	c.Context = RecordContext{IP: ctx.IP, UserAgent: ctx.UserAgent, Locale: ctx.Locale, Library: ctx.Library, Page: ctx.Page}
	return c
}
