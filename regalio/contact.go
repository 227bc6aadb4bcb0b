package regalio

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/regalkit/regalkit/contact"
	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/optin"
)

// FromContact fills a [Contact] from a regalkit contact (Rule R1), through the
// contact's public read API only: userId, first and last name, the address, every
// phone with its label, whether it is primary and its current sms and voice consent
// with their evidence (Rule C6), the email with its current email consent, age and
// gender as the traits "age" and "gender", and every custom property exactly.
//
// What Regal's body has no place for is a diag.RegalUnmapped diagnostic: the second
// address line and unknown address parts (Regal's address is street, city, state,
// zipcode, country), and consent for an address the contact no longer has.
func FromContact(c *contact.Contact) (Contact, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	unmapped := func(field, msg string) {
		diags = append(diags, diag.Diagnostic{Code: diag.RegalUnmapped, Field: field, Message: "regalio: " + msg})
	}
	out := Contact{UserID: c.UserID(), FirstName: c.FirstName(), LastName: c.LastName()}

	a := c.Address()
	out.Address = Address{Street: a.Line1, City: a.City, State: a.State, Zipcode: a.PostalCode, Country: a.Country}
	if a.Line2 != "" {
		unmapped("address.line2", "Regal's address has no second line")
	}
	extra := make([]string, 0, len(a.Extra))
	for k := range a.Extra {
		extra = append(extra, k)
	}
	slices.Sort(extra)
	for _, k := range extra {
		// A sub-key is the sender's text: masked, and cut, as any echoed input.
		k = diag.Mask(cutKey(k))
		unmapped("address."+k, "Regal's address has no part "+strconv.Quote(k))
	}

	view := c.ConsentView()
	primary := c.Phone()
	known := map[string]bool{}
	for _, p := range c.Phones() {
		known[p] = true
		out.Phones = append(out.Phones, Phone{
			Number:  p,
			Label:   c.PhoneLabel(p),
			Primary: p == primary,
			SMS:     current(view, p, optin.SMS),
			Voice:   current(view, p, optin.Voice),
		})
	}
	if e := c.Email(); e != "" {
		known[e] = true
		out.Emails = []Email{{Address: e, Primary: true, OptIn: current(view, e, optin.Email)}}
	}
	for _, addr := range view.Addresses() {
		if addr != "" && !known[addr] {
			masked := identity.MaskPhone(addr)
			if optinIsEmail(view, addr) {
				masked = identity.MaskEmail(addr)
			}
			unmapped("consent", "consent for "+masked+", which the contact no longer has, cannot be sent")
		}
	}

	if age, ok := c.Age(); ok {
		out.Custom = append(out.Custom, event.Member{Key: "age", Value: json.RawMessage(strconv.Itoa(age))})
	}
	if g := c.Gender(); g != "" {
		b, _ := json.Marshal(g)
		out.Custom = append(out.Custom, event.Member{Key: "gender", Value: b})
	}
	for _, k := range c.CustomKeys() {
		if v, ok := c.Custom(k); ok {
			out.Custom = append(out.Custom, event.Member{Key: k, Value: json.RawMessage(v)})
		}
	}
	return out, diags
}

// current returns the consent record deciding addr's state on ch, as an OptIn.
func current(v optin.View, addr string, ch optin.Channel) *OptIn {
	e, ok := v.Current(addr, ch)
	if !ok {
		return nil
	}
	return &OptIn{Subscribed: e.Subscribed, Time: e.Timestamp, IP: e.IP, Text: e.Text, Source: e.Source}
}

func optinIsEmail(v optin.View, addr string) bool {
	_, ok := v.Current(addr, optin.Email)
	return ok
}

// FromRecord returns the Event for one of a contact's event records (Rule R1): a
// track's name, properties, time and messageId, with source as its eventSource. Regal's
// Events API takes named custom events only, so a page, screen or group record gives
// nil and a diag.RegalUnmapped diagnostic. The record's context (IP, user agent,
// library) describes the sender, not the event, and is not part of Regal's body.
func FromRecord(r event.Record, source string) (*Event, []diag.Diagnostic) {
	if r.Kind != event.Track {
		return nil, []diag.Diagnostic{{MessageID: r.MessageID, Code: diag.RegalUnmapped, Field: "type",
			Message: "regalio: a " + r.Kind.String() + " record has no place in Regal's Events API, which takes named events only"}}
	}
	return &Event{Name: r.Name, Properties: r.Properties, Time: r.Time, Source: source, MessageID: r.MessageID}, nil
}

// cutKey returns k cut to at most 255 characters (Rule T10's longest trait key), so that
// an address sub-key, which may be longer, does not make a diagnostic any longer.
func cutKey(k string) string {
	const max = 255
	n := 0
	for i := range k {
		if n == max {
			return k[:i]
		}
		n++
	}
	return k
}
