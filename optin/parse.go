package optin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/timestamp"
	"github.com/regalkit/regalkit/internal/validate"
)

// ParseTrait reads the consent records of an optIn trait value (Rule C2): the seed's
// array of {channel, subscribed, timestamp, ip, source, text} objects, or a single such
// object. field is the trait's path, such as "traits.optIn"; an array's records are
// reported as "traits.optIn[1]" and so on.
//
// Each SMS or voice record applies to m.Phone and each email record to m.Email; when the
// message sets none, the record has no address and binds later (Rule C5). Every record
// received comes back, valid or refused (Rule C7): a refused record has its Refused code
// set, and each problem is a diagnostic with its code, its field path and m.ID (Rules
// C1–C4). A field that is wrong but not needed (an ip that is not an IP address) is left
// out with an [diag.OptinInvalid] diagnostic and the record still counts.
//
// JSON null is no record at all; any other value that is not an object or an array of
// objects gives a refused record with [diag.OptinInvalid]. ParseTrait never fails and
// never panics: whatever the input, the message goes on.
//
// Segment re-sends cached traits with every identify, so ParseTrait remembers what it
// made of recent inputs (a fixed table of about a thousand, each checked byte for byte
// on reuse); a result is always what a fresh parse gives, and always a copy the caller
// owns.
func ParseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > memoMaxRaw {
		return parseTrait(field, raw, m)
	}
	slot := memoSlot(field, raw, &m)
	if e := slot.Load(); e != nil && e.matches(field, raw, &m) {
		return e.stamped(&m)
	}
	recs, diags := parseTrait(field, raw, m)
	remember(slot, field, raw, &m, recs, diags)
	return recs, diags
}

func parseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	p := parser{msg: m}
	if !json.Valid(raw) {
		p.refuse(field, "", "must be a consent record or an array of them, in valid JSON")
		return p.records, p.diags
	}
	text := string(raw) // one copy: every value read is a substring of it
	if text[0] != '[' {
		p.record(field, text, "", "")
		return p.records, p.diags
	}
	p.records = make([]Record, 0, 2)
	elements(text, func(i int, elem string) {
		p.record(field+"["+strconv.Itoa(i)+"]", elem, "", "")
	})
	return p.records, p.diags
}

// ParsePhone reads the smsOptIn and voiceOptIn values of one phone in Regal's phones
// trait (Rules C2, T9), each a single {subscribed, timestamp, ip, source, text} object
// whose channel is given by its key. phone is the phone's E.164 number, which both records
// apply to. A nil or null value is no record.
//
// field is the path of the phones object, such as "traits.phones"; the diagnostics name
// the phone masked ("traits.phones[+***2399].smsOptIn"), never whole. A "channel" inside
// the value must agree with its key, or the record is refused. Otherwise ParsePhone
// behaves as [ParseTrait].
func ParsePhone(field, phone string, smsOptIn, voiceOptIn json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	var p parser
	p.msg = m
	base := field + "[" + identity.MaskPhone(phone) + "]"
	p.value(base+".smsOptIn", smsOptIn, SMS, phone)
	p.value(base+".voiceOptIn", voiceOptIn, Voice, phone)
	return p.records, p.diags
}

// ParseEmail reads the emailOptIn value of one address in Regal's emails trait, a
// single {subscribed, timestamp, ip, source, text} object for the [Email] channel (Rules
// C1, C2). email is the normalized address the record applies to. field is the path of
// the emails object, such as "traits.emails"; the diagnostics name the address masked
// ("traits.emails[***@example.com].emailOptIn"). Otherwise ParseEmail behaves as
// [ParsePhone].
func ParseEmail(field, email string, emailOptIn json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	var p parser
	p.msg = m
	p.value(field+"["+identity.MaskEmail(email)+"].emailOptIn", emailOptIn, Email, email)
	return p.records, p.diags
}

// recordShape is the part of a record the shared validator checks (DESIGN rule 9).
type recordShape struct {
	Channel string `json:"channel" validate:"required,oneof=sms voice email" diag:"optin.unknown_channel"`
	IP      string `json:"ip" validate:"omitempty,ip" diag:"optin.invalid"`
}

type parser struct {
	msg     Message
	records []Record
	diags   []diag.Diagnostic
}

func (p *parser) report(code diag.Code, field, message string) {
	p.diags = append(p.diags, diag.Diagnostic{MessageID: p.msg.ID, Code: code, Field: field, Message: message})
}

// refuse keeps a value that is not a record at all as a refused record (Rule C7).
func (p *parser) refuse(field string, implied Channel, message string) {
	p.report(diag.OptinInvalid, field, message+"; the record is refused (Rule C2)")
	p.add(Record{Channel: implied, Address: p.msg.addressFor(implied), Refused: diag.OptinInvalid})
}

// value reads a record that sits under a key naming its channel (smsOptIn): absent and
// null are no record.
func (p *parser) value(field string, raw json.RawMessage, implied Channel, addr string) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case !json.Valid(raw):
		p.refuse(field, implied, "a consent record must be a JSON object, in valid JSON")
	default:
		p.record(field, string(raw), implied, addr)
	}
}

func (p *parser) add(r Record) {
	r.MessageID = p.msg.ID
	r.MessageTime = p.msg.Time
	r.ProcessedAt = p.msg.ProcessedAt
	p.records = append(p.records, normalize(r))
}

// record reads one record at field from raw, valid JSON. implied is the channel its
// position gives (smsOptIn is SMS), empty in an optIn trait; addr is the address its
// position gives.
func (p *parser) record(field, raw string, implied Channel, addr string) {
	if raw == "" || raw[0] != '{' {
		p.refuse(field, implied, "a consent record must be a JSON object")
		return
	}
	w := readRecord(raw)

	var r Record
	var codes [4]diag.Code // the refusals found, in rule order: C1, C2, C3, C4

	// Rule C1: the channel, named by the record or by its position.
	name, _ := stringOf(w.Channel)
	channel := Channel(strings.ToLower(strings.TrimSpace(name)))
	if implied != "" {
		if isPresentText(w.Channel) && channel != implied {
			p.report(diag.OptinInvalid, field+".channel", "channel must be "+string(implied)+" here, or absent; the record is refused (Rule C2)")
			codes[1] = diag.OptinInvalid
		}
		channel = implied
	}
	r.Channel = channel
	if addr == "" {
		addr = p.msg.addressFor(channel)
	}
	r.Address = addr

	ownIP, _ := stringOf(w.IP)
	ownIP = strings.TrimSpace(ownIP)
	contextIP := ""
	if isIP(p.msg.IP) {
		contextIP = p.msg.IP
	}
	for _, d := range validate.Struct(recordShape{Channel: string(channel), IP: ownIP}, field, diag.OptinInvalid) {
		switch d.Code {
		case diag.OptinUnknownChannel:
			d.Message += "; the record is refused (Rule C1)"
			codes[0] = d.Code
		default: // the ip: left out, the record goes on
			d.Message += "; left out"
			if contextIP != "" {
				d.Message += ", the message's context.ip stands in"
			}
			ownIP = ""
		}
		d.MessageID = p.msg.ID
		p.diags = append(p.diags, d)
	}

	// Rule C2: subscribed as a boolean or "true"/"false".
	subscribed, known := parseSubscribed(w.Subscribed)
	if !known {
		msg := "subscribed must be true or false"
		if !isPresentText(w.Subscribed) {
			msg = "subscribed is required"
		}
		p.report(diag.OptinInvalid, field+".subscribed", msg+"; the record is refused (Rule C2)")
		codes[1] = diag.OptinInvalid
	}
	r.Subscribed = subscribed

	// Rule C3: a parseable timestamp.
	what := "an opt-in"
	if known && !subscribed {
		what = "an opt-out"
	}
	if ts, reason := parseTimestamp(w.Timestamp); reason != "" {
		p.report(diag.OptinNoTimestamp, field+".timestamp", "timestamp "+reason+"; "+what+" without a date is ignored (Rule C3)")
		codes[2] = diag.OptinNoTimestamp
	} else {
		r.Timestamp = ts
	}

	// Rule C4: an opt-in needs an IP, its own or the message's; an opt-out needs none.
	r.IP = ownIP
	if r.IP == "" {
		r.IP = contextIP
	}
	if known && subscribed && r.IP == "" {
		p.report(diag.OptinNoIP, field+".ip", "an opt-in needs an IP address, its own or the message's context.ip; the record is refused (Rule C4)")
		codes[3] = diag.OptinNoIP
	}

	r.Source, _ = stringOf(w.Source)
	r.Text, _ = stringOf(w.Text)
	for _, c := range codes {
		if c != "" {
			r.Refused = c
			break
		}
	}
	p.add(r)
}

// parseSubscribed reads subscribed as a JSON boolean or the string "true" or "false"
// (any case, surrounding spaces ignored). known is false for anything else, absent
// included: a record that does not say which way it goes is not consent either way.
func parseSubscribed(v string) (subscribed, known bool) {
	switch v {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if v == "" || v[0] != '"' {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(unquote(v))) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseTimestamp reads a record's timestamp with the one D4 parser. reason is empty on
// success, else says what is wrong without quoting the value.
func parseTimestamp(v string) (t time.Time, reason string) {
	if !isPresentText(v) {
		return time.Time{}, "is required"
	}
	var err error
	if v[0] == '"' {
		t, err = timestamp.Parse(unquote(v))
	} else {
		t, err = timestamp.ParseJSON([]byte(v))
	}
	if err != nil {
		var te *timestamp.Error
		if errors.As(err, &te) {
			return time.Time{}, "is not a time (" + te.Reason + ")"
		}
		return time.Time{}, "is not a time"
	}
	if t.IsZero() {
		return time.Time{}, "is the zero time"
	}
	return t, ""
}
