package optin

import (
	"errors"
	"maps"
	"slices"

	"github.com/regalkit/regalkit/diag"
)

// Events says which track events are consent (Rule C8): each configured event name means
// "opted in" or "opted out" on some channels. Build one with [NewEvents]; it never
// changes afterwards and is safe for concurrent use. The zero Events knows no events.
type Events struct {
	byName map[string]eventMeaning
}

type eventMeaning struct {
	subscribed bool
	channels   []Channel // sorted, no repeats
}

// NewEvents configures the opt-in and opt-out events: optIn maps each event name that
// means "opted in" to its channels, optOut each that means "opted out". An empty channel
// list means SMS and voice. Event names match exactly, as Segment sends them.
//
// It fails when a name is empty, when a channel is not SMS, Voice or Email (Rule C1), or
// when one name is both an opt-in and an opt-out event.
func NewEvents(optIn, optOut map[string][]Channel) (*Events, error) {
	e := &Events{byName: make(map[string]eventMeaning, len(optIn)+len(optOut))}
	add := func(name string, channels []Channel, subscribed bool) error {
		if name == "" {
			return errors.New("optin: an opt-in or opt-out event needs a name")
		}
		if _, why := ReserveSource(name); why != "" {
			// An event's records have its name as their source (Rule G7).
			return errors.New("optin: event " + quoteShort(name) + ": the name is the source its records would have, and that source is reserved for STOP and START replies")
		}
		if _, dup := e.byName[name]; dup {
			return errors.New("optin: event " + quoteShort(name) + " is both an opt-in and an opt-out event")
		}
		m := eventMeaning{subscribed: subscribed}
		if len(channels) == 0 {
			m.channels = []Channel{SMS, Voice}
		}
		for _, c := range channels {
			if !c.Valid() {
				return errors.New("optin: event " + quoteShort(name) + ": unknown channel " + quoteShort(string(c)))
			}
			m.channels = append(m.channels, c)
		}
		slices.Sort(m.channels)
		m.channels = slices.Compact(m.channels)
		e.byName[name] = m
		return nil
	}
	// Sorted, so that a configuration with several mistakes always reports the same one.
	for _, name := range slices.Sorted(maps.Keys(optIn)) {
		if err := add(name, optIn[name], true); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(optOut)) {
		if err := add(name, optOut[name], false); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Has reports whether name is a configured opt-in or opt-out event.
func (e *Events) Has(name string) bool {
	if e == nil {
		return false
	}
	_, ok := e.byName[name]
	return ok
}

// Records turns a track event into consent records, one per configured channel (Rule
// C8): subscribed for an opt-in event, not for an opt-out event; dated by the event's
// time m.Time; the IP is m.IP (context.ip); the source is the event name. The records
// follow Rules C4–C7 like any other: an opt-in event without a context.ip is refused
// (diag.OptinNoIP, field "context.ip"), an opt-out needs none, an event with a zero
// m.Time is refused (diag.OptinNoTimestamp), and SMS and voice records apply to m.Phone
// or bind later (Rule C5).
//
// Records returns nothing for an event that is not configured.
func (e *Events) Records(name string, m Message) ([]Record, []diag.Diagnostic) {
	if e == nil {
		return nil, nil
	}
	meaning, ok := e.byName[name]
	if !ok {
		return nil, nil
	}
	p := parser{msg: m, records: make([]Record, 0, len(meaning.channels))}
	ip := ""
	if isIP(m.IP) {
		ip = m.IP
	}
	for _, c := range meaning.channels {
		r := Record{
			Address:    m.addressFor(c),
			Channel:    c,
			Subscribed: meaning.subscribed,
			Timestamp:  m.Time,
			IP:         ip,
			Source:     name,
		}
		switch {
		case m.Time.IsZero():
			p.report(diag.OptinNoTimestamp, "timestamp", string(c)+" consent event without a time is ignored (Rule C3)")
			r.Refused = diag.OptinNoTimestamp
		case r.Subscribed && ip == "":
			p.report(diag.OptinNoIP, "context.ip", string(c)+" opt-in event without an IP address in context.ip is refused (Rule C4)")
			r.Refused = diag.OptinNoIP
		}
		p.add(r)
	}
	return p.records, p.diags
}
