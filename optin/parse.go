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
func ParseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var p parser
	p.msg = m
	if raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			p.refuse(field, "", "must be a consent record or an array of them: "+jsonReason(err))
			return p.records, p.diags
		}
		p.records = make([]Record, 0, len(items))
		for i, item := range items {
			p.record(field+"["+strconv.Itoa(i)+"]", item, "", "")
		}
		return p.records, p.diags
	}
	p.record(field, raw, "", "")
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
	if isPresent(smsOptIn) {
		p.record(base+".smsOptIn", smsOptIn, SMS, phone)
	}
	if isPresent(voiceOptIn) {
		p.record(base+".voiceOptIn", voiceOptIn, Voice, phone)
	}
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
	if isPresent(emailOptIn) {
		p.record(field+"["+identity.MaskEmail(email)+"].emailOptIn", emailOptIn, Email, email)
	}
	return p.records, p.diags
}

func isPresent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// wireRecord is a consent record as JSON. Every field is raw so that one wrong field
// never hides the others; encoding/json matches the keys case-insensitively, so
// "Subscribed" and "IP" are read too.
type wireRecord struct {
	Channel    json.RawMessage `json:"channel"`
	Subscribed json.RawMessage `json:"subscribed"`
	Timestamp  json.RawMessage `json:"timestamp"`
	IP         json.RawMessage `json:"ip"`
	Source     json.RawMessage `json:"source"`
	Text       json.RawMessage `json:"text"`
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

func (p *parser) add(r Record) {
	r.MessageID = p.msg.ID
	r.MessageTime = p.msg.Time
	r.ProcessedAt = p.msg.ProcessedAt
	p.records = append(p.records, normalize(r))
}

// record reads one record object at field. implied is the channel its position gives
// (smsOptIn is SMS), empty in an optIn trait; addr is the address its position gives.
func (p *parser) record(field string, raw json.RawMessage, implied Channel, addr string) {
	raw = bytes.TrimSpace(raw)
	var w wireRecord
	if len(raw) == 0 || raw[0] != '{' {
		p.refuse(field, implied, "a consent record must be a JSON object")
		return
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		p.refuse(field, implied, "a consent record must be a JSON object: "+jsonReason(err))
		return
	}

	var r Record
	var codes [4]diag.Code // the refusals found, in rule order: C1, C2, C3, C4

	// Rule C1: the channel, named by the record or by its position.
	name, _ := stringOf(w.Channel)
	channel := Channel(strings.ToLower(strings.TrimSpace(name)))
	if implied != "" {
		if isPresent(w.Channel) && channel != implied {
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
		if !isPresent(w.Subscribed) {
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

// stringOf reads a JSON value as text: a string's contents, nothing for null or an absent
// value, and any other value's compact JSON text (so that evidence such as a numeric
// source is kept, not lost). isString reports whether it was a JSON string.
func stringOf(raw json.RawMessage) (s string, isString bool) {
	if !isPresent(raw) {
		return "", false
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, true
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw), false
	}
	return b.String(), false
}

// parseSubscribed reads subscribed as a JSON boolean or the string "true" or "false"
// (any case, surrounding spaces ignored). known is false for anything else, absent
// included: a record that does not say which way it goes is not consent either way.
func parseSubscribed(raw json.RawMessage) (subscribed, known bool) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if len(raw) == 0 || raw[0] != '"' {
		return false, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseTimestamp reads a record's timestamp with the one D4 parser. reason is empty on
// success, else says what is wrong without quoting the value.
func parseTimestamp(raw json.RawMessage) (t time.Time, reason string) {
	if !isPresent(raw) {
		return time.Time{}, "is required"
	}
	t, err := timestamp.ParseJSON(bytes.TrimSpace(raw))
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

// jsonReason describes a JSON decoding error without quoting the input.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "invalid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	}
	return "invalid JSON"
}
