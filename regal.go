package regalkit

import (
	"context"
	"net"
	"strings"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/jsonvalue"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/regalio"
)

// This file applies Regal's own events (Rule R5): those regalio.ReportedEvent.Message
// makes from Regal's reporting webhooks, and the track calls Regal's Segment source
// sends, both recognised by regalio.IsRegal. They are recorded like any track (Rule
// E1); contact.subscribed and contact.unsubscribed are consent records as well.

// matchedByPhone reports whether m is a Regal event without a userId, which regalMatch
// matches to a contact by phone or email: by what was applied before it, so that
// batches apply it after every earlier message (batch.work).
func matchedByPhone(m *event.Message) bool {
	return m.UserID == "" && strings.HasPrefix(m.AnonymousID, regalio.AnonymousIDPrefix) && regalio.IsRegal(m)
}

// regalMatch returns the contact a Regal event without a userId belongs to: the one
// contact with the phone the event is about (regalio.About: a consent event's
// properties.phone, an inbound text's sender, else its traits' phone, which also names
// the contact of a consent event for the email channel), else, when no contact has that
// phone, the one with its email (Rule R5, Regal's lookup order). It
// returns nil when the message is not such an event or no single contact matches (a
// phone that several contacts share decides, and matches none); the message then goes
// to the anonymous contact of its anonymousId.
func (t *txn) regalMatch(m *event.Message) (*contactcore.Contact, error) {
	if !matchedByPhone(m) {
		return nil, nil
	}
	phone, email := regalio.About(m)
	if phone == "" && email == "" {
		// A consent event for the email channel that names no email: its contact may
		// be named by the traits' phone alone.
		phone = objectText(m.Context.Traits, "phone")
	}
	if phone != "" {
		if p, err := t.p.phones.Parse(phone, ""); err == nil {
			cs, err := t.find(identity.PhoneKey(p.E164))
			if err != nil || len(cs) > 1 {
				return nil, err
			}
			if len(cs) == 1 {
				t.res.ContactID = cs[0].ID()
				return cs[0], nil
			}
		}
	}
	if e, err := identity.NormalizeEmail(email); err == nil && email != "" {
		return t.onlyMatch([]identity.Key{identity.EmailKey(e)})
	}
	return nil, nil
}

// fileRegalConsent keeps the consent records of a Regal event without a userId (Rule
// R5) on the anonymous contact of the phone each is about, where the Guard finds a
// phone's Regal records (Rule G1), whatever contact the event itself went to: one it
// matched by phone, which may lose the phone later (a late link moves the message that
// gave it the phone, Rule I4); an anonymous contact of a Segment anonymousId, when the
// event came from Regal's Segment source; or the anonymous contact of the phone as
// regalio wrote it, which may not be the Processor's E.164 (another default region).
// So the phone's opt-out counts for the phone in every arrival order. A refused
// record, which decides nothing, is not filed.
func (t *txn) fileRegalConsent(m *event.Message) error {
	recs := t.regalConsent(m)
	if len(recs) == 0 {
		return nil
	}
	own := t.loaded[t.res.ContactID]
	for _, r := range recs {
		if r.Refused != "" || !identity.IsE164(r.Address) {
			continue // an email's record: the Guard is about phones
		}
		anon := regalio.AnonymousIDPrefix + r.Address
		if own != nil && isPhoneRegister(own, anon) {
			continue // the event went to the phone's own contact
		}
		reg, err := t.registerOf(anon)
		if err != nil {
			return err
		}
		if reg == nil {
			// A contact of regalkit's own, not one the message made: its result says
			// nothing of it (its ContactID is the event's contact).
			reg = t.newContact("", anon)
		}
		reg.AddConsentAs("", r)
		t.touch(reg) // also when the record joins one it has: its last message may move (Rule C7)
	}
	if t.regalEmail != "" {
		// A record that names no phone but an email (see readRegalConsent): valid on the
		// email's own Regal contact, which the Guard reads for the phones of the
		// contacts that have the email (Rule G1).
		reg, err := t.registerOf(t.regalEmail)
		if err != nil {
			return err
		}
		if reg == nil {
			reg = t.newContact("", t.regalEmail)
		}
		for _, r := range recs {
			// Refused on the contact it matched (readRegalConsent), or bound there by
			// C5 (a Segment anonymousId's contact): valid here either way.
			if (r.Refused == "" || r.Refused == diag.OptinInvalid) && r.Address == "" && !r.Subscribed {
				r.Refused = ""
				reg.AddConsentAs("", r)
			}
		}
		t.touch(reg)
	}
	return nil
}

// regalConsent returns the consent record of a Regal contact.subscribed or
// contact.unsubscribed event (Rule R5), with its evidence from the properties: channel
// ("SMS", "voice", "email", any case), phone (or contact_phone, else the traits'
// phone), email for the email channel, ip (else context.ip), source, text and
// timestamp (Unix seconds or any form of Rule D4; the event's time when absent). The
// record then follows Rules C4–C7 like any other. A record whose channel or address
// cannot be read is kept refused, with a diagnostic.
func (t *txn) regalConsent(m *event.Message) []optin.Record {
	if t.regalRead {
		return t.regalRecs
	}
	t.regalRead = true
	t.regalRecs = t.readRegalConsent(m)
	return t.regalRecs
}

// readRegalConsent is regalConsent's first reading of the message.
func (t *txn) readRegalConsent(m *event.Message) []optin.Record {
	if m.Kind != event.Track || (m.Event != regalio.EventSubscribed && m.Event != regalio.EventUnsubscribed) || !regalio.IsRegal(m) {
		return nil
	}
	props := m.Properties
	r := optin.Record{
		Subscribed:  m.Event == regalio.EventSubscribed,
		IP:          strings.TrimSpace(objectText(props, "ip")),
		Source:      objectText(props, "source"),
		Text:        objectText(props, "text"),
		Timestamp:   m.Time,
		MessageID:   m.MessageID,
		MessageTime: m.Time,
		ProcessedAt: t.now,
	}
	report := func(code diag.Code, field, msg string) {
		t.res.Diagnostics = append(t.res.Diagnostics, diag.Diagnostic{MessageID: m.MessageID, Code: code, Field: field, Message: "regalkit: " + msg})
	}
	// Rule C4, as for a trait's record: an ip that is no IP address is left out, and
	// the message's context.ip, when it is one, stands in.
	contextIP := ""
	if net.ParseIP(m.Context.IP) != nil {
		contextIP = m.Context.IP
	}
	if r.IP != "" && net.ParseIP(r.IP) == nil {
		msg := "the consent event's ip is not an IP address; left out"
		if contextIP != "" {
			msg += ", the message's context.ip stands in"
		}
		report(diag.OptinInvalid, "properties.ip", msg)
		r.IP = ""
	}
	if r.IP == "" {
		r.IP = contextIP
	}
	refuse := func(code diag.Code, field, msg string) {
		if r.Refused == "" {
			r.Refused = code
		}
		report(code, field, msg)
	}
	if src, why := optin.ReserveSource(r.Source); why != "" {
		r.Source = src
		report(diag.OptinInvalid, "properties.source", why)
	}
	// The event's name says which way the record goes. A "subscribed" property that
	// says the other way makes the event contradict itself: an opt-in so is not taken
	// (consent must be unambiguous), an opt-out is honoured, as any is (Rule C4). A
	// review found contact.subscribed with "subscribed": false subscribing the phone.
	if raw, ok := props.Get("subscribed"); ok {
		if said, known := contactcore.LenientBool(raw); known && said != r.Subscribed {
			if r.Subscribed {
				refuse(diag.OptinInvalid, "properties.subscribed", "contact.subscribed says \"subscribed\": false; an opt-in that contradicts itself is not taken")
			} else {
				report(diag.OptinInvalid, "properties.subscribed", "contact.unsubscribed says \"subscribed\": true; the opt-out is honoured")
			}
		}
	}
	// A timestamp that is null or an empty string is none: the event's time stands in.
	if raw, ok := props.Get("timestamp"); ok && !jsonvalue.IsNull(raw) && !blankString(raw) {
		ts, err := timestamp.ParseJSON(raw)
		if err != nil {
			refuse(diag.OptinNoTimestamp, "properties.timestamp", "the consent event's timestamp cannot be read; the record is ignored (Rule C3)")
		} else {
			r.Timestamp = ts
		}
	}
	ch, ok := optin.ParseChannel(strings.ToLower(objectText(props, "channel")))
	r.Channel = ch
	if !ok {
		r.Channel = optin.Channel(strings.ToLower(objectText(props, "channel")))
		refuse(diag.OptinUnknownChannel, "properties.channel", "the consent event names no channel sms, voice or email (Rule C1)")
	}
	phone, email := regalio.About(m)
	if ch == optin.Email {
		if s := email; s != "" {
			if e, err := identity.NormalizeEmail(s); err == nil {
				r.Address = e
			} else {
				refuse(diag.EmailInvalid, "properties.email", "the consent event's email "+identity.MaskEmail(s)+" is not valid")
			}
		}
	} else if s := phone; s != "" {
		if p, err := t.p.phones.Parse(s, ""); err == nil {
			r.Address = p.E164
		} else {
			refuse(diag.PhoneInvalid, "properties.phone", "the consent event's phone "+identity.MaskPhone(s)+" is not a valid number")
		}
	}
	if r.Address == "" && r.Refused == "" && m.UserID == "" && ch != optin.Email && !r.Subscribed {
		// A userless opt-out that names no phone but an email is also kept, valid, on
		// that email's own Regal contact (fileRegalConsent), where the Guard finds it
		// for the phones of the contacts with the email: an opt-out is always honoured
		// (Rule C4), whatever contact the event went to. (An opt-in is not: it would
		// give consent for phones that were not there.)
		if e, err := identity.NormalizeEmail(email); email != "" && err == nil {
			t.regalEmail = regalio.AnonymousIDPrefix + strings.ToLower(e)
		}
	}
	if r.Address == "" && r.Refused == "" && matchedByPhone(m) {
		// An event matched by phone or email (no userId, a regal-contact: anonymousId):
		// the contact such a record would bind to (Rule C5) is the one it matched on
		// arrival, which depends on the order messages arrived in, and the phone's
		// consent would too (Rule G1), so it binds to none there. (A track of Regal's
		// Segment source under a Segment anonymousId goes to that ID's contact, in
		// every order, and binds there as any record.)
		field, what := "properties.phone", "phone"
		if ch == optin.Email {
			field, what = "properties.email", "email"
		}
		msg := "the consent event has no userId and names no " + what + "; it applies to none (Rule R5)"
		if t.regalEmail != "" {
			msg = "the consent event has no userId and names no phone; it applies to the phones of the contacts with its email " +
				identity.MaskEmail(email) + ", not to the contact it matched on arrival (Rule R5)"
		}
		refuse(diag.OptinInvalid, field, msg)
	}
	if r.Refused == "" {
		if code := r.Check(); code == diag.OptinNoIP {
			refuse(code, "properties.ip", "a subscription without an IP address is refused (Rule C4)")
		}
	}
	return []optin.Record{r}
}

// blankString reports whether raw is a JSON string of nothing but white space.
func blankString(raw []byte) bool {
	s, ok := jsonvalue.String(raw)
	return ok && strings.TrimSpace(s) == ""
}

// objectText returns o's key as text (a string, or a number digit for digit: see
// jsonvalue.Text), or "" when the key is missing or holds neither.
func objectText(o event.Object, key string) string {
	if raw, ok := o.Get(key); ok {
		if s, ok := jsonvalue.Text(raw); ok {
			return s
		}
	}
	return ""
}

// RegalSink returns the sink a regalio.Handler hands Regal's events to: each message
// processed in order (Rule R5), its Result returned as the event's. It is the route of
// Regal's authenticated webhook, where an sms.received START is its own evidence (Rule
// G6); the same event through Process (or from Regal's Segment source) needs an IP in
// context.ip, like any opt-in. A store or context
// failure stops the request with that error; the Handler answers 500 (503 past its
// timeout) and Regal, which does not retry, drops the event.
func (p *Processor) RegalSink() regalio.Sink {
	return func(ctx context.Context, msgs []event.Message) ([]regalio.Result, error) {
		out := make([]regalio.Result, len(msgs))
		for i, m := range msgs {
			r, err := p.process(ctx, &m, fromRegal)
			if err != nil {
				return nil, err
			}
			out[i] = regalio.Result{MessageID: r.MessageID, Duplicate: r.Duplicate, Diagnostics: r.Diagnostics}
		}
		return out, nil
	}
}
