package regalkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/event"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/contactcore"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/optin"
	"github.com/regalkit/regalkit/regalio"
)

// This file applies keyword replies (Rules G5–G8): STOP and its family, START and
// UNSTOP, sent by SMS from a phone. The reply is about the phone, not about a contact,
// so its consent records are kept once, keyed by the phone, on a register contact
// whose only identifier is the anonymous ID KeywordRegisterPrefix + phone. Every other
// contact's keyword records are derived: at the end of each transaction, a contact it
// changed gets exactly the keyword records of the phones it then has (Rule G7). A reply
// that arrives before any contact has the phone therefore applies as soon as one gets
// it, and one that arrives after a contact lost the phone does not apply to it: the
// result is the same in every arrival order (Rule S3).

// KeywordRegisterPrefix starts the anonymous ID of the contact that keeps the keyword
// replies of one phone (Rule G7), followed by the phone in E.164.
const KeywordRegisterPrefix = "sms-keyword:"

// EventSMSReceived is the name of Regal's event for an inbound text message; its
// properties.content is the body and properties.contact_phone (else
// properties.from_number, else traits.phone) the sender (Rule G8).
const EventSMSReceived = regalio.EventSMSReceived

// EventPossibleOptOut is the event recorded on a phone's register contact for a reply
// that contains a revocation keyword among other words (Rule G5), with the body as
// properties.text, for a person to read.
const EventPossibleOptOut = "sms.possible_opt_out"

// maxSMSText bounds the body kept on a possible opt-out's event: a text message is at
// most 1,600 characters once carriers join its parts.
const maxSMSText = 1600

// InboundSMS is a text message a person sent, from a sender that is not Regal (Regal's
// own arrive as sms.received events, Rule G8).
type InboundSMS struct {
	// From is the sender's phone, in any form Rule T8 reads.
	From string
	// Body is the message text.
	Body string
	// Time is when it was sent. Zero means the processor's clock.
	Time time.Time
	// MessageID identifies the message (Rule E2): a redelivery changes nothing. Empty
	// means one derived from the sender, the body and the time. Give the provider's
	// message ID, or at least the time it gives: with neither, a delivery cannot be told
	// from a redelivery, so each is a new message, and a START is refused
	// (message.invalid) so that a redelivered one never undoes a later STOP.
	MessageID string
}

// ReceiveSMS applies an inbound text message (Rules G5–G8): a STOP-family reply opts
// the sender's phone out of SMS (and voice, by option) on every contact that has the
// phone, now or later; START or UNSTOP opts it back in to SMS; a longer message
// containing a revocation keyword is a possible opt-out, reported with the
// keyword.possible_opt_out diagnostic and recorded as an event. Any other body changes
// nothing. A sender that is not a valid phone is a phone.invalid diagnostic; a
// messageId over 100 characters (message.invalid_id) or not valid UTF-8
// (message.invalid), a START given neither a Time nor a MessageID (message.invalid:
// see InboundSMS.MessageID), and a time outside Rule D4's years (timestamp.invalid),
// refuse the reply; invalid UTF-8 in the body is kept as U+FFFD. Like a
// message, a reply that changes contacts fills Result.Triggers (Rule J4) and, with
// Options.Outbox, gives them outbox entries for Regal (Rule O1). The error is for
// failures of the store or of ctx.
func (p *Processor) ReceiveSMS(ctx context.Context, in InboundSMS) (Result, error) {
	now, err := p.opts.now()
	if err != nil {
		return Result{MessageID: in.MessageID}, err
	}
	// A text with neither a Time nor a MessageID cannot be told from a redelivery of an
	// earlier one with the same body: deduplicated by its content, a person's second
	// STOP (after a START) would be dropped; taken as new, a START delivered again
	// would undo a later STOP. So each delivery is a new message, dated by the clock,
	// and a START among them is refused: a revocation is never lost, and consent is
	// never given again by a redelivery.
	untold := in.MessageID == "" && in.Time.IsZero()
	if in.Time.IsZero() {
		in.Time = now
	}
	in.Time = in.Time.UTC()
	if in.MessageID == "" {
		sum := sha256.Sum256([]byte(in.From + "\x00" + in.Body + "\x00" + in.Time.Format(time.RFC3339Nano)))
		in.MessageID = "sms-" + hex.EncodeToString(sum[:12])
	}
	phone, err := p.phones.Parse(in.From, "")
	res := Result{MessageID: in.MessageID}
	if event.MessageIDTooLong(in.MessageID) {
		res.Diagnostics = []diag.Diagnostic{{Code: diag.MessageInvalidID, Field: "messageId",
			Message: "regalkit: the inbound SMS's messageId is over 100 characters (Rule D6)"}}
		res.MessageID = ""
		return res, nil
	}
	if !utf8.ValidString(in.MessageID) {
		res.Diagnostics = []diag.Diagnostic{{Code: diag.MessageInvalid, Field: "messageId",
			Message: "regalkit: the inbound SMS's messageId is not valid UTF-8 (Rule D6)"}}
		res.MessageID = ""
		return res, nil
	}
	// The body is kept as the records' text (Rule G7): as text, the same in every
	// store, whose documents are JSON.
	in.Body = strings.ToValidUTF8(in.Body, "\uFFFD")
	if err != nil {
		res.Diagnostics = []diag.Diagnostic{{MessageID: in.MessageID, Code: diag.PhoneInvalid, Field: "from",
			Message: "regalkit: the sender " + identity.MaskPhone(in.From) + " is not a valid phone (Rule T8)"}}
		return res, nil
	}
	if !timestamp.InRange(in.Time) {
		res.Diagnostics = []diag.Diagnostic{{MessageID: in.MessageID, Code: diag.TimestampInvalid, Field: "time",
			Message: "regalkit: the inbound SMS's time is outside the years 1677 to 2262 (Rule D4)"}}
		return res, nil
	}
	if untold && optin.ClassifyKeyword(in.Body, p.opts.Keywords) == optin.OptInKeyword {
		res.Diagnostics = []diag.Diagnostic{{MessageID: in.MessageID, Code: diag.MessageInvalid, Field: "messageId",
			Message: "regalkit: a START reply given neither a Time nor a MessageID cannot be told from a redelivery of an earlier one; refused, so that it cannot undo a later STOP (Rules E2, G6): give the provider's message ID"}}
		return res, nil
	}
	// The same transaction as a message's (processor.go): duplicates, triggers (Rule
	// J4) and the outbox (Rule O1) included, so that Regal hears of a STOP sent
	// elsewhere.
	u := updates.Get().(*update)
	u.p, u.now = p, now
	u.sms = &optin.InboundSMS{Phone: phone.E164, Body: in.Body, Time: in.Time, MessageID: in.MessageID, ProcessedAt: now}
	err = p.store.Update(ctx, u.fn)
	out := u.out
	*u = update{fn: u.fn}
	updates.Put(u)
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "regalkit: inbound SMS not processed",
			slog.String("messageId", in.MessageID), slog.String("error", err.Error()))
		return res, fmt.Errorf("regalkit: processing inbound SMS %q: %w", in.MessageID, err)
	}
	return out, nil
}

// untoldReply applies ReceiveSMS's rule for a text given neither a time nor a messageId
// to a keyword reply reported as Regal's sms.received event (Rule G8): m came with
// neither, and its messageId, derived from its content (Rule E2), would make a person's
// second STOP after a START a duplicate of the first, dropped. So such a reply is a new
// message at each delivery (its messageId derived from its content and the clock, now)
// and a START among them is refused, with the diagnostic returned and refused true, lest
// a redelivery undo a later STOP. Any other message is left as it is.
func (p *Processor) untoldReply(m *event.Message, now time.Time) (d diag.Diagnostic, refused bool) {
	if m.Kind != event.Track || m.Event != EventSMSReceived || !regalio.IsRegal(m) {
		return diag.Diagnostic{}, false
	}
	k := optin.ClassifyKeyword(objectText(m.Properties, "content"), p.opts.Keywords)
	if k == optin.NoKeyword || !untold(m) { // untold derives the messageId again: last
		return diag.Diagnostic{}, false
	}
	if k == optin.OptInKeyword {
		return diag.Diagnostic{MessageID: m.MessageID, Code: diag.MessageInvalid, Field: "messageId",
			Message: "regalkit: a START reply given neither a time nor a messageId cannot be told from a redelivery of an earlier one; refused, so that it cannot undo a later STOP (Rules E2, G8): send the event's eventId"}, true
	}
	sum := sha256.Sum256([]byte(m.MessageID + "\x00" + now.UTC().Format(time.RFC3339Nano)))
	m.MessageID = event.DerivedIDPrefix + hex.EncodeToString(sum[:16])
	return diag.Diagnostic{}, false
}

// untold reports whether a message's messageId was derived from its content (Rule E2)
// and no time of the event's own tells its deliveries apart: it has no time at all, or
// its time comes from a receivedAt the ID does not cover, the one segmentio.Handler
// stamps on a tracking-API call after deriving its ID (with a timestamp it could not
// read, say). A messageId the sender gave, "derived-" or not, and a derived one that
// covers the time (a receivedAt the sender gave), tell.
func untold(m *event.Message) bool {
	if !strings.HasPrefix(m.MessageID, event.DerivedIDPrefix) {
		return false
	}
	if m.MessageID == event.DeriveMessageID(m) {
		return m.Time.IsZero()
	}
	if m.Timestamps.ReceivedAt == nil {
		return false
	}
	early := *m
	early.Timestamps.ReceivedAt = nil
	if m.MessageID != event.DeriveMessageID(&early) {
		return false
	}
	t, _ := early.Timestamps.EventTime()
	return t.IsZero()
}

// receive is process for an inbound text (ReceiveSMS).
func (t *txn) receive(sms optin.InboundSMS) error {
	if first, err := t.claim(sms.MessageID); err != nil || !first {
		return err
	}
	if err := t.keyword(sms, optin.ClassifyKeyword(sms.Body, t.p.opts.Keywords), "body", nil); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	return t.enqueueChanges(sms.MessageID, nil)
}

// regalInbound applies Regal's sms.received event as ReceiveSMS does (Rule G8): the
// body is properties.content, the sender properties.contact_phone, else
// properties.from_number, else the traits' phone (regalio.About). The event itself is
// recorded like any Regal event (Rule R5). A START is its own evidence (Rule G6) only
// from Regal's authenticated webhook (RegalSink): one that came any other way, such as
// through Segment, where anyone holding a write key can send it, is an opt-in like any
// other and needs an IP address (the message's context.ip, Rule C4).
func (t *txn) regalInbound(m *event.Message) error {
	if m.Kind != event.Track || m.Event != EventSMSReceived || !regalio.IsRegal(m) {
		return nil
	}
	body := objectText(m.Properties, "content")
	from, _ := regalio.About(m)
	k := optin.ClassifyKeyword(body, t.p.opts.Keywords)
	switch {
	case k == optin.NoKeyword:
		return nil
	case from == "":
		t.refuse(m, diag.RegalInvalid, "properties.contact_phone",
			"regalkit: the inbound SMS is a keyword reply but names no sender (properties.contact_phone, properties.from_number, traits.phone, a regal-contact: anonymousId); it applies to no phone (Rule G8)")
		return nil
	}
	phone, err := t.p.phones.Parse(from, "")
	if err != nil {
		t.refuse(m, diag.PhoneInvalid, "properties.contact_phone",
			"regalkit: the sender "+identity.MaskPhone(from)+" of the inbound SMS is not a valid phone (Rule T8)")
		return nil
	}
	var ip *string // the reply is its own evidence
	if !t.fromRegal {
		ip = &m.Context.IP
	}
	return t.keyword(optin.InboundSMS{Phone: phone.E164, Body: body, Time: m.Time, MessageID: m.MessageID, ProcessedAt: t.now}, k, "properties.content", ip)
}

// keyword applies one inbound SMS whose body ClassifyKeyword read as k (Rules G5–G7):
// its records go to the phone's register contact, and every contact that has the phone
// is marked changed, so that flush gives it the records (see syncKeywords). A nil ip
// means that the reply is its own evidence (Rule G6); otherwise an opt-in's evidence is
// *ip, and without an IP address there it is refused (Rule C4).
func (t *txn) keyword(sms optin.InboundSMS, k optin.Keyword, field string, ip *string) error {
	if k == optin.NoKeyword {
		return nil
	}
	t.replied = true
	reg, err := t.register(sms.Phone, true)
	if err != nil {
		return err
	}
	if t.res.ContactID == "" {
		t.res.ContactID = reg.ID()
	}
	if k == optin.PossibleOptOut {
		t.res.Diagnostics = append(t.res.Diagnostics, diag.Diagnostic{MessageID: sms.MessageID, Code: diag.KeywordPossibleOptOut, Field: field,
			Message: "regalkit: a reply from " + identity.MaskPhone(sms.Phone) + " contains a revocation keyword among other words; read it and record an opt-out if it is one (Rule G5)"})
		body := sms.Body
		if len(body) > maxSMSText {
			body = strings.ToValidUTF8(body[:maxSMSText], "")
		}
		props, _ := json.Marshal(map[string]string{"text": body})
		var rec event.Record
		rec.Kind, rec.Name, rec.Time, rec.MessageID = event.Track, EventPossibleOptOut, sms.Time, sms.MessageID
		if err := rec.Properties.UnmarshalJSON(props); err != nil {
			return err
		}
		return t.addEvent(reg, rec)
	}
	recs := optin.KeywordRecords(k, sms, t.p.opts.Keywords)
	if ip != nil && k == optin.OptInKeyword {
		for i := range recs {
			recs[i].IP = *ip
			if net.ParseIP(*ip) == nil {
				recs[i].IP, recs[i].Refused = "", diag.OptinNoIP
			}
		}
		if recs[0].Refused != "" {
			t.res.Diagnostics = append(t.res.Diagnostics, diag.Diagnostic{MessageID: sms.MessageID, Code: diag.OptinNoIP, Field: "context.ip",
				Message: "regalkit: a START reply reported other than by Regal's webhook (RegalSink), such as through Segment, is an opt-in like any other and needs an IP address in context.ip; refused (Rules C4, G6)"})
		}
	}
	if reg.AddConsent(recs...) > 0 {
		t.changed("consent")
	}
	// Written back even when no record is new: a redelivery by an earlier message
	// changes which message carries the record (see optin.Record).
	t.touch(reg)
	cs, err := t.find(identity.PhoneKey(sms.Phone))
	if err != nil {
		return err
	}
	for _, c := range cs {
		t.touch(c)
	}
	return nil
}

// register returns the contact that keeps the keyword replies of a phone (Rule G7),
// created when create is true and there is none; nil otherwise.
func (t *txn) register(phone string, create bool) (*contactcore.Contact, error) {
	reg, err := t.registerOf(KeywordRegisterPrefix + phone)
	if err != nil || reg != nil || !create {
		return reg, err
	}
	return t.create("", KeywordRegisterPrefix+phone), nil
}

// registerOf returns a phone's own anonymous contact under anon: KeywordRegisterPrefix
// and the phone for its keyword replies (Rule G7), regalio.AnonymousIDPrefix and the
// phone for its Regal events without a userId (Rule R5). It is the contact without a
// userId whose own anonymous ID anon is (isPhoneRegister); nil when there is none.
func (t *txn) registerOf(anon string) (*contactcore.Contact, error) {
	cs, err := t.find(identity.AnonymousKey(anon))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if isPhoneRegister(c, anon) {
			return c, nil
		}
	}
	return nil, nil
}

// isPhoneRegister reports whether c is the phone's own contact under anon: no userId,
// and anon as its own anonymous ID, not only on a message it holds (an anonymous
// contact a Regal event matched by phone holds it so, and may be linked to a user
// later).
func isPhoneRegister(c *contactcore.Contact, anon string) bool {
	return c.UserID() == "" && c.OwnsAnonymousID(anon)
}

// isRegister reports whether c is a phone's register contact.
func isRegister(c *contactcore.Contact) bool {
	if c.UserID() != "" {
		return false
	}
	for _, a := range c.AnonymousIDs() {
		if strings.HasPrefix(a, KeywordRegisterPrefix) {
			return true
		}
	}
	return false
}

// syncKeywords gives every contact the transaction changed exactly the keyword records
// of the phones it has (Rule G7). flush calls it before writing back. A contact whose
// phones the message did not change already has them, unless the message was a reply,
// moved messages between contacts (a link, an alias, a delete) or the contact's user was
// ever deleted: it is skipped, which saves a store lookup per phone on most messages.
func (t *txn) syncKeywords() error {
	for _, id := range t.order {
		c, ok := t.loaded[id]
		if !ok || !t.dirty[id] || isRegister(c) {
			continue
		}
		if _, _, reborn := c.Reborn(); !t.replied && !t.reshaped && !reborn && c.PhonesEqual(t.phonesAtLoad[id]) {
			continue
		}
		phones := c.Phones()
		var recs []optin.Record
		for _, phone := range phones {
			reg, err := t.register(phone, false)
			if err != nil {
				return err
			}
			if reg == nil {
				continue
			}
			for _, r := range reg.Consent().Records() {
				if r.IsKeyword() && r.Address == phone {
					recs = append(recs, r)
				}
			}
		}
		if c.SetKeywordConsent(recs) {
			t.changed("consent")
		}
	}
	return nil
}
