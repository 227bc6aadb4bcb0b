package optin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regalkit/regalkit/diag"
	"github.com/regalkit/regalkit/identity"
	"github.com/regalkit/regalkit/internal/timestamp"
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
// ParseTrait parses afresh on every call; Segment re-sends cached traits with every
// identify, and a [ParseCache] remembers what recent inputs gave.
func ParseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	return (*ParseCache)(nil).ParseTrait(field, raw, m) // no cache: parsed afresh
}

// MaxTraitRecords is the number of records an optIn array is read for (Rule T10). A
// person gives a few (one a channel); more are a broken or hostile sender's, and each
// would cost a record in the consent history, or a diagnostic, for two bytes of input.
const MaxTraitRecords = 100

func parseTrait(field string, raw json.RawMessage, m Message) ([]Record, []diag.Diagnostic) {
	p := parser{msg: m}
	ok := readWire(raw, func(t wireText) {
		if t.s[0] != '[' {
			p.record(fieldAt{field, -1}, t, 0, "", "")
			return
		}
		p.records = make([]Record, 0, 2)
		n := 0
		elements(t, func(i, pos int, _ string) {
			if n = i + 1; i < MaxTraitRecords {
				p.record(fieldAt{field, i}, t, pos, "", "")
			}
		})
		if n > MaxTraitRecords {
			p.diags = append(p.diags, diag.Diagnostic{Code: diag.TraitLimit, Field: field, Message: fmt.Sprintf(
				"optIn holds %d records, more than the %d a value may hold: the first %d are read, the other %d refused (Rule T10)",
				n, MaxTraitRecords, MaxTraitRecords, n-MaxTraitRecords)})
		}
	})
	if !ok {
		p.refuse(field, "", "must be a consent record or an array of them, in valid JSON")
	}
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
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	if !readWire(raw, func(t wireText) { p.record(fieldAt{field, -1}, t, 0, implied, addr) }) {
		p.refuse(field, implied, "a consent record must be a JSON object, in valid JSON")
	}
}

func (p *parser) add(r Record) {
	r.MessageID = p.msg.ID
	r.MessageTime = p.msg.Time
	r.ProcessedAt = p.msg.ProcessedAt
	p.records = append(p.records, normalize(r))
}

// fieldAt names the field of a record: base, or base[i], the element i of an array,
// when i >= 0. It is printed only for a diagnostic, which few records have.
type fieldAt struct {
	base string
	i    int
}

func (f fieldAt) String() string {
	if f.i < 0 {
		return f.base
	}
	return f.base + "[" + strconv.Itoa(f.i) + "]"
}

// record reads one record at field from the value at t.b[pos:]. implied is the channel
// its position gives (smsOptIn is SMS), empty in an optIn trait; addr is the address
// its position gives.
func (p *parser) record(field fieldAt, t wireText, pos int, implied Channel, addr string) {
	if t.s[pos] != '{' {
		p.refuse(field.String(), implied, "a consent record must be a JSON object")
		return
	}
	w := readRecord(t, pos)

	var r Record
	var codes [4]diag.Code // the refusals found, in rule order: C1, C2, C3, C4

	// Rule C1: the channel, named by the record or by its position.
	name, _ := stringOf(w.channel)
	channel := Channel(strings.ToLower(strings.TrimSpace(name)))
	if implied != "" {
		if isPresentText(w.channel) && channel != implied {
			p.report(diag.OptinInvalid, field.String()+".channel", "channel must be "+string(implied)+" here, or absent; the record is refused (Rule C2)")
			codes[1] = diag.OptinInvalid
		}
		channel = implied
	}
	r.Channel = channel
	named := p.namedPhone(field, &w, channel, addr, &codes)
	switch {
	case named != "":
		addr = named
	case addr == "":
		addr = p.msg.addressFor(channel)
	}
	r.Address = addr
	for i, key := range w.others {
		if i == maxOtherKeys {
			p.report(diag.OptinInvalid, field.String(), strconv.Itoa(len(w.others)-i)+" more keys a consent record has no place for; left out")
			break
		}
		p.report(diag.OptinInvalid, field.String()+"."+diag.Mask(key),
			"a consent record holds only channel, subscribed, timestamp, ip, source, text and phone; left out")
	}

	ownIP, _ := stringOf(w.ip)
	shape := wireRecord{Channel: string(channel), IP: strings.TrimSpace(ownIP)}
	contextIP := ""
	if isIP(p.msg.IP) {
		contextIP = p.msg.IP
	}
	for _, d := range shape.check(field) {
		switch d.Code {
		case diag.OptinUnknownChannel:
			d.Message += "; the record is refused (Rule C1)"
			codes[0] = d.Code
		default: // the ip: left out, the record goes on
			d.Message += "; left out"
			if contextIP != "" {
				d.Message += ", the message's context.ip stands in"
			}
			shape.IP = ""
		}
		d.MessageID = p.msg.ID
		p.diags = append(p.diags, d)
	}

	// Rule C2: subscribed as a boolean or "true"/"false".
	subscribed, known := parseSubscribed(w.subscribed)
	if !known {
		msg := "subscribed must be true or false"
		if !isPresentText(w.subscribed) {
			msg = "subscribed is required"
		}
		p.report(diag.OptinInvalid, field.String()+".subscribed", msg+"; the record is refused (Rule C2)")
		codes[1] = diag.OptinInvalid
	}
	r.Subscribed = subscribed

	// Rule C3: a parseable timestamp.
	what := "an opt-in"
	if known && !subscribed {
		what = "an opt-out"
	}
	if ts, reason := parseTimestamp(w.timestamp); reason != "" {
		p.report(diag.OptinNoTimestamp, field.String()+".timestamp", "timestamp "+reason+"; "+what+" without a date is ignored (Rule C3)")
		codes[2] = diag.OptinNoTimestamp
	} else {
		r.Timestamp = ts
	}

	// Rule C4: an opt-in needs an IP, its own or the message's; an opt-out needs none.
	r.IP = shape.IP
	if r.IP == "" {
		r.IP = contextIP
	}
	if known && subscribed && r.IP == "" {
		p.report(diag.OptinNoIP, field.String()+".ip", "an opt-in needs an IP address, its own or the message's context.ip; the record is refused (Rule C4)")
		codes[3] = diag.OptinNoIP
	}

	r.Source, _ = stringOf(w.source)
	if src, why := ReserveSource(r.Source); why != "" {
		r.Source = src
		p.report(diag.OptinInvalid, field.String()+".source", why)
	}
	r.Text, _ = stringOf(w.text)
	for _, c := range codes {
		if c != "" {
			r.Refused = c
			break
		}
	}
	p.add(r)
}

// maxOtherKeys is how many keys a record has no place for are reported one by one; the
// rest are counted in one diagnostic, so that a record of thousands of keys does not
// make a result of thousands of diagnostics.
const maxOtherKeys = 8

// namedPhone checks the phone a record names of its own ("phone", "phoneNumber") against
// the number it binds to (Rule C5). A record whose message names no phone is about the
// number it names, which is returned. Otherwise an opt-in is consent for the number it
// names: one that names another number than its message's (or its phones entry's), one
// it cannot read, or two numbers, is refused (a wrong number's consent is worse than
// none); an opt-out is honoured where it binds without it (Rule C4), the number reported
// when it differs. On the email channel the key is reported and left out.
func (p *parser) namedPhone(field fieldAt, w *wireMembers, channel Channel, addr string, codes *[4]diag.Code) string {
	if len(w.phones) == 0 {
		return ""
	}
	path := field.String() + ".phone"
	if channel != SMS && channel != Voice {
		p.report(diag.OptinInvalid, path, "a consent record names a phone only on the sms and voice channels; left out")
		return ""
	}
	subscribed, known := parseSubscribed(w.subscribed)
	optIn := known && subscribed
	var named string
	for _, v := range w.phones {
		n, reason := p.readPhone(v)
		switch {
		case reason != "":
			code := diag.PhoneInvalid
			if optIn {
				p.report(code, path, reason+"; an opt-in for it is refused (Rule C5)")
				codes[1] = code
				return ""
			}
			p.report(code, path, reason+"; left out, the opt-out applies as if it named none")
			return ""
		case named != "" && n != named:
			p.report(diag.OptinInvalid, path, "the record names two phones; "+refusedOrHonoured(optIn, known))
			if optIn {
				codes[1] = diag.OptinInvalid
			}
			return ""
		}
		named = n
	}
	bound := cmp.Or(addr, p.msg.addressFor(channel))
	switch {
	case bound == "":
		return named // the message names no phone: the record's is the one it is about
	case named != bound:
		p.report(diag.OptinInvalid, path, "the record names "+identity.MaskPhone(named)+", not the number it applies to, "+
			identity.MaskPhone(bound)+"; "+refusedOrHonoured(optIn, known))
		if optIn {
			codes[1] = diag.OptinInvalid
		}
	}
	return ""
}

// refusedOrHonoured ends a diagnostic about a record's named phone.
func refusedOrHonoured(optIn, known bool) string {
	switch {
	case optIn:
		return "the opt-in is refused (Rule C5)"
	case !known:
		return "the record is refused for its subscribed (Rule C2)"
	}
	return "the opt-out is honoured where it applies (Rule C4)"
}

// readPhone reads a phone a record names, a string or a number (Rule T8), in the
// message's region: its E.164, or why it cannot be read.
func (p *parser) readPhone(v string) (string, string) {
	s, ok := stringOf(v)
	if !ok && v != "" && strings.Trim(v, "0123456789") == "" {
		s, ok = v, true // a whole number, digit for digit (Rule T8)
	}
	if !ok {
		return "", "phone must be a string or a whole number"
	}
	n, err := identity.ParsePhone(s, cmp.Or(p.msg.Region, "US"))
	if err != nil {
		return "", err.Error()
	}
	return n.E164, ""
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
